"""Store particulars (address, phone, opening hours, opening date): entered by the administrator,
used by the call scripts and the printed application form; the form prints the assigned
associate (分管导购), who entered it when someone else, and 申请日期 as mandatory."""
from datetime import date

from sqlalchemy import select

from tests.factories import register
from webapp import pdf
from webapp.extensions import db
from webapp.models import AuditEvent, Member, Store
from webapp.outbox import script_text
from webapp.services.members import form_context
from tests.pdf.test_pdf import text_of

PARTICULARS = {"address": "上海市南京东路88号", "phone": "021-88886666",
               "opening_hours": "10:00–22:00", "opened_on": "2019-05-01"}


def _set_particulars(org, login, **changes):
    store = org.stores[0]
    data = {"code": store.code, "name": store.name, "area_id": store.area_id} | PARTICULARS | changes
    return login("admin").post(f"/admin/stores/{store.id}", data=data)


def test_admin_enters_store_particulars_and_they_are_audited(org, login):
    assert _set_particulars(org, login).status_code == 302
    store = db.session.get(Store, org.stores[0].id)
    assert (store.address, store.phone, store.opening_hours, store.opened_on) == (
        "上海市南京东路88号", "021-88886666", "10:00–22:00", date(2019, 5, 1))
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "store_updated")).one()
    assert event.data["new"]["address"] == "上海市南京东路88号" and event.data["old"]["address"] == ""
    page = login("admin").get(f"/admin/stores/{store.id}").get_data(as_text=True)
    assert "上海市南京东路88号" in page and "营业时间" in page


def test_too_long_phone_is_refused_and_nothing_saved(org, login):
    response = _set_particulars(org, login, phone="1" * 41)
    assert response.status_code == 422
    assert "门店电话不能超过40个字符" in response.get_data(as_text=True)
    assert db.session.get(Store, org.stores[0].id).address == ""


def test_pickup_call_script_tells_the_store_address_hours_and_phone(org, login):
    _set_particulars(org, login)
    member = db.session.get(Member, register(org).member_id)
    text = script_text("pickup_call", member)
    assert "我们店在上海市南京东路88号，营业时间10:00–22:00" in text and "021-88886666" in text


def test_application_form_prints_assigned_associate_author_and_store_address(org, login):
    _set_particulars(org, login)
    # the store manager enters the form for associate assoc1b, who looks after the member
    case = register(org, "manager1", associate_id=org["assoc1b"].id)
    member = db.session.get(Member, case.member_id)
    text = text_of(pdf.render_pdf("application_form.html", forms=[form_context(member)]))[0]
    assert "分管导购" in text and "经办导购" not in text
    assert "assoc1b名" in text and "录入人" in text and "manager1名" in text
    assert "上海市南京东路88号" in text and "021-88886666" in text
    assert "*申请日期" in text.replace(" ", "")
    # entered by the assigned associate: no author line filled
    own = db.session.get(Member, register(org).member_id)
    assert form_context(own)["entered_by"] == ""
