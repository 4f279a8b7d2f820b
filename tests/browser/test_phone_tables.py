"""On a 390 px phone, the analysis table's 结果 and the complaint deadlines' 状态 stay on screen
(the cells wrap instead of the table scrolling them away), and the chart keeps readable labels."""
from __future__ import annotations

import pytest

from tests.complaint_helpers import record
from tests.sales.builders import bulk_members, import_sales, sale

from .conftest import SCREENS
from .test_registration_flow import login

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}


def _right_edges(page, selector: str) -> list[float]:
    return page.eval_on_selector_all(selector, "cells => cells.map(c => c.getBoundingClientRect().right)")


def test_result_and_status_columns_fit_a_phone(app, live_server, browser_context, org):
    members = bulk_members(org.stores[0], 3)
    import_sales(org["hq"], [sale("S1", f"Q{i}", "2026-10-10 12:00", "1234.5", card=m["card_no"])
                             for i, m in enumerate(members)])
    case = record(org)
    from webapp.extensions import db

    db.session.commit()
    browser, _context = browser_context
    context = browser.new_context(viewport=PHONE, locale="zh-CN", is_mobile=True)
    page = context.new_page()
    login(page, live_server, "hq")
    page.goto(f"{live_server}/analyses/spending-power?scope=store:{org.stores[0].id}&period=2026-10")
    edges = _right_edges(page, "#figures td.num")
    assert len(edges) == 14 and max(edges) <= PHONE["width"], edges
    chart = page.locator("#chart svg").bounding_box()
    assert chart["width"] >= 560  # labels at a readable size; the card scrolls sideways
    page.screenshot(path=str(SCREENS / "analysis_phone_390.png"), full_page=True)

    page.goto(f"{live_server}/complaints/{case.id}")
    edges = _right_edges(page, "section.limits td:last-child, section.limits th:last-child")
    assert edges and max(edges) <= PHONE["width"], edges
    page.screenshot(path=str(SCREENS / "complaint_limits_phone_390.png"), full_page=True)
    context.close()
