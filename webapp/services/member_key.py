"""The member-data key against the data: refuse a key the data is not under, rotate in batches.

The database keeps the fingerprint of the key its member data is encrypted with (`member_key`).
A process started with another key (instance/member.key deleted and regenerated, a typo in
MEMBER_DATA_KEY) would show empty mobiles, find nobody by mobile and accept duplicates; it is
refused at start instead. Rotation re-encrypts every encrypted column and the mobile look-up
hash in batches, each its own commit; an interrupted rotation runs again from the start and
skips nothing it needs (a token already under the new key is read by the new key).
"""
from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Text, inspect, literal, select, type_coerce, update

from .. import crypto
from ..extensions import db
from ..models import (Complaint, GroupRobot, Member, MemberKey, OutboxMessage, OutgoingWebhook,
                      StaffPost, User)


class KeyMismatch(RuntimeError):
    """The configured member-data key is not the one the data is encrypted with."""


# Every encrypted column, by table; a new Encrypted column must be listed here (test_member_key).
ENCRYPTED = {Member: ("mobile", "birth_date", "address", "work_address", "email"),
             Complaint: ("contact",), OutboxMessage: ("recipient",),
             User: ("email",), GroupRobot: ("url", "secret"), OutgoingWebhook: ("secret",),
             StaffPost: ("recipient",)}
PROBE = 20  # stored tokens tried when no fingerprint was recorded yet


def verify() -> str:
    """Refuse to go on when the data is under another key; record the fingerprint on first use."""
    if not inspect(db.engine).has_table(MemberKey.__tablename__):
        return "no schema yet"  # before `db upgrade`: nothing encrypted to protect
    current = crypto.fingerprint()
    row = db.session.get(MemberKey, 1)
    if row is not None and row.rotating_to:
        raise KeyMismatch("a member-data key rotation was interrupted: run the rotation again "
                          "(README, Production › Member-data key) before starting the app")
    if row is not None and row.fingerprint != current:
        raise KeyMismatch("MEMBER_DATA_KEY (or instance/member.key) is not the key the member data "
                          "is encrypted with: restore the right key; starting would show empty "
                          "personal data and accept duplicate members")
    if row is None:
        stored = Member.__table__.c.mobile
        tokens = [t for t in db.session.scalars(  # the raw tokens, not decrypted by the column type
            select(type_coerce(stored, Text)).where(stored.is_not(None)).limit(PROBE)) if t]
        if tokens and not any(crypto.can_decrypt(t) for t in tokens):
            raise KeyMismatch("MEMBER_DATA_KEY (or instance/member.key) does not read the stored "
                              "member data: restore the right key")
        db.session.add(MemberKey(id=1, fingerprint=current))
        db.session.commit()
        return "recorded"
    return "ok"


def rotate(*, old_key: str, new_key: str, batch: int = 500,
           progress: Callable[[str, int], None] | None = None, stop_after: int | None = None) -> int:
    """Re-encrypt all member data from old_key to new_key, `batch` rows per commit; returns rows
    done. Runs again after an interruption (`stop_after` batches simulates one in tests)."""
    old_fp, new_fp = crypto.fingerprint(old_key), crypto.fingerprint(new_key)
    row = db.session.get(MemberKey, 1)
    if row is None:
        raise KeyMismatch("no key fingerprint recorded: start the app once with the current key")
    if row.fingerprint == new_fp and not row.rotating_to:
        return 0  # already done
    if row.fingerprint != old_fp or row.rotating_to not in (None, new_fp):
        raise KeyMismatch("the old key is not the one the data is under (or another rotation "
                          "is unfinished)")
    row.rotating_to = new_fp
    db.session.commit()
    rotator, done, batches = crypto.Rotator(old_key, new_key), 0, 0
    for model, columns in ENCRYPTED.items():
        table = model.__table__
        # the raw tokens, not the Encrypted type (which would decrypt with the configured key)
        cols = [table.c.id] + [type_coerce(table.c[name], Text).label(name) for name in columns]
        last = 0
        while True:
            rows = db.session.execute(select(*cols).where(table.c.id > last)
                                      .order_by(table.c.id).limit(batch)).all()
            if not rows:
                break
            for r in rows:
                values = {name: rotator.rotate(getattr(r, name)) for name in columns}
                if model is Member and r.mobile:
                    values["mobile_hash"] = rotator.lookup_hash("+86" + rotator.plain(r.mobile))
                db.session.execute(update(table).where(table.c.id == r.id)
                                   .values(**{k: _raw(v) for k, v in values.items()}))
            db.session.commit()
            last, done, batches = rows[-1].id, done + len(rows), batches + 1
            if progress:
                progress(table.name, last)
            if stop_after is not None and batches >= stop_after:
                return done
    row = db.session.get(MemberKey, 1)
    row.fingerprint, row.rotating_to = new_fp, None
    db.session.commit()
    return done


def _raw(value):
    """Bind a ready token as plain text, so the Encrypted column type does not encrypt it again."""
    return None if value is None else literal(value, type_=Text)
