"""HQ's review list in Chromium, with CSRF on: "select all" ticks every entry of the day and one
click approves them all; the list comes back empty."""
from __future__ import annotations

import pytest

from tests.factories import register

from .test_registration_flow import login, shot

pytestmark = pytest.mark.browser


def test_select_all_and_bulk_approve(live_server, browser_context, org):
    names = [register(org, name=f"审核列表{i}").member.name for i in range(3)]
    _, context = browser_context
    page = context.new_page()
    login(page, live_server, "hq")
    page.locator("header.top").get_by_role("link", name="新会员审核").click()
    for name in names:
        page.get_by_role("link", name=name).wait_for()
    page.locator("#select-all").check()
    assert page.locator("input[name=item]:checked").count() == 3
    shot(page, "review-list")
    page.locator("#bulk-approve").click()
    page.get_by_text("已批量通过 3 项").wait_for()
    assert page.url.endswith("/registrations/review")
    assert page.get_by_text("没有待审核的入会申请。").is_visible()
