"""E-mail through SMTP, configured by the environment only (the password never reaches the
database or a log): SMTP_HOST, SMTP_PORT (587), SMTP_USER, SMTP_PASSWORD, SMTP_FROM,
SMTP_STARTTLS (1 = STARTTLS before login, the default; 0 = plain, e.g. a local relay).
The answer is a `sms.Result`: sent / retry (4xx, network) / failed (5xx, refused address)."""
from __future__ import annotations

import os
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from .sms import Result


def configured(environ=None) -> bool:
    environ = environ if environ is not None else os.environ
    return bool((environ.get("SMTP_HOST") or "").strip() and (environ.get("SMTP_FROM") or "").strip())


def send(*, to: str, subject: str, text: str, message_id: str | None = None, environ=None,
         timeout: float = 10.0) -> Result:
    """Send one plain-text e-mail; never raises."""
    environ = environ if environ is not None else os.environ
    if not configured(environ):
        return Result("failed", error="SMTP_HOST / SMTP_FROM not set")
    sender = environ["SMTP_FROM"].strip()
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, to, subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = message_id or make_msgid(domain=sender.rpartition("@")[2] or None)
    message.set_content(text)
    try:
        with smtplib.SMTP(environ["SMTP_HOST"].strip(), int(environ.get("SMTP_PORT") or 587),
                          timeout=timeout) as smtp:
            if (environ.get("SMTP_STARTTLS") or "1").strip() not in ("0", "false", "no"):
                smtp.starttls(context=ssl.create_default_context())
            if (environ.get("SMTP_USER") or "").strip():
                smtp.login(environ["SMTP_USER"].strip(), environ.get("SMTP_PASSWORD") or "")
            smtp.send_message(message)
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _msg in exc.recipients.values()]
        temporary = all(400 <= code < 500 for code in codes)
        return Result("retry" if temporary else "failed", error=f"refused: {codes}"[:200])
    except smtplib.SMTPResponseException as exc:
        return Result("retry" if 400 <= exc.smtp_code < 500 else "failed",
                      error=f"SMTP {exc.smtp_code}: {exc.smtp_error!r}"[:200])
    except (smtplib.SMTPException, OSError, ValueError) as exc:
        return Result("retry", error=f"{type(exc).__name__}: {exc}"[:200])
    return Result("sent", provider_id=message["Message-ID"])
