"""The monthly analysis pack: HQ's review freezes the month's figures as a signed snapshot; a late
sale shows as a difference and leaves the archived figure as it was; a second review keeps both
versions; a store sees only its own pages; unusual figures are flagged."""
from datetime import datetime, timezone

import pytest
import time_machine

from tests.sales.builders import bulk_members, import_sales, sale
from webapp.models import AnalysisSnapshot
from webapp.permissions import OutOfScope
from webapp.services import monthly_pack

NOW = datetime(2026, 11, 2, 2, 0, tzinfo=timezone.utc)  # the first working day, 10:00 Shanghai


def _figure(reports, kind, key):
    return next(f for f in reports[kind]["figures"] if f["key"] == key)


@pytest.fixture
def october(org):
    members = bulk_members(org.stores[0], 10)
    import_sales(org["hq"], [sale("S1", f"A{i}", "2026-10-12 15:00", "300", card=members[i]["card_no"])
                             for i in range(2)])
    return members


def test_review_freezes_and_a_late_sale_shows_as_a_difference(org, october):
    with time_machine.travel(NOW, tick=False):
        assert monthly_pack.review(actor=org["hq"], period="2026-10", comment="数据无误") == 1
    store = f"store:{org.stores[0].id}"
    page = monthly_pack.archived(user=org["manager1"], period="2026-10", scope=store)
    snap = page["snapshot"]
    assert (snap.version, snap.reviewed_by.username, snap.comment) == (1, "hq", "数据无误")
    assert snap.reviewed_at == NOW and page["changes"] == []
    assert _figure(snap.reports, "consumption", "consuming_share")["display"] == "20.0%"
    # a late till import for October
    import_sales(org["hq"], [sale("S1", "LATE1", "2026-10-30 15:00", "300", card=october[2]["card_no"])])
    page = monthly_pack.archived(user=org["manager1"], period="2026-10", scope=store)
    assert _figure(page["snapshot"].reports, "consumption", "consuming_share")["display"] == "20.0%"
    moved = {c["label"]: (c["archived"], c["current"]) for c in page["changes"]}
    assert moved["消费会员占比"] == ("20.0%", "30.0%")
    # HQ reviews again: a new version, the old one kept
    with time_machine.travel(NOW.replace(day=3), tick=False):
        assert monthly_pack.review(actor=org["hq_manager"], period="2026-10") == 2
    assert monthly_pack.versions(period="2026-10") == [1, 2]
    page = monthly_pack.archived(user=org["manager1"], period="2026-10", scope=store)
    assert page["snapshot"].version == 2 and page["changes"] == []
    first = AnalysisSnapshot.query.filter_by(period="2026-10", scope=store, version=1).one()
    assert _figure(first.reports, "consumption", "consuming_share")["display"] == "20.0%"


def test_a_store_sees_only_its_own_pages_and_only_hq_reviews(org, october):
    with time_machine.travel(NOW, tick=False):
        monthly_pack.review(actor=org["hq"], period="2026-10")
    with pytest.raises(OutOfScope):
        monthly_pack.archived(user=org["manager1"], period="2026-10", scope=f"store:{org.stores[2].id}")
    with pytest.raises(OutOfScope):
        monthly_pack.archived(user=org["manager1"], period="2026-10", scope="company")
    for username in ("manager1", "supervisor1", "admin"):
        with pytest.raises(monthly_pack.Refused):
            monthly_pack.review(actor=org[username], period="2026-10")
    assert monthly_pack.versions(period="2026-10") == [1]


def test_unusual_figures_are_flagged(org, october):
    with time_machine.travel(NOW, tick=False):
        monthly_pack.review(actor=org["hq"], period="2026-10")
    quiet = monthly_pack.latest(period="2026-10", scope=f"store:{org.stores[1].id}")
    reasons = [f["reason"] for f in quiet.flags]
    assert "本月没有销售" in reasons  # S2 sold nothing
    busy = monthly_pack.latest(period="2026-10", scope=f"store:{org.stores[0].id}")
    assert "本月没有销售" not in [f["reason"] for f in busy.flags]
    # no sales a year before: the growth has no value, and says why
    assert any(f["key"] == "sales_yoy" for f in busy.flags)


def _fig(key, value, unit="%", reason=""):
    return {"no": "1", "key": key, "label": key, "formula": "", "inputs": "", "unit": unit,
            "display": "—" if value is None else f"{value}%", "value": value, "reason": reason}


def test_flags_name_a_division_by_zero_a_share_over_100_and_a_jump(org):
    reports = {"spending-power": {"inputs": [{"label": "销售额(元)", "value": "1,000.00"}], "figures": [
        _fig("sales_yoy", "80.0"), _fig("sales_mom", "80.0"), _fig("member_sales_share", "120.0"),
        _fig("completion", "130.0"), _fig("member_ticket", None, "yuan", "本期没有会员客单"),
        _fig("member_tickets_yoy", "20.0")]}}
    got = {f["key"]: f["reason"] for f in monthly_pack.flags(reports, scope="store:1")}
    assert got == {"sales_yoy": "同比变动超过设定比例", "member_sales_share": "占比超过100%",
                   "member_ticket": "本期没有会员客单"}


def test_opening_the_pack_before_review_files_nothing_and_gives_the_same_figures(org, october):
    """The pack is built from the roll-ups each time it is opened; only a review files it."""
    store = f"store:{org.stores[0].id}"
    with time_machine.travel(NOW, tick=False):
        first = monthly_pack.page(user=org["hq"], period="2026-10", scope=store)
        second = monthly_pack.page(user=org["hq"], period="2026-10", scope=store)
    assert first["snapshot"] is None and second["snapshot"] is None
    assert first["reports"] == second["reports"] and first["flags"] == second["flags"]
    assert AnalysisSnapshot.query.count() == 0 and monthly_pack.versions(period="2026-10") == []
