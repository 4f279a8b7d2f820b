"""The month's set of visit forms as one A4 PDF with the Chinese text embedded; a supervisor
(who may not reveal phones) gets them masked, HQ in full and audited."""
import subprocess
from datetime import date, datetime, timedelta

import time_machine
from sqlalchemy import select

from tests.sales.builders import bulk_members
from webapp.calendar import local_midnight_utc
from webapp.extensions import db
from webapp.models import AuditEvent
from webapp.periods import Month
from webapp.services import recurring
from webapp.services import visit_plan as vp
from webapp.services.visit_forms import month_set_pdf
from webapp.workflows import engine


def text_of(pdf: bytes, tmp_path) -> str:
    path = tmp_path / "set.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout
    (tmp_path / "out.pdf").write_bytes(pdf)
    return "".join(text.split())  # narrow cells wrap


def test_month_set_pdf(org, tmp_path):
    nov_1 = local_midnight_utc(date(2026, 11, 1)) + timedelta(hours=9)
    recurring.open_due(now=nov_1)
    (m,) = bulk_members(org.stores[0], 1)
    case = vp.plan_case(store_id=org.stores[0].id, month=Month(2026, 12))
    vp.propose_item(actor=org["assoc1"], case=case, card_no=m["card_no"], occasion="圣诞问候",
                    method="call", associate_id=org["assoc1"].id, planned_on=date(2026, 12, 24), now=nov_1)
    engine.fire(case, "set_plan", org["manager1"], version=case.version, now=nov_1)
    db.session.commit()
    vp.record_visit(actor=org["assoc1"], card_no=m["card_no"], method="call",
                    visited_at=nov_1, result="已接通，顾客满意", now=nov_1 + timedelta(hours=1))
    vp.draw_sample(actor=org["hq"], store_id=org.stores[0].id, month=Month(2026, 11), now=nov_1)
    store = org.stores[0]
    with time_machine.travel(nov_1, tick=False):
        text = text_of(month_set_pdf(reader=org["supervisor1"], store=store, month=Month(2026, 11)), tmp_path)
    assert "专卖店客户回访情况月报表" in text and "客户回访情况登记表" in text and "客户回访抽查表" in text
    assert "圣诞问候" in text and "已接通，顾客满意" in text
    assert m["mobile"] not in text and m["mobile"][:3] in text  # masked for the supervisor
    assert db.session.scalars(select(AuditEvent).where(AuditEvent.action == "reveal")).all() == []
    with time_machine.travel(nov_1, tick=False):
        pdf = month_set_pdf(reader=org["hq"], store=store, month=Month(2026, 11))
    assert m["mobile"] in text_of(pdf, tmp_path)
    assert len(db.session.scalars(select(AuditEvent).where(AuditEvent.action == "reveal")).all()) == 1
    (tmp_path / "hq.pdf").write_bytes(pdf)
    fonts = subprocess.run(["pdffonts", str(tmp_path / "hq.pdf")], capture_output=True, text=True).stdout
    assert "yes" in fonts.split("\n", 2)[2]  # embedded
