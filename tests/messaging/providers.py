"""Local HTTP servers that speak the SMS providers' API shapes and check each request's signature
as the provider documents it (Aliyun ACS3-HMAC-SHA256, Tencent TC3-HMAC-SHA256); loopback only."""
from __future__ import annotations

import hashlib
import hmac
import json
import threading
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, quote, urlsplit

ALIYUN_ID, ALIYUN_SECRET = "LTAI-test", "aliyun-secret"
TENCENT_ID, TENCENT_SECRET = "AKID-test", "tencent-secret"


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _hmac(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def aliyun_signature_ok(method: str, path: str, headers, body: bytes) -> bool:
    """ACS3-HMAC-SHA256 (Alibaba Cloud API signature V3)."""
    auth = headers.get("Authorization", "")
    if not auth.startswith("ACS3-HMAC-SHA256 "):
        return False
    fields = dict(part.split("=", 1) for part in auth[len("ACS3-HMAC-SHA256 "):].split(","))
    if fields.get("Credential") != ALIYUN_ID:
        return False
    url = urlsplit(path)
    query = "&".join(f"{quote(k, safe='~')}={quote(v, safe='~')}"
                     for k, v in sorted(parse_qsl(url.query, keep_blank_values=True)))
    signed = fields["SignedHeaders"].split(";")
    canonical_headers = "".join(f"{h}:{headers.get(h, '').strip()}\n" for h in signed)
    payload = headers.get("x-acs-content-sha256", "")
    if payload != _sha(body):
        return False
    canonical = "\n".join([method, url.path or "/", query, canonical_headers,
                           fields["SignedHeaders"], payload])
    expected = hmac.new(ALIYUN_SECRET.encode(), ("ACS3-HMAC-SHA256\n" + _sha(canonical.encode()))
                        .encode(), hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, fields.get("Signature", ""))


def tencent_signature_ok(method: str, path: str, headers, body: bytes) -> bool:
    """TC3-HMAC-SHA256 (Tencent Cloud API 3.0 signature v3)."""
    auth = headers.get("Authorization", "")
    if not auth.startswith("TC3-HMAC-SHA256 "):
        return False
    fields = dict(p.strip().split("=", 1) for p in auth[len("TC3-HMAC-SHA256 "):].split(","))
    secret_id, day, service, _ = fields["Credential"].split("/")
    timestamp = int(headers.get("X-TC-Timestamp", "0"))
    if secret_id != TENCENT_ID or service != "sms" or \
            datetime.fromtimestamp(timestamp, timezone.utc).strftime("%Y-%m-%d") != day:
        return False
    signed = fields["SignedHeaders"].split(";")
    canonical_headers = "".join(f"{h}:{headers.get(h, '').strip().lower()}\n" for h in signed)
    url = urlsplit(path)
    canonical = "\n".join([method, url.path or "/", url.query, canonical_headers,
                           fields["SignedHeaders"], _sha(body)])
    to_sign = "\n".join(["TC3-HMAC-SHA256", str(timestamp), f"{day}/{service}/tc3_request",
                         _sha(canonical.encode())])
    key = _hmac(_hmac(_hmac(("TC3" + TENCENT_SECRET).encode(), day), service), "tc3_request")
    expected = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, fields.get("Signature", ""))


class ProviderServer:
    """One provider's API on 127.0.0.1; `answers` is a list of what to answer next
    ("ok", "throttle", "fail", "5xx"), the last one repeating; `requests` what arrived."""

    def __init__(self, provider: str):
        self.provider, self.answers, self.requests = provider, ["ok"], []
        self.bad_signatures = 0
        self.received = threading.Event()   # set when a send arrives
        self.release = threading.Event()    # the answer waits for this
        self.release.set()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                check = aliyun_signature_ok if server.provider == "aliyun" else tencent_signature_ok
                if not check(self.command, self.path, self.headers, body):
                    server.bad_signatures += 1
                    # Aliyun answers 400 IncompleteSignature; Tencent 200 with Response.Error
                    return self._json(400 if server.provider == "aliyun" else 200,
                                      server._error("SignatureDoesNotMatch"))
                request = (dict(parse_qsl(urlsplit(self.path).query)) if server.provider == "aliyun"
                           else json.loads(body))
                server.requests.append(request)
                server.received.set()
                server.release.wait(10)
                answer = server.answers.pop(0) if len(server.answers) > 1 else server.answers[0]
                if answer == "5xx":
                    return self._json(503, {"Message": "Service Unavailable"})
                return self._json(200, server._answer(answer, len(server.requests)))

            def _json(self, status: int, data: dict):
                out = json.dumps(data).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def _error(self, code: str) -> dict:
        if self.provider == "aliyun":
            return {"Code": code, "Message": code, "RequestId": "r"}
        return {"Response": {"Error": {"Code": "AuthFailure.SignatureFailure", "Message": code},
                             "RequestId": "r"}}

    def _answer(self, answer: str, n: int) -> dict:
        if self.provider == "aliyun":
            code = {"ok": "OK", "throttle": "isv.BUSINESS_LIMIT_CONTROL",
                    "fail": "isv.MOBILE_NUMBER_ILLEGAL"}[answer]
            return {"Code": code, "Message": code, "BizId": f"biz-{n}" if code == "OK" else None,
                    "RequestId": f"req-{n}"}
        code = {"ok": "Ok", "throttle": "LimitExceeded.PhoneNumberDailyLimit",
                "fail": "InvalidParameterValue.IncorrectPhoneNumber"}[answer]
        return {"Response": {"SendStatusSet": [{"SerialNo": f"serial-{n}", "Code": code,
                                                "Message": code, "PhoneNumber": "+86", "Fee": 1,
                                                "SessionContext": "", "IsoCode": "CN"}],
                             "RequestId": f"req-{n}"}}

    def environ(self, templates: dict | None = None) -> dict:
        """The environment that points the adapter at this server."""
        mapping = json.dumps(templates or {"welcome_temporary": {"code": "SMS_100", "params": [
            "salutation", "points"]}, "welcome_formal": {"code": "SMS_101", "params": ["salutation", "points"]},
            "season_launch": {"code": "SMS_200", "params": ["salutation"]}})
        if self.provider == "aliyun":
            return {"SMS_PROVIDER": "aliyun", "ALIYUN_ACCESS_KEY_ID": ALIYUN_ID,
                    "ALIYUN_ACCESS_KEY_SECRET": ALIYUN_SECRET, "ALIYUN_SMS_SIGN_NAME": "某男装",
                    "ALIYUN_SMS_ENDPOINT": f"http://127.0.0.1:{self.port}", "SMS_TEMPLATES": mapping}
        return {"SMS_PROVIDER": "tencent", "TENCENTCLOUD_SECRET_ID": TENCENT_ID,
                "TENCENTCLOUD_SECRET_KEY": TENCENT_SECRET, "TENCENT_SMS_APP_ID": "1400000001",
                "TENCENT_SMS_SIGN_NAME": "某男装", "TENCENT_SMS_ENDPOINT": f"http://127.0.0.1:{self.port}",
                "SMS_TEMPLATES": mapping}

    def close(self):
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()
