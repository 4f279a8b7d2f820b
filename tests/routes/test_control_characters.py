"""A NUL (or another control character) typed into no field by anyone, but sent by a script or a
broken till, is refused before any view with a 400 that says so, and nothing is written: in a
form, a query string, a JSON body (answered in JSON) and a row of an imported file. PostgreSQL
refuses to store a NUL, so without this these were 500s there."""
import pytest
from sqlalchemy import func, select

from tests.factories import form_fields, member_data
from tests.sales.builders import csv_file, preview_file, sale, upload_page
from webapp.models import Complaint
from webapp.extensions import db
from webapp.models import Member
from webapp.models import Sale
from webapp.services import sales, sales_import

MESSAGE = "输入中含有不允许的控制字符（如空字符），请删除后重试。"


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_complaint_description(org, login):
    data = {"channel": "phone", "customer_name": "赵先生", "contact": "13900001111",
            "product": "衬衫", "description": "掉色\x00", "customer_wants": "退货"}
    response = login("hq").post("/complaints/new/direct", data=data)
    assert response.status_code == 400 and MESSAGE in response.data.decode()
    assert count(Complaint) == 0


@pytest.mark.parametrize("url", ["/members?q=%00", "/members?q=a%01b", "/complaints/?q=%00",
                                 "/registrations/review?day=2026-11-30%00"])
def test_query_argument(org, login, url):
    response = login("hq").get(url)
    assert response.status_code == 400 and MESSAGE in response.data.decode()


def test_a_line_break_in_a_comment_is_still_text(org, login):
    data = form_fields(member_data(org["assoc1"], preferences="L码\r\n蓝色\t宽松"))
    assert login("assoc1").post("/members/new", data=data).status_code == 302
    assert db.session.scalars(select(Member)).one().preferences == "L码\r\n蓝色\t宽松"


def test_till_sale_number_is_answered_in_json(org, client):
    secret = sales.create_token(actor=org["admin"], store=org.stores[0], name="收银机1")[1]
    item = {"sale_no": "A\u0000", "sold_at": "2026-10-05T14:30:00+08:00", "amount": "1",
            "items": 1}
    response = client.post("/api/v1/sales", json={"sales": [item]},
                           headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 422  # the API's own check: the sale number's pattern
    assert "控制字符" in str(response.json) and count(Sale) == 0


def test_imported_row_names_its_line(org):
    rows = [sale("S1", "N1", "2026-10-05 14:30", "10"), sale("S1", "N2\x00", "2026-10-05 14:31", "10")]
    result = preview_file(org["hq"], csv_file(rows))
    assert [(e.line, e.message) for e in result.checked.errors] == [(3, "含有不可见的控制字符")]
    assert count(Sale) == 0


def test_imported_row_through_the_page(org, login):
    from io import BytesIO

    rows = [sale("S1", "N1\x00", "2026-10-05 14:30", "10")]
    response = upload_page(login("hq"), csv_file(rows), "t.csv")
    assert response.status_code < 500 and "含有不可见的控制字符" in response.data.decode()
    assert count(Sale) == 0
