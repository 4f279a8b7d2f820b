"""Browser fixtures: the test app served over real HTTP (CSRF on) and Debian's Chromium.

Never downloads browsers: Playwright drives /usr/bin/chromium. Each test serves the app on a free
port of its own, so browser tests run in any xdist worker. The server thread shares the test's
controlled clock (tests/conftest.py); Chromium keeps the real one. Using `live_server` implies
the `commits` marker: the server thread's sessions have their own connections, so the test's
rows are committed, and the tables emptied afterwards.
"""
from __future__ import annotations

import shutil
import threading
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCREENS = ROOT / "artifacts" / "screens"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]


@pytest.fixture
def live_server(app, org):
    """Base URL of the app served by werkzeug in a background thread, with CSRF enabled.

    `org` has committed its rows before the first request; each request gets its own app context
    (and therefore its own SQLAlchemy session) in the server thread."""
    from werkzeug.serving import make_server

    from webapp.extensions import db

    db.session.commit()
    saved = app.config.get("WTF_CSRF_ENABLED")
    app.config["WTF_CSRF_ENABLED"] = True
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        app.config["WTF_CSRF_ENABLED"] = saved
        _stop(server, thread)


def _stop(server, thread, seconds: float = 10) -> None:
    """Stop the live server, failing the test instead of waiting for ever: socketserver's
    shutdown() waits without a time limit for serve_forever's loop to notice."""
    stopper = threading.Thread(target=server.shutdown, name="live-server-stop", daemon=True)
    stopper.start()
    stopper.join(seconds)
    thread.join(seconds)
    server.server_close()
    if stopper.is_alive() or thread.is_alive():
        pytest.fail(f"the live server did not stop within {seconds:g} s")


@pytest.fixture
def pdf_fonts(tmp_path, monkeypatch):
    """Reuse an up-to-date font subset from instance/fonts (a copy, never written) instead of
    building one (~10 s) into the throw-away test instance directory. A no-op when there is
    no such subset (or no renderer yet): the renderer then builds its fonts as usual."""
    prebuilt = ROOT / "instance" / "fonts"
    try:
        from webapp import pdf

        usable = pdf._load_builder().is_up_to_date(prebuilt, ("regular",))
    except Exception:  # noqa: BLE001 - renderer missing or changed; the test will tell
        usable = False
    if not usable:
        yield
        return
    copy = tmp_path / "fonts"
    shutil.copytree(prebuilt, copy, ignore=shutil.ignore_patterns("*.lock", "*.tmp"))
    reset = getattr(pdf, "_reset_stylesheets", lambda: None)
    monkeypatch.setattr(pdf, "FONT_DIR", copy)
    monkeypatch.setattr(pdf, "_fonts_ready", False, raising=False)
    reset()
    yield
    reset()


@pytest.fixture
def browser_context():
    """A fresh Chromium context (desktop size, zh-CN); phone-width pages get their own."""
    from playwright.sync_api import sync_playwright

    SCREENS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
        context.set_default_timeout(10_000)
        try:
            yield browser, context
        finally:
            context.close()
            browser.close()
