"""Member upkeep (issue 11): the store manager reassigns the associate (分管导购); staff flag a
number dead or corrected; the store's member list as xlsx (客户资料册). Every change audited."""
from __future__ import annotations

from datetime import datetime
from io import BytesIO

from sqlalchemy import select, update

from .. import clock, permissions, spreadsheet
from ..calendar import local_date
from ..extensions import db
from ..i18n_labels import N_, Refusal, say
from ..models import AuditEvent, Case, Member, Role, Task, User
from ..workflows.tier_change_steps import TIERS


class UpkeepRefused(Refusal):
    """A member upkeep step was refused; str() is the message in the user's language."""


def reassign(*, actor: User, member: Member, associate_id: int | None,
             now: datetime | None = None) -> None:
    """Give the member another associate of the same store; the open tasks of the member's
    cases that the old associate held move with the member. Audited; commits."""
    now = now or clock.now()
    if not permissions.can(actor, "member.reassign", member):
        raise UpkeepRefused(N_("只有店长可以更换分管导购"))
    new = db.session.get(User, associate_id) if associate_id else None
    if (new is None or not new.active or new.store_id != member.store_id
            or new.role not in (Role.ASSOCIATE, Role.STORE_MANAGER)):
        raise UpkeepRefused(N_("请选择本店在职的导购"))
    old = member.associate_id
    if old == new.id:
        raise UpkeepRefused(N_("该会员已由此导购分管"))
    member.associate_id = new.id
    if old is not None:
        db.session.execute(update(Task).where(
            Task.status == "open", Task.assignee_id == old,
            Task.case_id.in_(select(Case.id).where(Case.member_id == member.id)))
            .values(assignee_id=new.id).execution_options(synchronize_session=False))
    db.session.add(AuditEvent(object_type="member", object_id=member.id, actor_id=actor.id, at=now,
                              action="reassign", data={"from": old, "to": new.id}))
    db.session.commit()


def set_mobile_dead(*, actor: User, member: Member, dead: bool, now: datetime | None = None) -> None:
    """Flag the number dead (空号/停机: no call, no SMS planned to it) or clear the flag once the
    number is corrected or confirmed working. Audited; commits."""
    now = now or clock.now()
    if not permissions.can(actor, "member.mobile_status", member):
        raise UpkeepRefused(N_("您没有权限标记该会员的号码"))
    if dead == (member.mobile_dead_at is not None):
        raise UpkeepRefused(N_("号码状态未变化"))
    member.mobile_dead_at = now if dead else None
    db.session.add(AuditEvent(object_type="member", object_id=member.id, actor_id=actor.id, at=now,
                              action="mobile_dead" if dead else "mobile_corrected", data={}))
    db.session.commit()


HEADINGS = (N_("卡号"), N_("姓名"), N_("性别"), N_("手机"), N_("级别"), N_("积分"), N_("会员卡"),
            N_("分管导购"), N_("入会日期"), N_("号码状态"))


def roster_xlsx(*, actor: User, now: datetime | None = None) -> bytes:
    """The store's member list (客户资料册), one sheet per tier ("不同级别的客户资料分册保存"):
    the actor's own store only; mobiles in full only for a role that may reveal them (and the
    export is then logged as a reveal). Audited; commits."""
    from openpyxl import Workbook

    now = now or clock.now()
    if not permissions.can(actor, "member.roster") or actor.store_id is None:
        raise UpkeepRefused(N_("只有门店人员可以导出本店客户资料册"))
    members = db.session.scalars(
        select(Member).where(Member.store_id == actor.store_id, Member.status == "active")
        .order_by(Member.tier, Member.card_no)).all()
    full = permissions.can(actor, "member.reveal", members[0]) if members else False
    book = Workbook()
    book.remove(book.active)
    for tier in TIERS:
        sheet = book.create_sheet(say(N_("%(tier)s类客户"), tier=tier))
        spreadsheet.append(sheet, [say(h) for h in HEADINGS])
        for m in (m for m in members if m.tier == tier):
            spreadsheet.append(sheet, [
                m.card_no, m.name, say(N_("男")) if m.gender == "M" else say(N_("女")),
                (m.mobile or "") if full else m.masked_mobile, m.tier, m.points,
                say(N_("正式会员卡")) if m.card_type == "formal" else say(N_("临时会员卡")),
                m.associate.display_name if m.associate else "", m.applied_on.isoformat(),
                say(N_("空号/停机")) if m.mobile_dead_at else ""])
        spreadsheet.print_setup(sheet, header_row=1, last_column="J", landscape=True)
    db.session.add(AuditEvent(object_type="store", object_id=actor.store_id, actor_id=actor.id,
                              at=now, action="roster_export",
                              data={"members": len(members), "mobiles_in_full": full,
                                    "day": local_date(now).isoformat()}))
    db.session.commit()
    out = BytesIO()
    book.save(out)
    return out.getvalue()
