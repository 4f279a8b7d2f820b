"""One registration in Chromium, with CSRF on: HQ reads the member's data (masked) beside the two
actions, "退回补全" from the list puts the cursor in the comment box; the store then finds HQ's
comment at the top of the completion form."""
from __future__ import annotations

import pytest

from tests.factories import register

from .test_registration_flow import login, shot

pytestmark = pytest.mark.browser


def test_send_back_lands_on_the_comment_and_the_store_reads_it_first(live_server, browser_context,
                                                                      org):
    case = register(org, name="黄蓉", mobile="13812345678", address="浙江省杭州市西湖路9号")
    _, context = browser_context
    page = context.new_page()
    login(page, live_server, "hq")
    page.goto(f"{live_server}/registrations/review")
    page.get_by_role("link", name="退回补全").click()
    box = page.locator("#comment-send_back")
    box.wait_for()
    assert page.evaluate("document.activeElement.id") == "comment-send_back"
    assert page.locator(".member-data").get_by_text("138****5678").is_visible()
    assert page.locator(".member-data").get_by_text("黄蓉").is_visible()
    shot(page, "registration-review-one")
    page.set_viewport_size({"width": 390, "height": 844})
    shot(page, "registration-review-one-phone")
    page.set_viewport_size({"width": 1280, "height": 900})
    box.fill("家庭地址缺少门牌号，请补全")
    page.get_by_role("button", name="退回补全").click()
    page.get_by_text("操作成功").wait_for()
    page.locator("form[action='/logout'] button").click()

    login(page, live_server, "assoc1")
    page.goto(f"{live_server}/registrations/{case.id}/complete")
    comment = page.locator("#sent-back")
    assert "家庭地址缺少门牌号，请补全" in comment.inner_text()
    assert comment.bounding_box()["y"] < page.locator("input[name=name]").bounding_box()["y"]
    shot(page, "registration-complete")
    page.set_viewport_size({"width": 390, "height": 844})
    shot(page, "registration-complete-phone")


def test_send_back_from_the_inbox_lands_on_the_comment(live_server, browser_context, org):
    case = register(org, name="郭靖")
    _, context = browser_context
    page = context.new_page()
    login(page, live_server, "hq")
    page.goto(f"{live_server}/cases/{case.id}#act-send_back")  # the inbox's link
    page.wait_for_function("document.activeElement.id === 'comment-send_back'")
    first = page.locator("form.action").first
    assert first.get_attribute("id") == "act-send_back"
