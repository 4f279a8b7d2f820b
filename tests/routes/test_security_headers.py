"""Every response carries the security headers; inline scripts run only with this request's nonce."""
import re

import pytest

PATHS = ["/login", "/", "/no-such-page", "/static/app.css", "/healthz", "/api/v1/openapi.json",
         "/api/v1/sales"]


@pytest.mark.parametrize("path", PATHS)
def test_headers_on_every_kind_of_response(app, client, path):
    response = client.get(path)
    h = response.headers
    csp = h["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "object-src 'none'" in csp and "'unsafe-inline'" not in csp.split("script-src")[1].split(";")[0]
    assert h["X-Frame-Options"] == "DENY"
    assert h["X-Content-Type-Options"] == "nosniff"
    assert h["Referrer-Policy"] == "same-origin"
    assert "Server" not in h
    assert "Strict-Transport-Security" not in h  # plain http on a developer's machine


def test_inline_scripts_carry_the_nonce_and_pages_have_no_inline_handlers(org, login):
    from tests.factories import member_data
    from webapp.services.registration import register

    case = register(actor=org["assoc1"], store=org.stores[0], data=member_data(org["assoc1"]))
    client = login("assoc1")
    response = client.get(f"/cases/{case.id}")
    body = response.get_data(as_text=True)
    nonce = re.search(r"'nonce-([^']+)'", response.headers["Content-Security-Policy"]).group(1)
    scripts = re.findall(r"<script([^>]*)>", body)
    assert scripts and all(f'nonce="{nonce}"' in s or "src=" in s for s in scripts)
    assert not re.search(r"\son[a-z]+=", body)
    assert client.get(f"/cases/{case.id}").headers["Content-Security-Policy"] != response.headers[
        "Content-Security-Policy"]  # a fresh nonce per response


def test_hsts_in_production(app):
    from webapp import headers

    from flask import Flask

    prod = Flask("prod")
    headers.install(prod, production=True)
    prod.add_url_rule("/", "x", lambda: "ok")
    h = prod.test_client().get("/").headers
    assert h["Strict-Transport-Security"].startswith("max-age=31536000")
