"""A lost or wrong member-data key is refused at start, never silently replaced; a key rotation
re-encrypts everything in batches and resumes after an interruption."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from tests.factories import make_org, member_data
from webapp import crypto
from webapp.extensions import db
from webapp.models import Complaint, Member, MemberKey, OutboxMessage
from webapp.services import member_key
from webapp.services.registration import find_by_mobile, register

pytestmark = pytest.mark.commits  # other connections and processes read what these tests write

NOW = datetime(2026, 11, 20, 2, 0, tzinfo=timezone.utc)


@pytest.fixture
def restore_key(app):
    """Tests here switch the process-wide key; put the suite's key back afterwards."""
    yield
    crypto.configure(app.config["MEMBER_DATA_KEY"])


def _members(n: int) -> list[tuple[int, str]]:
    org = make_org()
    out = []
    for _ in range(n):
        data = member_data(org["assoc1"])
        case = register(actor=org["assoc1"], store=org.stores[0], data=data, now=NOW)
        out.append((case.member_id, data["mobile"]))
    return out


def _config(app, tmp_path, key: str = ""):
    import config

    class Checked(config.TestConfig):
        MEMBER_KEY_CHECK = True
        INSTANCE_DIR = str(tmp_path)
        MEMBER_DATA_KEY = key
        SQLALCHEMY_DATABASE_URI = app.config["SQLALCHEMY_DATABASE_URI"]
    return Checked


def test_a_regenerated_key_file_is_refused_and_not_kept(app, ctx, tmp_path, restore_key):
    from webapp import create_app

    _members(2)
    assert member_key.verify() == "recorded"  # the first start with the check records the key
    assert member_key.verify() == "ok"
    # instance/member.key deleted: a start generates a new key and must refuse it
    with pytest.raises(member_key.KeyMismatch, match="not the key"):
        create_app(_config(app, tmp_path))
    assert not (tmp_path / "member.key").exists()  # the wrong key is not left behind
    # the right key starts
    crypto.configure(app.config["MEMBER_DATA_KEY"])
    create_app(_config(app, tmp_path, app.config["MEMBER_DATA_KEY"]))


def test_data_from_before_the_check_is_probed(app, ctx, restore_key):
    _members(1)
    crypto.configure(crypto.generate_key())  # no fingerprint yet, and a key that reads nothing
    with pytest.raises(member_key.KeyMismatch, match="does not read"):
        member_key.verify()
    assert db.session.scalar(select(MemberKey)) is None


def test_rotation_in_batches_resumes_and_everything_reads(app, ctx, tmp_path, restore_key):
    old = app.config["MEMBER_DATA_KEY"]
    members = _members(5)
    sms = OutboxMessage(recipient="13900000001", template="t", body="b", created_at=NOW)
    db.session.add(sms)
    db.session.commit()
    member_key.verify()
    new = crypto.generate_key()
    # interrupted after two batches of two
    member_key.rotate(old_key=old, new_key=new, batch=2, stop_after=2)
    assert db.session.get(MemberKey, 1).rotating_to == crypto.fingerprint(new)
    with pytest.raises(member_key.KeyMismatch, match="interrupted"):
        member_key.verify()  # neither key may start the app half-way
    crypto.configure(new)
    with pytest.raises(member_key.KeyMismatch):
        member_key.verify()
    # the same command again finishes the job
    member_key.rotate(old_key=old, new_key=new, batch=2)
    assert member_key.rotate(old_key=old, new_key=new) == 0  # a third run has nothing to do
    db.session.expire_all()
    assert member_key.verify() == "ok"
    for member_id, mobile in members:
        assert db.session.get(Member, member_id).mobile == mobile
        assert find_by_mobile("+86" + mobile).id == member_id  # look-up hash moved too
    assert db.session.get(OutboxMessage, sms.id).recipient == "13900000001"
    # the old key no longer starts the app
    crypto.configure(old)
    with pytest.raises(member_key.KeyMismatch, match="not the key"):
        member_key.verify()


def test_rotation_refuses_a_wrong_old_key(app, ctx, restore_key):
    _members(1)
    member_key.verify()
    with pytest.raises(member_key.KeyMismatch, match="old key"):
        member_key.rotate(old_key=crypto.generate_key(), new_key=crypto.generate_key())


def test_every_encrypted_column_is_rotated(app):
    """A new Encrypted column that the rotation does not know would become unreadable."""
    listed = {(m.__table__.name, c) for m, cols in member_key.ENCRYPTED.items() for c in cols}
    found = {(t.name, c.name) for t in db.metadata.sorted_tables for c in t.columns
             if isinstance(c.type, crypto.Encrypted)}
    assert found == listed
    assert Complaint  # imported so that its table is in the metadata
