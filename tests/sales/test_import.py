"""Sales import: per-row errors before anything is written, idempotent re-import, returns, scope."""
import pytest
from sqlalchemy import func, select

from tests.sales.builders import bulk_members, csv_file, import_sales, sale, upload_page, xlsx_file
from webapp.extensions import db
from webapp.models import MemberMonth, Sale, StoreMonth
from webapp.services import sales, sales_import


def _count(model=Sale):
    return db.session.scalar(select(func.count()).select_from(model))


def test_import_writes_sales_with_member_by_card_or_mobile(org):
    m1, m2 = bulk_members(org.stores[0], 2)
    rows = [sale("S1", "A1", "2026-10-05 14:30", "399.00", 2, card=m1["card_no"], associate="assoc1"),
            sale("S1", "A2", "2026-10-06 10:00", "100", 1, mobile=m2["mobile"]),
            sale("S1", "A3", "2026-10-31 23:30", "50.5", 1)]
    checked = import_sales(org["hq"], rows)
    assert len(checked.new) == 3 and not checked.existing
    stored = {s.sale_no: s for s in db.session.scalars(select(Sale))}
    assert stored["A1"].member_id == m1["id"] and stored["A1"].amount_fen == 39900
    assert stored["A1"].associate_id == org["assoc1"].id
    assert stored["A2"].member_id == m2["id"]
    assert stored["A3"].member_id is None and stored["A3"].amount_fen == 5050
    # 23:30 in Shanghai on 31 October is 15:30 UTC: still an October sale
    assert stored["A3"].ym == 202610
    month = db.session.get(StoreMonth, (202610, org.stores[0].id))
    assert (month.amount_fen, month.tickets, month.member_amount_fen, month.member_tickets) == (
        39900 + 10000 + 5050, 3, 49900, 2)


def test_reimporting_the_same_file_changes_nothing(org):
    (m1,) = bulk_members(org.stores[0], 1)
    rows = [sale("S1", "B1", "2026-10-05 14:30", "200", 1, card=m1["card_no"]),
            sale("S1", "B2", "2026-10-06 14:30", "300", 2)]
    import_sales(org["hq"], rows)
    before = [(r.ym, r.amount_fen, r.tickets) for r in db.session.scalars(select(StoreMonth))]
    checked = import_sales(org["hq"], rows)
    assert not checked.new and len(checked.existing) == 2
    assert _count() == 2
    assert [(r.ym, r.amount_fen, r.tickets) for r in db.session.scalars(select(StoreMonth))] == before
    assert db.session.scalar(select(MemberMonth.amount_fen)) == 20000


@pytest.mark.parametrize("row, field, message", [
    (sale("S9", "E1", "2026-10-05 10:00", "10"), "store_code", "未知门店编码"),
    (sale("S1", "E1", "2026-10-05 10:00", "10", card="NOPE"), "member_card", "未知会员卡号"),
    (sale("S1", "E1", "2026-10-05 10:00", "10", mobile="13912345678"), "member_mobile", "不是会员"),
    (sale("S1", "E1", "2026-10-05 10:00", "10", mobile="12345"), "member_mobile", "格式不正确"),
    (sale("S1", "E1", "2026-10-05 10:00", "abc"), "amount", "不是有效数字"),
    (sale("S1", "E1", "2026-10-05 10:00", "1.234"), "amount", "两位小数"),
    (sale("S1", "E1", "2026-10-05 10:00", "-5"), "amount", "必须大于0"),
    (sale("S1", "E1", "yesterday", "10"), "sold_at", "格式不正确"),
    (sale("S1", "E1", "2026-10-05 10:00", "10", 1.5), "items", "整数"),
    (sale("S1", "E1", "2026-10-05 10:00", "399", 0), "items", "不能为0"),
    (sale("S1", "", "2026-10-05 10:00", "10"), "sale_no", "缺少单号"),
    (sale("S1", "E1", "2026-10-05 10:00", "10", return_of="NONE"), "return_of", "不存在"),
])
def test_a_bad_row_is_reported_and_nothing_is_written(org, row, field, message):
    good = sale("S1", "OK1", "2026-10-05 09:00", "10")
    rows = sales_import.read_rows(csv_file([good, row]), "till.csv")
    checked = sales.check(rows, actor=org["hq"])
    assert [(e.line, e.field) for e in checked.errors] == [(3, field)]
    assert message in checked.errors[0].message
    with pytest.raises(sales.SaleError):
        sales_import.import_file(actor=org["hq"], data=csv_file([good, row]), filename="t.csv")
    db.session.rollback()
    assert _count() == 0 and _count(StoreMonth) == 0


def test_duplicate_number_in_the_file_and_changed_content_are_errors(org):
    import_sales(org["hq"], [sale("S1", "D1", "2026-10-05 10:00", "10")])
    rows = [sale("S1", "D2", "2026-10-05 10:00", "10"), sale("S1", "D2", "2026-10-05 11:00", "10"),
            sale("S1", "D1", "2026-10-05 10:00", "99")]
    checked = sales.check(sales_import.read_rows(csv_file(rows), "t.csv"), actor=org["hq"])
    assert sorted((e.line, e.field) for e in checked.errors) == [(3, "sale_no"), (4, "sale_no")]
    assert any("重复" in e.message for e in checked.errors)
    assert any("内容不同" in e.message for e in checked.errors)


def test_store_manager_imports_only_own_store(org):
    rows = [sale("S1", "M1", "2026-10-05 10:00", "10"), sale("S2", "M2", "2026-10-05 10:00", "10")]
    checked = sales.check(sales_import.read_rows(csv_file(rows), "t.csv"), actor=org["manager1"])
    assert [(e.line, e.field) for e in checked.errors] == [(3, "store_code")]
    assert "无权" in checked.errors[0].message


def test_returns_reverse_their_sale(org):
    (m1,) = bulk_members(org.stores[0], 1)
    import_sales(org["hq"], [sale("S1", "R1", "2026-10-05 10:00", "300", 3, card=m1["card_no"]),
                             sale("S1", "R2", "2026-10-05 11:00", "100", 1, card=m1["card_no"])])
    # a partial return keeps the ticket; a full one (here in two parts) cancels it
    import_sales(org["hq"], [sale("S1", "R1-a", "2026-10-07 10:00", "-100", 1, return_of="R1"),
                             sale("S1", "R2-a", "2026-11-02 10:00", "100", 1, return_of="R2")])
    october = db.session.get(StoreMonth, (202610, org.stores[0].id))
    november = db.session.get(StoreMonth, (202611, org.stores[0].id))
    assert (october.amount_fen, october.tickets, october.items) == (30000, 2, 3)
    assert (november.amount_fen, november.tickets, november.member_amount_fen) == (-10000, -1, -10000)
    too_much = [sale("S1", "R1-b", "2026-10-08 10:00", "250", 1, return_of="R1")]
    checked = sales.check(sales_import.read_rows(csv_file(too_much), "t.csv"), actor=org["hq"])
    assert checked.errors and "剩余金额 200" in checked.errors[0].message


def test_xlsx_import_with_numeric_cells(org):
    (m1,) = bulk_members(org.stores[0], 1)
    data = xlsx_file([sale("S1", "X1", "2026-10-05 10:00", "12.30", 2, card=m1["card_no"])])
    checked = sales_import.import_file(actor=org["hq"], data=data, filename="till.xlsx")
    assert len(checked.new) == 1
    assert db.session.scalar(select(Sale.amount_fen)) == 1230


def test_missing_column_and_wrong_type_are_clear_messages(org):
    with pytest.raises(sales_import.ImportFileError, match="缺少列"):
        sales_import.read_rows("门店编码,金额\nS1,10\n".encode(), "t.csv")
    with pytest.raises(sales_import.ImportFileError, match="csv"):
        sales_import.read_rows(b"x", "t.txt")
    gbk = "门店编码,销售单号,销售时间,金额,件数\nS1,G1,2026-10-05 10:00,10,1\n".encode("gb18030")
    assert sales_import.read_rows(gbk, "t.csv")[0]["sale_no"] == "G1"


def test_import_pages_preview_then_confirm(org, login):
    client = login("hq")
    data = csv_file([sale("S1", "P1", "2026-10-05 10:00", "10")])
    page = upload_page(client, data)
    assert page.status_code == 200 and "确认导入 1 笔" in page.data.decode()
    assert _count() == 0  # the preview writes nothing
    token = page.data.decode().split('name="token" value="')[1].split('"')[0]
    assert login("manager1").post("/sales/import/confirm", data={"token": token}).status_code == 302
    assert _count() == 0  # another user cannot confirm someone else's upload
    client = login("hq")
    response = client.post("/sales/import/confirm", data={"token": token}, follow_redirects=True)
    assert "已导入 1 笔" in response.data.decode() and _count() == 1


def test_import_page_shows_row_errors_with_422(org, login):
    data = csv_file([sale("S9", "P1", "2026-10-05 10:00", "10")])
    page = upload_page(login("hq"), data, "t.csv")
    assert page.status_code == 422
    text = page.data.decode()
    assert "未知门店编码" in text and "未写入任何记录" in text and "确认导入" not in text


def test_associates_cannot_import(org, login):
    assert login("assoc1").get("/sales/import").status_code == 403


def test_item_category_from_csv_and_xlsx_optional_and_bounded(org):
    """What was bought (品类) is an optional column; the day-3 call names it."""
    rows = [sale("S1", "K1", "2026-10-05 14:30", "399.00", category="丝光棉T恤"),
            sale("S1", "K2", "2026-10-05 15:00", "99.00")]
    import_sales(org["hq"], rows)
    data = xlsx_file([sale("S1", "K3", "2026-10-05 16:00", "599", category=" 羊绒大衣 ")])
    sales_import.import_file(actor=org["hq"], data=data, filename="till.xlsx")
    stored = dict(db.session.execute(select(Sale.sale_no, Sale.category)).all())
    assert (stored["K1"], stored["K2"], stored["K3"]) == ("丝光棉T恤", None, "羊绒大衣")
    checked = sales.check(rows=sales_import.read_rows(
        csv_file([sale("S1", "K4", "2026-10-05 14:30", "1", category="长" * 41)]), "t.csv"),
        actor=org["hq"])
    assert [(e.field, e.message) for e in checked.errors] == [("category", "品类不能超过40个字符")]
