"""Real local peers for messages that leave the building: an HTTP receiver that speaks WeCom's
and DingTalk's group-robot webhooks (checks DingTalk's signature and WeCom's body shape) and
takes outgoing webhook calls (checks their signature), answering 200 / 500 / a timeout as told;
and an SMTP server (aiosmtpd)."""
import base64
import hashlib
import hmac
import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from webapp import webhooks

DING_SECRET = "SEC-local-test-secret"


class Receiver:
    """answers: a list consumed per request ("ok", "5xx", "timeout"); the last one stays."""

    def __init__(self):
        self.requests, self.accepted, self.answers = [], [], ["ok"]
        self.webhook_secret, self.problems = "", []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                raw = self.rfile.read(int(self.headers["content-length"]))
                url = urlsplit(self.path)
                with receiver.lock:
                    answer = (receiver.answers.pop(0) if len(receiver.answers) > 1
                              else receiver.answers[0])
                    receiver.requests.append((url.path, raw, self.headers))
                problem = receiver.check(url, raw, self.headers)
                if problem:
                    receiver.problems.append(problem)
                    return self._json(200 if "/robot" in url.path or "/cgi-bin" in url.path else 401,
                                      {"errcode": 310000, "errmsg": problem})
                if answer == "timeout":
                    time.sleep(1.5)
                    return self._json(200, {"errcode": 0})
                if answer == "5xx":
                    return self._json(500, {"errcode": -1, "errmsg": "busy"})
                with receiver.lock:
                    receiver.accepted.append((url.path, json.loads(raw), self.headers))
                return self._json(200, {"errcode": 0, "errmsg": "ok"})

            def _json(self, status, data):
                out = json.dumps(data).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Length", str(len(out)))
                    self.end_headers()
                    self.wfile.write(out)
                except OSError:  # the client gave up (timeout)
                    pass

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.wecom_url = f"{self.base}/cgi-bin/webhook/send?key=local-key-1234"
        self.dingtalk_url = f"{self.base}/robot/send?access_token=local-token-5678"
        self.webhook_url = f"{self.base}/hooks/crm"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def check(self, url, raw, headers) -> str:
        body = json.loads(raw)
        if url.path == "/robot/send":  # DingTalk: signed URL, markdown with title and text
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            digest = hmac.new(DING_SECRET.encode(),
                              f"{query.get('timestamp')}\n{DING_SECRET}".encode(),
                              hashlib.sha256).digest()
            if query.get("sign") != base64.b64encode(digest).decode():
                return "sign not match"
            if body.get("msgtype") != "markdown" or not body["markdown"].get("title") \
                    or not body["markdown"].get("text"):
                return "bad dingtalk body"
        elif url.path == "/cgi-bin/webhook/send":  # WeCom: markdown content only
            if body.get("msgtype") != "markdown" or set(body["markdown"]) != {"content"}:
                return "bad wecom body"
        elif url.path == "/hooks/crm":
            if not webhooks.verify(self.webhook_secret, headers.get("X-CRM-Timestamp"), raw,
                                   headers.get("X-CRM-Signature")):
                return "bad signature"
        return ""

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


class Mailbox:
    """A local SMTP server (aiosmtpd) keeping what it receives."""

    def __init__(self):
        from aiosmtpd.controller import Controller

        self.messages = []
        box = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):
                box.messages.append((envelope.rcpt_tos, envelope.content.decode("utf-8", "replace")))
                return "250 OK"

        with socket.socket() as probe:  # a free port (aiosmtpd's start-up check needs a real one)
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def environ(self) -> dict:
        return {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(self.port), "SMTP_STARTTLS": "0",
                "SMTP_FROM": "crm@example.com"}

    def close(self):
        self.controller.stop()
