"""A filing batch whose render failed, on a phone: the batch page stops reloading, says why in
words (not the error's text) and 重新生成 starts the same batch again."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from tests.factories import register
from webapp import clock
from webapp.calendar import local_date
from webapp.extensions import db
from webapp.models import BatchJob
from webapp.services import printing
from webapp.services.cases import fire

from .conftest import SCREENS
from .test_registration_flow import login

pytestmark = pytest.mark.browser


def test_a_failed_batch_on_a_phone_says_why_and_renders_again(app, live_server, browser_context, org,
                                                              monkeypatch):
    from playwright.sync_api import expect

    case = register(org, name="甲一")
    fire(actor=org["hq"], case=case, transition="approve", version=case.version)
    batch = printing.start_day_batch(user=org["hq"], day=local_date(clock.now()))

    def broken(*args, **kwargs):
        raise RuntimeError("UndefinedError: 13800001234")

    monkeypatch.setattr("webapp.pdf.render_many", broken)
    with pytest.raises(RuntimeError):
        printing.render_batch(batch.id)  # what the worker runs: it records, then re-raises
    browser, _ = browser_context
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
    page = context.new_page()
    login(page, live_server, "hq")
    page.goto(f"{live_server}/batches/{batch.id}")
    expect(page.locator("#batch")).to_have_attribute("data-status", "failed")
    expect(page.locator("#job-error")).to_contain_text("生成PDF时出错，详情已记入日志")
    assert "13800001234" not in page.content()
    assert page.locator("meta[http-equiv=refresh]").count() == 0
    page.screenshot(path=str(SCREENS / "batch_failed_phone.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390

    page.locator("#retry-button").click()
    page.wait_for_url(re.compile(r".*/batches/\d+$"))
    assert page.url != f"{live_server}/batches/{batch.id}"
    expect(page.locator("#progress")).to_be_visible()
    assert db.session.scalar(select(func.count()).select_from(BatchJob)) == 2
    context.close()
