"""Group robots where store staff already are: WeCom (企业微信) and DingTalk (钉钉) group webhooks.

One short markdown message per call; DingTalk's signed robots get `timestamp` and `sign`
(HMAC-SHA256 of "timestamp\\nsecret", base64, URL-encoded) as DingTalk documents. The answer is
sent / retry (5xx, throttled, network) / failed; a dead webhook never raises. Below the services.
(The registration of robots per store / area / HQ and the posting of tasks are not built yet.)
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import json
import urllib.error
import urllib.request
from urllib.parse import quote, urlsplit

from .sms import Result

KINDS = ("wecom", "dingtalk")
# WeCom / DingTalk "too many messages" codes: try again later
_THROTTLED = {45009, 130101, 410100}


def check_url(url: str) -> str:
    """The webhook URL, or ValueError: https, or plain http to a loopback test receiver."""
    parts = urlsplit(url or "")
    if parts.scheme == "https" and parts.hostname:
        return url
    if parts.scheme == "http":
        try:
            if ipaddress.ip_address(parts.hostname or "").is_loopback:
                return url
        except ValueError:
            pass
    raise ValueError("webhook URL must be https://")


def dingtalk_signed(url: str, secret: str, timestamp_ms: int) -> str:
    """The URL with DingTalk's timestamp and signature added."""
    digest = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    sign = quote(base64.b64encode(digest).decode(), safe="")
    return f"{url}{'&' if '?' in url else '?'}timestamp={timestamp_ms}&sign={sign}"


def post(*, kind: str, url: str, text: str, title: str = "", secret: str = "",
         timestamp_ms: int, timeout: float = 5.0) -> Result:
    """Post one markdown message to a group robot."""
    url = check_url(url)
    if kind == "wecom":
        body = {"msgtype": "markdown", "markdown": {"content": text}}
    elif kind == "dingtalk":
        body = {"msgtype": "markdown", "markdown": {"title": title or text[:20], "text": text}}
        if secret:
            url = dingtalk_signed(url, secret, timestamp_ms)
    else:
        return Result("failed", error=f"unknown robot kind {kind}")
    request = urllib.request.Request(url, data=json.dumps(body, ensure_ascii=False).encode(),
                                     headers={"Content-Type": "application/json; charset=utf-8"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - checked
            answer = json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as exc:
        return Result("retry" if exc.code >= 500 or exc.code == 429 else "failed",
                      error=f"HTTP {exc.code}")
    except (urllib.error.URLError, TimeoutError, OSError, ValueError) as exc:
        return Result("retry", error=str(exc)[:200])
    code = answer.get("errcode", 0)
    if code == 0:
        return Result("sent")
    return Result("retry" if code in _THROTTLED else "failed",
                  error=f"{code}: {answer.get('errmsg', '')}"[:200])
