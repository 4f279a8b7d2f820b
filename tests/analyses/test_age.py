"""Ages are whole years at the period's last day (SPEC §4), from the clear birth year and
month-day that registration keeps beside the encrypted birth date; a migration fills them."""
import importlib.util
from datetime import date
from pathlib import Path

from sqlalchemy import select, text, update

from tests.factories import member_data
from tests.sales.builders import import_sales, sale
from webapp.crypto import encrypt
from webapp.extensions import db
from webapp.models import Member
from webapp.services import analyses, registration


def _register(org, birth: date) -> Member:
    data = member_data(org["assoc1"], birth_date=birth)
    case = registration.register(actor=org["assoc1"], store=org.stores[0], data=data,
                                 now=analyses_now())
    db.session.commit()
    return db.session.get(Member, case.member_id), data["mobile"]


def analyses_now():
    from datetime import datetime, timezone

    return datetime(2026, 10, 1, 2, 0, tzinfo=timezone.utc)


def test_a_birthday_still_to_come_keeps_the_younger_age(org):
    (young, m1), (twenty, m2) = _register(org, date(2006, 12, 1)), _register(org, date(2006, 10, 31))
    assert (young.birth_year, young.birth_month_day) == (2006, 1201)
    import_sales(org["hq"], [sale("S1", "A1", "2026-10-10 12:00", "100", mobile=m1),
                             sale("S1", "A2", "2026-10-10 12:00", "100", mobile=m2)])
    report = analyses.run(user=org["hq"], kind="demographics", scope=f"store:{org.stores[0].id}",
                          period="2026-10")
    figures = {f.key: f.inputs for f in report.figures}
    # on 2026-10-31 the first is 19 (birthday in December), the second turned 20 that day
    assert figures["age_1"] == "1 / 2" and figures["age_2"] == "1 / 2"
    whole_year = analyses.run(user=org["hq"], kind="demographics", scope=f"store:{org.stores[0].id}",
                              period="2026")
    assert {f.key: f.inputs for f in whole_year.figures}["age_2"] == "2 / 2"  # both 20 by 12-31


def test_completion_after_a_send_back_keeps_month_and_day_in_step(org):
    member, _mobile = _register(org, date(1990, 3, 4))
    data = member_data(org["assoc1"], birth_date=date(1991, 7, 8), mobile=member.mobile)
    registration._apply(member, data)
    assert (member.birth_year, member.birth_month_day) == (1991, 708)


def test_the_migration_fills_month_and_day_from_the_encrypted_date(org):
    member, _mobile = _register(org, date(1985, 2, 28))
    db.session.execute(update(Member).where(Member.id == member.id).values(
        birth_year=None, birth_month_day=None))
    db.session.execute(text("UPDATE member SET birth_date = :b WHERE id = :i"),
                       {"b": encrypt("1985-02-28"), "i": member.id})
    db.session.commit()
    path = next(Path("migrations/versions").glob("5356fc1685d9_*.py"))
    spec = importlib.util.spec_from_file_location("birth_md_migration", path)
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    assert migration.fill(db.session.connection()) == 1
    db.session.commit()
    assert db.session.execute(select(Member.birth_year, Member.birth_month_day).where(
        Member.id == member.id)).one() == (1985, 228)
