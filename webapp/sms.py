"""Sending SMS through a provider: the sender interface, the Alibaba Cloud and Tencent Cloud
adapters (their official SDKs), and the after-commit nudge that starts the sending job.

Chosen and configured by environment variables only (keys never reach the database or a log):
SMS_PROVIDER=outbox (default: nothing leaves, the outbox records) | aliyun | tencent;
SMS_TEMPLATES (JSON: our template key → the provider's template code, and for Tencent the order
of its parameters). See README "SMS providers". Below the services: no commit here.
"""
from __future__ import annotations

import ipaddress
import json
import logging
import os
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from redis.exceptions import RedisError
from sqlalchemy import event

from .extensions import db

log = logging.getLogger(__name__)
SEND_JOB = "jobs.messaging.send_queued"


@dataclass(frozen=True)
class Outgoing:
    """What a provider needs for one message (the idempotency key is ours, sent along)."""
    key: str
    mobile: str
    template: str
    text: str
    params: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Result:
    """sent (with the provider's id) / retry (temporary: throttled, 5xx, timeout) / failed."""
    outcome: str
    provider_id: str = ""
    error: str = ""


class ConfigError(RuntimeError):
    """The provider's environment is incomplete or unsafe."""


def _env(name: str, environ) -> str:
    value = (environ.get(name) or "").strip()
    if not value:
        raise ConfigError(f"{name} is not set")
    return value


def _endpoint(value: str) -> tuple[str, str]:
    """host[:port] and protocol; plain http only to a loopback test server."""
    parts = urlsplit(value if "://" in value else "https://" + value)
    if parts.scheme == "http":
        try:
            loopback = ipaddress.ip_address(parts.hostname or "").is_loopback
        except ValueError:
            loopback = parts.hostname == "localhost"
        if not loopback:
            raise ConfigError("plain http is allowed only to a loopback test server")
    elif parts.scheme != "https":
        raise ConfigError("endpoint must be https://")
    return parts.netloc, parts.scheme


def _template_map(environ) -> dict:
    try:
        mapping = json.loads(environ.get("SMS_TEMPLATES") or "{}")
    except ValueError as exc:
        raise ConfigError("SMS_TEMPLATES is not JSON") from exc
    if not isinstance(mapping, dict):
        raise ConfigError("SMS_TEMPLATES must be a JSON object")
    return mapping


def _code(mapping: dict, template: str):
    entry = mapping.get(template)
    if entry is None:
        return None
    return entry if isinstance(entry, dict) else {"code": str(entry)}


class AliyunSender:
    """Alibaba Cloud SMS (dysmsapi 2017-05-25) through alibabacloud_dysmsapi20170525."""
    name = "aliyun"

    def __init__(self, environ):
        from alibabacloud_dysmsapi20170525.client import Client
        from alibabacloud_tea_openapi import models as open_api

        host, protocol = _endpoint(environ.get("ALIYUN_SMS_ENDPOINT") or "dysmsapi.aliyuncs.com")
        self.client = Client(open_api.Config(
            access_key_id=_env("ALIYUN_ACCESS_KEY_ID", environ),
            access_key_secret=_env("ALIYUN_ACCESS_KEY_SECRET", environ),
            endpoint=host, protocol=protocol))
        self.sign_name = _env("ALIYUN_SMS_SIGN_NAME", environ)
        self.templates = _template_map(environ)

    def send(self, message: Outgoing) -> Result:
        from alibabacloud_dysmsapi20170525 import models
        from alibabacloud_tea_util import models as util

        entry = _code(self.templates, message.template)
        if entry is None:
            return Result("failed", error=f"no Aliyun template code for {message.template}")
        request = models.SendSmsRequest(
            phone_numbers=message.mobile, sign_name=entry.get("sign") or self.sign_name,
            template_code=entry["code"], out_id=message.key,
            template_param=json.dumps({k: str(v) for k, v in message.params.items()},
                                      ensure_ascii=False))
        try:
            body = self.client.send_sms_with_options(request, util.RuntimeOptions(
                autoretry=False, connect_timeout=5000, read_timeout=10000)).body
        except Exception as exc:  # noqa: BLE001 - the SDK raises its own kinds for HTTP and network
            return _classify(exc)
        if body.code == "OK":
            return Result("sent", provider_id=body.biz_id or "")
        temporary = body.code in {"isv.BUSINESS_LIMIT_CONTROL", "Throttling.User", "isp.SYSTEM_ERROR"}
        return Result("retry" if temporary else "failed", error=f"{body.code}: {body.message}"[:200])


class TencentSender:
    """Tencent Cloud SMS (2021-01-11) through tencentcloud-sdk-python-sms."""
    name = "tencent"

    def __init__(self, environ):
        from tencentcloud.common import credential
        from tencentcloud.common.profile.client_profile import ClientProfile
        from tencentcloud.common.profile.http_profile import HttpProfile
        from tencentcloud.sms.v20210111 import sms_client

        host, protocol = _endpoint(environ.get("TENCENT_SMS_ENDPOINT") or "sms.tencentcloudapi.com")
        profile = ClientProfile(httpProfile=HttpProfile(protocol=protocol, endpoint=host, reqTimeout=10))
        self.client = sms_client.SmsClient(
            credential.Credential(_env("TENCENTCLOUD_SECRET_ID", environ),
                                  _env("TENCENTCLOUD_SECRET_KEY", environ)),
            environ.get("TENCENT_SMS_REGION") or "ap-guangzhou", profile)
        self.app_id = _env("TENCENT_SMS_APP_ID", environ)
        self.sign_name = _env("TENCENT_SMS_SIGN_NAME", environ)
        self.templates = _template_map(environ)

    def send(self, message: Outgoing) -> Result:
        from tencentcloud.sms.v20210111 import models

        entry = _code(self.templates, message.template)
        if entry is None:
            return Result("failed", error=f"no Tencent template id for {message.template}")
        request = models.SendSmsRequest()
        request.from_json_string(json.dumps({
            "PhoneNumberSet": ["+86" + message.mobile], "SmsSdkAppId": self.app_id,
            "SignName": entry.get("sign") or self.sign_name, "TemplateId": entry["code"],
            # Tencent templates number their blanks {1} {2}…: the mapping says which value goes where
            "TemplateParamSet": [str(message.params.get(k, "")) for k in entry.get("params", [])],
            "SessionContext": message.key}))
        try:
            status = self.client.SendSms(request).SendStatusSet[0]
        except Exception as exc:  # noqa: BLE001
            return _classify(exc)
        if status.Code == "Ok":
            return Result("sent", provider_id=status.SerialNo or "")
        temporary = status.Code.startswith("LimitExceeded") or status.Code.startswith("InternalError")
        return Result("retry" if temporary else "failed", error=f"{status.Code}: {status.Message}"[:200])


def _classify(exc: Exception) -> Result:
    """An exception from an SDK: throttling, a 5xx or the network is temporary; the rest is not."""
    text = str(exc)
    code = str(getattr(exc, "code", "") or getattr(exc, "get_code", lambda: "")() or "")
    status = getattr(exc, "statusCode", None) or (getattr(exc, "data", None) or {}).get("statusCode")
    temporary = (
        (isinstance(status, int) and (status >= 500 or status == 429))
        or any(word in (code + text) for word in ("Throttling", "LimitExceeded", "InternalError",
                                                  "ServiceUnavailable", "timed out", "Connection",
                                                  "ServerError", "RequestLimitExceeded", "NetworkError"))
        or not code and not status)
    return Result("retry" if temporary else "failed", error=f"{code or type(exc).__name__}: {text}"[:200])


SENDERS = {"aliyun": AliyunSender, "tencent": TencentSender}


def provider_name(environ=None) -> str:
    """The configured provider, "outbox" when none: then nothing leaves, the outbox records."""
    name = ((environ if environ is not None else os.environ).get("SMS_PROVIDER") or "outbox").strip()
    return name if name in SENDERS else "outbox"


def sender(environ=None):
    """The configured sender, or None for the outbox-only default."""
    environ = environ if environ is not None else os.environ
    name = provider_name(environ)
    return SENDERS[name](environ) if name in SENDERS else None


# ------------------------------------------------------------------ after-commit nudge

def send_after_commit(*, mail: bool = False) -> None:
    """Start the sending job once this transaction commits (a lost nudge: the sweeper sends);
    mail=True: an e-mail was queued and SMTP is set (the job sends it whatever the SMS provider)."""
    db.session.info["mail_pending" if mail else "sms_pending"] = True


def install_session_hooks() -> None:
    """Wire the after-commit/rollback listeners once per process."""
    if getattr(install_session_hooks, "done", False):
        return
    event.listen(db.session, "after_commit", _after_commit)
    event.listen(db.session, "after_rollback",
                 lambda s: (s.info.pop("sms_pending", None), s.info.pop("mail_pending", None)))
    install_session_hooks.done = True


def _after_commit(session) -> None:
    sms_due = session.info.pop("sms_pending", None) and provider_name() != "outbox"
    # the same job sends the outbox's e-mails (outbox.queue_email asks when SMTP is set)
    if session.info.pop("mail_pending", None) or sms_due:
        from .queue import queue

        try:
            queue().enqueue(SEND_JOB, result_ttl=60, failure_ttl=3600)
        except RedisError as exc:
            log.warning("could not start the SMS job: %s", exc)


# ------------------------------------------------------------------ signed callback URLs

def callback_token(provider: str, kind: str) -> str:
    """The secret part of a callback URL (/sms/<kind>/<provider>/<token>) given to the provider's
    console; from SMS_CALLBACK_SECRET (else the app's secret key), never stored."""
    import hashlib
    import hmac

    from flask import current_app

    secret = os.environ.get("SMS_CALLBACK_SECRET") or current_app.config["SECRET_KEY"]
    return hmac.new(str(secret).encode(), f"sms-{kind}:{provider}".encode(),
                    hashlib.sha256).hexdigest()[:40]
