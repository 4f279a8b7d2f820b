"""Analysis pages, PDF, xlsx and JSON: same figures, same permissions, "—" with the reason."""
import io

import pytest

from tests.sales.builders import bulk_members, import_sales, sale
from webapp.services import sales

KINDS = ("consumption", "demographics", "spending-power", "churn")


@pytest.fixture
def october(org):
    """Store 1 with members and a few October sales (and nothing last year: a new store)."""
    members = bulk_members(org.stores[0], 5)
    import_sales(org["hq"], [sale("S1", f"Q{i}", "2026-10-10 12:00", "250", 2,
                                  card=m["card_no"]) for i, m in enumerate(members[:4])]
                 + [sale("S1", "QN", "2026-10-11 12:00", "100")])
    return org


@pytest.mark.parametrize("kind", KINDS)
def test_page_pdf_xlsx_and_json_for_each_analysis(october, login, kind):
    client = login("hq")
    store = october.stores[0].id
    query = f"scope=store:{store}&period=2026-10"
    page = client.get(f"/analyses/{kind}?{query}")
    assert page.status_code == 200
    html = page.data.decode()
    assert 'id="figures"' in html and "<svg" in html
    pdf = client.get(f"/analyses/{kind}.pdf?{query}")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    book = client.get(f"/analyses/{kind}.xlsx?{query}")
    assert book.status_code == 200
    from openpyxl import load_workbook

    workbook = load_workbook(io.BytesIO(book.data))
    assert any(sheet._charts for sheet in workbook.worksheets)
    data = client.get(f"/api/v1/analyses/{kind}?{query}").get_json()
    assert data["kind"] == kind and data["scope"]["code"] == f"store:{store}"
    assert all(f["display"] in html for f in data["figures"])


def test_json_figures_for_the_sample_store(october, login):
    data = login("manager1").get("/api/v1/analyses/spending-power?period=2026-10").get_json()
    figures = {f["key"]: f for f in data["figures"]}
    assert figures["member_sales_share"]["value"] == "90.9"  # 1000 of 1100 yuan
    assert figures["member_ticket"]["value"] == "250.00"
    assert figures["frequency"]["display"] == "1.00" and figures["attach_rate"]["value"] == "2.00"
    # a new store: nothing last year, no target — no value, and the reason
    assert figures["sales_yoy"]["value"] is None and figures["sales_yoy"]["display"] == "—"
    assert figures["sales_yoy"]["reason"] == "去年同期没有销售"
    assert figures["completion"]["reason"] == "未设定销售目标"


def test_division_by_zero_everywhere_is_a_dash_not_an_error(org, login):
    client = login("hq")
    for kind in KINDS:
        for period in ("2026-10", "2026"):
            response = client.get(f"/api/v1/analyses/{kind}?scope=store:{org.stores[3].id}&period={period}")
            assert response.status_code == 200, (kind, period)
            assert client.get(f"/analyses/{kind}?scope=company&period={period}").status_code == 200
    consumption = client.get(f"/api/v1/analyses/consumption?scope=store:{org.stores[3].id}"
                             "&period=2026-10").get_json()
    assert consumption["figures"][0]["reason"] == "没有有效会员"


def test_year_period_and_area_scope(october, login):
    sales.set_target(actor=october["hq"], store=october.stores[0], ym=202610, amount="1000")
    data = login("supervisor1").get(
        f"/api/v1/analyses/spending-power?scope=area:{october.areas[0].id}&period=2026").get_json()
    figures = {f["key"]: f for f in data["figures"]}
    assert figures["sales_mom"]["reason"] == "年度分析不计算环比"
    assert figures["completion"]["reason"] == "部分门店或月份未设定销售目标"
    assert figures["member_tickets_share"]["value"] == "80.0"


@pytest.mark.parametrize("user, scope, status", [
    ("manager1", "store:{s2}", 404),    # another store of the same area
    ("manager1", "area:{a1}", 404),
    ("manager1", "company", 404),
    ("manager3", "store:{s1}", 404),
    ("supervisor2", "store:{s1}", 404),  # a store of another area
    ("supervisor1", "company", 404),
    ("assoc1", "store:{s1}", 403),      # associates do not read analyses
    ("manager1", "store:{s1}", 200),
    ("supervisor1", "store:{s2}", 200),
    ("area_manager1", "area:{a1}", 200),
    ("hq_manager", "company", 200),
])
def test_scope_permissions_on_pages_exports_and_json(org, login, user, scope, status):
    scope = scope.format(s1=org.stores[0].id, s2=org.stores[1].id, a1=org.areas[0].id)
    client = login(user)
    for url in (f"/analyses/churn?scope={scope}&period=2026-10",
                f"/analyses/churn.pdf?scope={scope}&period=2026-10",
                f"/analyses/consumption.xlsx?scope={scope}&period=2026-10",
                f"/api/v1/analyses/consumption?scope={scope}&period=2026-10"):
        if status == 200 and url.endswith(".pdf?" + url.split("?")[1]):
            continue  # rendering is covered above; keep this table quick
        assert client.get(url).status_code == status, url


@pytest.mark.parametrize("query", ["scope=shop:1&period=2026-10", "scope=store:x",
                                   "period=2026-13", "period=26-10", "period=2026-10-01",
                                   "period=2026-1", "period=%202026", "scope=store:01",
                                   "scope=store:%D9%A1", "scope=company:1"])
def test_bad_scope_or_period_is_a_clear_message(org, login, query):
    client = login("hq")
    response = client.get(f"/api/v1/analyses/churn?{query}")
    assert response.status_code == 400 and response.get_json()["error"]
    page = client.get(f"/analyses/churn?{query}")
    assert page.status_code == 400 and 'class="flash error"' in page.data.decode()


def test_json_api_needs_a_login(client):
    assert client.get("/api/v1/analyses/churn").status_code == 401
    assert client.get("/analyses/churn").status_code == 302


def test_unknown_analysis_is_404(org, login):
    client = login("hq")
    assert client.get("/analyses/astrology").status_code == 404
    assert client.get("/api/v1/analyses/astrology").status_code == 404


def test_band_edges_are_settings(october, login):
    from webapp import settings
    from webapp.extensions import db

    settings.put("analysis_spend_band_1", "300")
    settings.put("analysis_spend_band_2", "600")
    settings.put("analysis_spend_band_3", "900")
    settings.put("analysis_spend_band_4", "1200")
    db.session.commit()
    data = login("hq").get(f"/api/v1/analyses/consumption?scope=store:{october.stores[0].id}"
                           "&period=2026-10").get_json()
    assert data["figures"][1]["label"].startswith("300元以下") and data["figures"][1]["value"] == "100.0"
    settings.put("analysis_spend_band_2", "100")
    db.session.commit()
    bad = login("hq").get("/api/v1/analyses/consumption?period=2026-10")
    assert bad.status_code == 400 and "由小到大" in bad.get_json()["error"]


def test_targets_page(org, login):
    client = login("manager1")
    response = client.post("/sales/targets", data={"store_id": org.stores[0].id, "month": "2026-10",
                                                   "amount": "480000"})
    assert response.status_code == 302
    assert "480000" in client.get("/sales/targets?year=2026").data.decode()
    bad = client.post("/sales/targets", data={"store_id": org.stores[1].id, "month": "2026-10",
                                              "amount": "1"})
    assert bad.status_code == 422  # not a store of theirs: not even a choice
    bad = client.post("/sales/targets", data={"store_id": org.stores[0].id, "month": "2026-10",
                                              "amount": "abc"})
    assert bad.status_code == 422 and "不是有效数字" in bad.data.decode()
