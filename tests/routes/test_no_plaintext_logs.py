"""A member's mobile never appears in the logs, whatever the log level."""
import logging

from tests.factories import form_fields, member_data
from webapp.extensions import db
from webapp.models import Case


def test_registration_and_review_log_no_mobile(org, login, client, caplog):
    caplog.set_level(logging.DEBUG)
    assoc = login("assoc1")
    assoc.post("/members/new", data=form_fields(member_data(org["assoc1"], mobile="13811112222")))
    assoc.get("/members?q=13811112222")
    client.post("/logout")
    case = db.session.query(Case).one()
    hq = login("hq")
    hq.post(f"/cases/{case.id}/approve", data={"version": case.version})
    hq.get("/outbox")
    assert "13811112222" not in caplog.text
    assert "1381111" not in caplog.text


def test_a_mobile_typed_as_username_is_masked_in_the_log(org, client, caplog):
    from sqlalchemy import select

    from webapp.models import LoginAttempt

    caplog.set_level(logging.DEBUG)
    assert client.post("/login", data={"username": "138 1111 2222", "password": "x"}).status_code == 401
    client.post("/login", data={"username": "assoc1", "password": "wrong"})
    assert "1111" not in caplog.text and "138****2222" in caplog.text and "assoc1" in caplog.text
    kept = db.session.scalars(select(LoginAttempt.username)).all()
    assert "138****2222" in kept and not any("1111" in k for k in kept)
