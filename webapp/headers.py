"""Security headers on every response. The app loads nothing from elsewhere, so the policy is
"self" only; the few inline scripts carry a per-request nonce (`csp_nonce()` in templates)."""
from __future__ import annotations

import secrets

from flask import Flask, request


def csp_nonce() -> str:
    """This request's script nonce, made on first use (kept in the request, not in `g`, which a
    test's app context shares between requests)."""
    return request.environ.setdefault("crm.csp_nonce", secrets.token_urlsafe(16))


def install(app: Flask, *, production: bool) -> None:
    """Add the headers to every response (pages, files, JSON, errors); HSTS in production only,
    where the proxy serves HTTPS (a developer's http://127.0.0.1 must keep working)."""
    app.jinja_env.globals["csp_nonce"] = csp_nonce

    @app.after_request
    def _headers(response):
        h = response.headers
        h.setdefault("Content-Security-Policy", (
            f"default-src 'self'; script-src 'self' 'nonce-{csp_nonce()}'; "
            # style attributes in a few templates; styles cannot run code
            "style-src 'self' 'unsafe-inline'; img-src 'self' data:; object-src 'none'; "
            "base-uri 'self'; form-action 'self'; frame-ancestors 'none'"))
        h.setdefault("X-Frame-Options", "DENY")
        h.setdefault("X-Content-Type-Options", "nosniff")
        h.setdefault("Referrer-Policy", "same-origin")
        h.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        if production:
            h.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        h.remove("Server")  # no software or version named (gunicorn itself sends only "gunicorn")
        return response
