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
