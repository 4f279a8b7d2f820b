"""Member upkeep: the manager reassigns the associate (audited, open tasks follow); staff flag a
number dead or corrected; search by the mobile's last four digits within one's scope; the
store's member list as xlsx, one sheet per tier, masked where the role may not reveal."""
import importlib.util
from datetime import datetime, timezone
from io import BytesIO
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import select, text, update

from tests.factories import register
from tests.sales.builders import bulk_members
from webapp import permissions
from webapp.crypto import encrypt
from webapp.extensions import db
from webapp.models import AuditEvent, Member, Role, Task
from webapp.services import member_upkeep
from webapp.services.members import search

NOW = datetime(2026, 11, 29, 3, 0, tzinfo=timezone.utc)


def audits(member_id):
    return db.session.scalars(select(AuditEvent).where(
        AuditEvent.object_type == "member", AuditEvent.object_id == member_id)
        .order_by(AuditEvent.id)).all()


def test_the_manager_reassigns_and_the_open_tasks_follow(org):
    (m,) = bulk_members(org.stores[0], 1)
    db.session.execute(update(Member).where(Member.id == m["id"]).values(associate_id=org["assoc1"].id))
    db.session.commit()
    from webapp.services.aftersale import start_due_calls
    from webapp.services import sales
    from tests.sales.builders import sale
    sales.record(rows=[sale("S1", "X1", "2026-11-20 13:00", "100.00", card=m["card_no"])],
                 actor=org["hq"], source="import")
    start_due_calls(now=datetime(2026, 11, 22, 1, 0, tzinfo=timezone.utc))
    member = db.session.get(Member, m["id"])
    with pytest.raises(member_upkeep.UpkeepRefused):
        member_upkeep.reassign(actor=org["assoc1"], member=member, associate_id=org["assoc1b"].id)
    with pytest.raises(member_upkeep.UpkeepRefused):  # another store's associate
        member_upkeep.reassign(actor=org["manager1"], member=member, associate_id=org["assoc3"].id)
    member_upkeep.reassign(actor=org["manager1"], member=member, associate_id=org["assoc1b"].id, now=NOW)
    assert member.associate_id == org["assoc1b"].id
    assert db.session.scalar(select(Task.assignee_id).where(Task.status == "open")) == org["assoc1b"].id
    [event] = audits(m["id"])
    assert (event.action, event.data, event.actor_id) == (
        "reassign", {"from": org["assoc1"].id, "to": org["assoc1b"].id}, org["manager1"].id)


def test_a_number_flagged_dead_then_corrected_is_audited(org):
    (m,) = bulk_members(org.stores[0], 1)
    member = db.session.get(Member, m["id"])
    with pytest.raises(member_upkeep.UpkeepRefused):  # an area supervisor does not call
        member_upkeep.set_mobile_dead(actor=org["supervisor1"], member=member, dead=True)
    member_upkeep.set_mobile_dead(actor=org["assoc1"], member=member, dead=True, now=NOW)
    assert member.mobile_dead_at == NOW
    with pytest.raises(member_upkeep.UpkeepRefused):
        member_upkeep.set_mobile_dead(actor=org["assoc1"], member=member, dead=True)
    member_upkeep.set_mobile_dead(actor=org["hq"], member=member, dead=False, now=NOW)
    assert member.mobile_dead_at is None
    assert [e.action for e in audits(m["id"])] == ["mobile_dead", "mobile_corrected"]


def test_search_by_the_last_four_digits_stays_in_scope(org):
    case = register(org, mobile="13912345678")
    db.session.commit()
    (other,) = bulk_members(org.stores[2], 1)
    db.session.execute(update(Member).where(Member.id == other["id"]).values(mobile_last4="5678"))
    db.session.commit()
    assert db.session.get(Member, case.member_id).mobile_last4 == "5678"
    assert [m.id for m in search(org["assoc1"], q="5678")] == [case.member_id]
    assert sorted(m.id for m in search(org["hq"], q="5678")) == sorted([case.member_id, other["id"]])
    assert search(org["assoc1"], q="1234") == []


def test_the_migration_fills_the_last_four_digits_from_the_encrypted_mobile(org):
    (m,) = bulk_members(org.stores[0], 1)
    db.session.execute(text("UPDATE member SET mobile = :m, mobile_last4 = NULL WHERE id = :i"),
                       {"m": encrypt("13800009876"), "i": m["id"]})
    db.session.commit()
    path = next(Path("migrations/versions").glob("5f3d01f22beb_*.py"))
    spec = importlib.util.spec_from_file_location("last4_migration", path)
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    assert migration.fill(db.session.connection()) == 1
    db.session.commit()
    assert db.session.scalar(select(Member.mobile_last4).where(Member.id == m["id"])) == "9876"


def test_the_roster_is_the_stores_own_one_sheet_per_tier_and_audited(org):
    rows = bulk_members(org.stores[0], 3)
    bulk_members(org.stores[2], 1)
    db.session.execute(update(Member).where(Member.id == rows[0]["id"]).values(tier="A", name="=cmd|x"))
    db.session.commit()
    book = load_workbook(BytesIO(member_upkeep.roster_xlsx(actor=org["manager1"], now=NOW)))
    assert book.sheetnames == ["A类客户", "B类客户", "C类客户"]
    a = book["A类客户"]
    assert a["A2"].value == rows[0]["card_no"] and a["B2"].value == "=cmd|x" and a["B2"].data_type == "s"
    assert a["D2"].value == rows[0]["mobile"]  # a store manager may reveal: in full, logged
    assert book["C类客户"].max_row == 3  # the other store's member is not in it
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "roster_export")).one()
    assert (event.object_id, event.data["members"], event.data["mobiles_in_full"]) == (
        org.stores[0].id, 3, True)
    with pytest.raises(member_upkeep.UpkeepRefused):
        member_upkeep.roster_xlsx(actor=org["hq"])


def test_a_role_that_may_not_reveal_gets_masked_mobiles(org, monkeypatch):
    (m,) = bulk_members(org.stores[0], 1)
    monkeypatch.setitem(permissions.ACTIONS, "member.reveal", {Role.STORE_MANAGER})
    book = load_workbook(BytesIO(member_upkeep.roster_xlsx(actor=org["assoc1"], now=NOW)))
    cell = book["C类客户"]["D2"].value
    assert cell != m["mobile"] and cell.endswith(m["mobile"][-4:]) and "*" in cell
