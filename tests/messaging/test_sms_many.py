"""queue_sms_many fills the texts in the database: every row it writes must be the row queue_sms
writes for the same member (body, segments, provider variables, recipient), whatever the member,
the store's particulars or the template (edited by the administrator, marketing, per-member
columns)."""
from datetime import datetime, timezone

import time_machine
from sqlalchemy import delete, select

from tests.factories import register
from webapp import outbox
from webapp.extensions import db
from webapp.models import Member, MessageTemplateVersion, OutboxMessage

T0 = datetime(2026, 11, 20, 2, 0, tzinfo=timezone.utc)


def _members(org):
    with time_machine.travel(T0, tick=False):
        cases = [register(org, name="王小明", gender="M"), register(org, name="李", gender="F"),
                 register(org, name="Anna Smith", gender="F"), register(org, name="赵六", gender="M")]
    members = [c.member for c in cases]
    members[1].points = 2350
    members[0].store.address, members[0].store.phone = "上海市淮海中路99号", "021-5555 0101"
    members[3].mobile_dead_at = T0  # a dead number gets nothing either way
    db.session.flush()
    return members


def _rows(template):
    rows = db.session.scalars(select(OutboxMessage).where(OutboxMessage.template == template)
                              .order_by(OutboxMessage.member_id)).all()
    return [(m.member_id, m.store_id, m.recipient, m.recipient_name, m.body, m.segments,
             m.params, m.status, m.channel) for m in rows]


def _both(members, template, *, extra=None, columns=None, per_member=None):
    db.session.execute(delete(OutboxMessage))
    for m in members:
        outbox.queue_sms(m, template, extra=(extra or {}) | (per_member(m) if per_member else {}))
    one_by_one = _rows(template)
    db.session.execute(delete(OutboxMessage))
    queued = outbox.queue_sms_many(template, Member.id.in_([m.id for m in members]),
                                   extra=extra, columns=columns)
    return one_by_one, _rows(template), queued


def test_the_database_fills_each_text_as_python_does(org):
    members = _members(org)
    one_by_one, at_once, queued = _both(members, "welcome_formal")
    assert queued == 3 and at_once == one_by_one
    assert "王先生" in at_once[0][4] and "李女士" in at_once[1][4] and "2350" in at_once[1][4]


def test_per_member_columns_and_the_store_particulars(org):
    members = _members(org)
    one_by_one, at_once, _ = _both(
        members, "card_renewed", columns={"expires_on": Member.applied_on},
        per_member=lambda m: {"expires_on": m.applied_on.isoformat()})
    assert at_once == one_by_one and "2026-11-20" in at_once[0][4]
    one_by_one, at_once, _ = _both(members, "care_store_anniversary", extra={"occasion": "十周年店庆"})
    assert at_once == one_by_one and "上海市淮海中路99号" in at_once[0][4]
    assert outbox.OPT_OUT_TEXT in at_once[0][4]  # a marketing text carries the opt-out


def test_an_edited_template_with_chinese_placeholders_and_long_text(org):
    members = _members(org)
    db.session.add(MessageTemplateVersion(key="welcome_formal", version=1, body=(
        "{称呼}，恭喜成为正式会员，积分{积分}分。" + "感谢支持！" * 20)))
    db.session.flush()
    one_by_one, at_once, _ = _both(members, "welcome_formal")
    assert at_once == one_by_one and all(row[5] == 2 for row in at_once)
    db.session.add(MessageTemplateVersion(key="welcome_formal", version=2,
                                          body="Dear {name}, points: {points}. " + "x" * 150))
    db.session.flush()
    db.session.info.pop(outbox.TEMPLATES_CACHE, None)
    one_by_one, at_once, _ = _both(members, "welcome_formal")
    assert at_once == one_by_one
    # 177 characters: UCS-2 (67 a part) with a Chinese name, plain ASCII (153 a part) without
    assert [row[5] for row in at_once] == [3, 3, 2]
