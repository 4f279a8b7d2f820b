"""The complaint handling forms print as PDFs with the right title, stages and filing note, and
show the contact exactly as their reader may see it on screen (printing it in full is audited)."""
import io
import subprocess

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from tests.complaint_helpers import record, step
from webapp import clock
from webapp.calendar import local_date
from webapp.extensions import db
from webapp.models import AuditEvent, BatchJob
from webapp.services import printing
from webapp.services.complaint_forms import complaint_pdf


def text_of(data: bytes) -> str:
    return "".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)


def reveals():
    return [(e.object_type, e.object_id, e.actor.username, e.data)
            for e in db.session.scalars(select(AuditEvent).where(AuditEvent.action == "reveal"))]


def test_store_variant_and_direct_variant(org, tmp_path):
    store_case = record(org, username="assoc1", kind="store", name="钱女士")
    direct_case = record(org, name="孙先生")
    step(org, direct_case, "reply", reply_text="已致电道歉")
    step(org, direct_case, "propose", solution_text="换货")
    step(org, direct_case, "consent", consent_by="孙先生", consent_how="phone")
    step(org, direct_case, "carry_out")
    step(org, direct_case, "revisit", revisit_note="满意")
    step(org, direct_case, "survey", survey_score=5)
    data = complaint_pdf(reader=org["hq"], complaints=[store_case.complaint, direct_case.complaint])
    text = text_of(data)
    assert len(PdfReader(io.BytesIO(data)).pages) == 2
    assert text.count("顾客投诉意见处理表") == 2 and text.count("（客服部用）") == 1
    assert "门店/区域填写，提交客服部" in text and "客服部存档" in text
    assert "已致电道歉" in text and "钱女士" in text and "5分 非常满意" in text
    assert "编号：" in text and "编号:" not in text
    path = tmp_path / "c.pdf"
    path.write_bytes(data)
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
    rows = fonts.splitlines()[2:]
    assert rows and all(" yes " in row for row in rows)


@pytest.mark.parametrize("username", ["supervisor1", "area_manager1", "admin"])
def test_masked_roles_get_the_contact_masked_and_no_reveal_is_logged(org, username):
    case = record(org, username="assoc1", kind="store", contact="13900001111")
    text = text_of(complaint_pdf(reader=org[username], complaints=[case.complaint]))
    assert "139****1111" in text and "13900001111" not in text
    assert reveals() == []


def test_printing_the_contact_in_full_is_audited(org):
    case = record(org, contact="13900001111")
    text = text_of(complaint_pdf(reader=org["hq"], complaints=[case.complaint]))
    assert "13900001111" in text
    assert reveals() == [("complaint", case.complaint.id, "hq", {"fields": ["contact"], "via": "pdf"})]


def test_month_batch_for_a_supervisor_has_no_full_mobile(org, app):
    for i in range(3):
        record(org, username="assoc1", kind="store", contact=f"1390000{i:04d}")
    # the local month (at 00:30 on the 1st in Shanghai, UTC is still in last month)
    day = local_date(clock.as_utc(db.session.scalars(select(printing.Complaint)).first().received_at))
    batch = BatchJob(kind="complaint_forms", requested_by_id=org["supervisor1"].id,
                     params={"month": day.replace(day=1).isoformat()}, total=0)
    db.session.add(batch)
    db.session.commit()
    printing.render_batch(batch.id)
    with open(db.session.get(BatchJob, batch.id).file_path, "rb") as f:
        text = text_of(f.read())
    assert text.count("139****000") == 3 and "13900000000" not in text
    assert reveals() == []


def test_application_form_printed_in_full_is_audited(org):
    from tests.factories import register

    member = register(org, mobile="13700002222").member
    text = text_of(printing.member_form_pdf(member, reader=org["hq"]))
    assert "13700002222" in text
    [(kind, object_id, who, data)] = reveals()
    assert (kind, object_id, who, data["via"]) == ("member", member.id, "hq", "pdf")
    assert "mobile" in data["fields"]
