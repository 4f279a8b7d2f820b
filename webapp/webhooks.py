"""Outgoing webhooks: one signed JSON post to another system.

Headers: X-CRM-Event, X-CRM-Delivery (stable across retries: drop duplicates by it),
X-CRM-Timestamp (Unix seconds) and X-CRM-Signature: "sha256=" + hex HMAC-SHA256 with the
webhook's secret over "<timestamp>.<raw body>". A receiver recomputes it over the bytes it got
and refuses a timestamp more than 5 minutes away (replays). 2xx = delivered; 5xx, 429, a
timeout or a network error = try again later; any other answer = failed."""
from __future__ import annotations

import hashlib
import hmac
import json
import urllib.error
import urllib.request

from .robots import check_url
from .sms import Result


def body_bytes(payload: dict) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()


def signature(secret: str, timestamp: int, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), f"{timestamp}.".encode() + body,
                                hashlib.sha256).hexdigest()


def verify(secret: str, timestamp: str, body: bytes, header: str) -> bool:
    """What a receiver does (and the tests): constant-time comparison of the signature."""
    return hmac.compare_digest(signature(secret, int(timestamp), body), header or "")


def post(*, url: str, secret: str, event: str, delivery_id: str, payload: dict, timestamp: int,
         timeout: float = 5.0) -> Result:
    """Post one event; never raises."""
    try:
        url = check_url(url)
    except ValueError as exc:
        return Result("failed", error=str(exc))
    body = body_bytes(payload)
    request = urllib.request.Request(url, data=body, method="POST", headers={
        "Content-Type": "application/json; charset=utf-8", "User-Agent": "crm-webhooks/1",
        "X-CRM-Event": event, "X-CRM-Delivery": delivery_id, "X-CRM-Timestamp": str(timestamp),
        "X-CRM-Signature": signature(secret or "", timestamp, body)})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - checked
            response.read(1024)
            return Result("sent", provider_id=str(response.status))
    except urllib.error.HTTPError as exc:
        return Result("retry" if exc.code >= 500 or exc.code == 429 else "failed",
                      error=f"HTTP {exc.code}")
    except (urllib.error.URLError, TimeoutError, OSError, ValueError) as exc:
        return Result("retry", error=str(exc)[:200])
