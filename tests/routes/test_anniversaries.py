"""A member's anniversaries (issue #17: "a member can have several anniversaries (wedding and
others, each with a name), and the form and the member page show them"): the form's rows, the
member page (masked, revealed on request), the printed application form, the migration that
moved the old single field in."""
import importlib.util
import subprocess
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import func, select

from tests.factories import form_fields, member_data
from webapp.crypto import encrypt
from webapp.extensions import db
from webapp.models import AuditEvent, Member, MemberAnniversary
from webapp.services import printing


def _post(login, org, rows):
    data = form_fields(member_data(org["assoc1"], name="李婷"))
    for i, (name, day) in enumerate(rows):
        data[f"anniversaries-{i}-name"], data[f"anniversaries-{i}-day"] = name, day
    return login("assoc1").post("/members/new", data=data)


def test_a_member_with_two_anniversaries_on_the_form_the_page_and_the_printed_form(org, login, tmp_path):
    response = _post(login, org, [("结婚纪念日", "05-20"), ("相识纪念日", "2012-10-01")])
    assert response.status_code == 302
    member = db.session.scalars(select(Member)).one()
    assert [(a.name, a.month_day) for a in member.anniversaries] == [("结婚纪念日", 520),
                                                                    ("相识纪念日", 1001)]
    assert member.anniversary == "结婚纪念日 05-20；相识纪念日 10-01"
    client = login("supervisor1")  # may see the member, not reveal: the days masked
    page = client.get(f"/members/{member.id}").data.decode()
    assert "结婚纪念日 **-**；相识纪念日 **-**" in page and "05-20" not in page
    revealed = login("assoc1").post(f"/members/{member.id}/reveal/anniversary").get_json()
    assert revealed["value"] == "结婚纪念日 05-20；相识纪念日 10-01"

    pdf = printing.member_form_pdf(member, reader=org["assoc1"])
    path = tmp_path / "form.pdf"
    path.write_bytes(pdf)
    text = "".join(subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True,
                                  check=True).stdout.split())
    assert "结婚纪念日05-20；相识纪念日10-01" in text and "纪念日" in text


def test_the_completion_form_shows_the_rows_and_a_blank_one_and_replaces_them(org, login):
    from tests.factories import register
    from webapp.workflows import engine

    case = register(org, anniversaries=[("结婚纪念日", 520)])
    db.session.commit()
    engine.fire(case, "send_back", org["hq"], version=case.version, comment="补全地址")
    db.session.commit()
    client = login("assoc1")
    page = client.get(f"/registrations/{case.id}/complete").data.decode()
    assert 'value="结婚纪念日"' in page and 'value="05-20"' in page
    assert 'name="anniversaries-1-name"' in page  # a blank row to add one
    data = form_fields(member_data(org["assoc1"], anniversaries=[("结婚纪念日", 521), ("生子纪念日", 229)]))
    data["version"] = str(case.version)
    data["mobile"] = case.member.mobile
    assert client.post(f"/registrations/{case.id}/complete", data=data).status_code == 302
    db.session.expire_all()
    member = db.session.get(Member, case.member_id)
    assert [(a.name, a.month_day) for a in member.anniversaries] == [("结婚纪念日", 521),
                                                                    ("生子纪念日", 229)]
    assert db.session.scalar(select(func.count(MemberAnniversary.id))) == 2  # old row gone
    resubmit = db.session.scalars(select(AuditEvent).where(AuditEvent.case_id == case.id,
                                                           AuditEvent.action == "resubmit")).one()
    assert "anniversaries" in resubmit.data["changed"]  # the field's name, not the values


def test_bad_anniversary_rows_are_refused_in_chinese_and_nothing_saved(org, login):
    for rows, message in (([("结婚纪念日", "13-40")], "请按 月-日 填写"),
                          ([("结婚纪念日", "")], "请填写纪念日日期"),
                          ([("", "05-20")], "请填写纪念日名称"),
                          ([("结婚纪念日" * 5, "05-20")], "")):
        response = _post(login, org, rows)
        assert response.status_code == 422, rows
        assert message in response.data.decode()
    assert db.session.scalar(select(func.count(Member.id))) == 0


def test_the_migration_moves_the_old_single_anniversary_into_the_table(tmp_path):
    path = next(Path("migrations/versions").glob("7c0806e2088a_*.py"))
    spec = importlib.util.spec_from_file_location("anniversary_migration", path)
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'old.sqlite'}")
    with engine.begin() as conn:  # the schema before it: member.anniversary, encrypted
        conn.execute(sa.text("CREATE TABLE member (id INTEGER PRIMARY KEY, anniversary TEXT)"))
        conn.execute(sa.text("CREATE TABLE member_anniversary (id INTEGER PRIMARY KEY, "
                             "member_id INTEGER, name VARCHAR(20), month_day SMALLINT)"))
        conn.execute(sa.text("INSERT INTO member VALUES (1, :a), (2, NULL), (3, :bad)"),
                     {"a": encrypt("2015-10-01"), "bad": "not a token"})
        assert migration.move_anniversaries(conn) == 1
        rows = conn.execute(sa.text("SELECT member_id, name, month_day FROM member_anniversary")).all()
    assert [tuple(r) for r in rows] == [(1, "纪念日", 1001)]
