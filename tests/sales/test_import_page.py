"""Import page details a user sees: the preview's columns, the confirm button, unreadable files."""
import io

from sqlalchemy import func, select

from tests.sales.builders import csv_file, sale, upload_page
from webapp.extensions import db
from webapp.models import Sale
from webapp.services import sales_import


def _upload(client, data: bytes, name: str = "till.csv"):
    return upload_page(client, data, name)


def test_preview_shows_the_number_of_items(org, login):
    page = _upload(login("hq"), csv_file([sale("S1", "P1", "2026-10-05 10:00", "399", 3)]))
    html = page.data.decode()
    assert "built-in method" not in html
    row = html.split("<td>P1</td>")[1].split("</tr>")[0]
    assert '<td class="num">3</td>' in row


def test_nothing_new_to_import_offers_no_confirm_button(org, login):
    client = login("hq")
    rows = [sale("S1", "P1", "2026-10-05 10:00", "10")]
    sales_import.import_file(actor=org["hq"], data=csv_file(rows), filename="t.csv")
    html = _upload(client, csv_file(rows)).data.decode()
    assert "此前已导入 1 笔" in html
    assert "确认导入 0 笔" not in html and "sales/import/confirm" not in html


def test_a_huge_csv_field_is_a_clear_message_and_writes_nothing(org, login):
    data = ("门店编码,销售单号,销售时间,金额,件数\nS1,A1,2026-10-05 10:00,10,1\n"
            f'S1,"{"x" * 200_000}",2026-10-05 10:00,10,1\n').encode()
    page = _upload(login("hq"), data)
    assert page.status_code == 422
    assert "单元格过长" in page.data.decode()
    assert db.session.scalar(select(func.count()).select_from(Sale)) == 0


def test_a_nul_byte_in_a_csv_cell_is_an_error_of_that_row(org):
    data = "门店编码,销售单号,销售时间,金额,件数\nS1,A1,2026-10-05 10:00,10,1\nS1,A\x002,2026-10-05 10:00,10,1\n"
    rows = sales_import.read_rows(data.encode(), "t.csv")
    from webapp.services import sales

    checked = sales.check(rows, actor=org["hq"])
    assert [(e.line, e.field) for e in checked.errors] == [(3, "sale_no")]


def test_a_nul_byte_in_any_cell_of_an_upload_is_a_row_error_not_a_500(org, login):
    data = ("门店编码,销售单号,销售时间,会员卡号,会员手机,金额,件数,导购\n"
            "S1,A1,2026-10-05 10:00,C\x001,139\x0012345678,10,1,as\x00soc1\n").encode()
    page = _upload(login("hq"), data)
    assert page.status_code == 422
    assert "含有不可见的控制字符" in page.data.decode()
    assert db.session.scalar(select(func.count()).select_from(Sale)) == 0
