"""Group robots against a local receiver that speaks WeCom's and DingTalk's webhook shapes and
checks DingTalk's signature as DingTalk documents it."""
import base64
import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from webapp import robots

SECRET = "SEC-test-secret"
NOW_MS = 1795960000000


class Receiver:
    def __init__(self):
        self.posts, self.answers = [], ["ok"]
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["content-length"])))
                url = urlsplit(self.path)
                answer = receiver.answers.pop(0) if len(receiver.answers) > 1 else receiver.answers[0]
                if url.path == "/robot/send":                       # DingTalk
                    query = {k: v[0] for k, v in parse_qs(url.query).items()}
                    digest = hmac.new(SECRET.encode(), f"{query.get('timestamp')}\n{SECRET}".encode(),
                                      hashlib.sha256).digest()
                    if query.get("sign") != base64.b64encode(digest).decode():
                        return self._json(200, {"errcode": 310000, "errmsg": "sign not match"})
                receiver.posts.append((url.path, body))
                if answer == "5xx":
                    return self._json(502, {})
                if answer == "throttle":
                    return self._json(200, {"errcode": 45009, "errmsg": "api freq out of limit"})
                return self._json(200, {"errcode": 0, "errmsg": "ok"})

            def _json(self, status, data):
                out = json.dumps(data).encode()
                self.send_response(status)
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.httpd.shutdown()
    r.httpd.server_close()


def test_wecom_markdown_and_a_retry_after_a_5xx_or_throttling(receiver):
    url = f"{receiver.base}/cgi-bin/webhook/send?key=abc"
    receiver.answers = ["5xx", "throttle", "ok"]
    assert robots.post(kind="wecom", url=url, text="**新的紧急待办**", timestamp_ms=NOW_MS).outcome == "retry"
    assert robots.post(kind="wecom", url=url, text="**新的紧急待办**", timestamp_ms=NOW_MS).outcome == "retry"
    assert robots.post(kind="wecom", url=url, text="**新的紧急待办**", timestamp_ms=NOW_MS).outcome == "sent"
    assert receiver.posts[-1] == ("/cgi-bin/webhook/send",
                                  {"msgtype": "markdown", "markdown": {"content": "**新的紧急待办**"}})


def test_dingtalk_is_signed_and_a_wrong_secret_fails(receiver):
    url = f"{receiver.base}/robot/send?access_token=t"
    result = robots.post(kind="dingtalk", url=url, text="今日待办", title="待办", secret=SECRET,
                         timestamp_ms=NOW_MS)
    assert result.outcome == "sent" and receiver.posts[0][1]["markdown"]["title"] == "待办"
    result = robots.post(kind="dingtalk", url=url, text="今日待办", secret="wrong", timestamp_ms=NOW_MS)
    assert result.outcome == "failed" and "310000" in result.error and len(receiver.posts) == 1


def test_a_dead_webhook_never_raises_and_plain_http_only_to_loopback():
    result = robots.post(kind="wecom", url="http://127.0.0.1:9/dead", text="x", timestamp_ms=NOW_MS)
    assert result.outcome == "retry"
    with pytest.raises(ValueError):
        robots.check_url("http://qyapi.example.com/cgi-bin/webhook/send")


def test_dingtalk_signature_matches_an_independent_published_vector():
    # the vector of another implementation of DingTalk's documented algorithm (the Rust crate
    # `dingding`, src/signature.rs): timestamp 1700000000000, secret "secret"
    url = robots.dingtalk_signed("https://oapi.dingtalk.com/robot/send?access_token=t", "secret",
                                 1700000000000)
    assert url.endswith("&timestamp=1700000000000"
                        "&sign=OuzzJR5%2BxZ4%2FEYwqtNt6sMYZQMTa%2FHEGvc9miJe7XzY%3D")
