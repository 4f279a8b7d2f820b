"""Care batches (SPEC §3.4): generated ahead of each occasion, reviewed by the store manager."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from .. import clock, settings
from ..calendar import local_date
from ..extensions import db
from ..i18n_labels import N_, Refusal
from ..models import CareLine, Case, Member, Store, User
from ..occasions import (ANNIVERSARY, BIRTHDAY, Occasion, birthday_month_days, store_anniversaries,
                         upcoming)
from ..permissions import can
from ..workflows import engine
from ..workflows.care_batch_steps import (EMAIL_POINTS, METHODS, TIER_METHODS, batch_sources,
                                          insert_lines)


class CareRefusal(Refusal):
    """A change to a batch was refused (message in the user's language)."""


def season_launches() -> tuple[str, ...]:
    """The setting care_season_launches as "MMDD" texts (blank or malformed entries ignored)."""
    raw = settings.get("care_season_launches").replace("，", ",")
    return tuple(t.strip() for t in raw.split(",") if len(t.strip()) == 4 and t.strip().isdigit())


def _open(occasion: Occasion, month_days: tuple[int, ...], now: datetime) -> int:
    process = engine.get_process("care_batch")
    data = {"occasion": occasion.key, "day": occasion.day.isoformat(), "kind": occasion.kind,
            "label": occasion.label}
    if occasion.act_on:
        data["act_on"] = occasion.act_on.isoformat()
    ids = engine.start_many(process, batch_sources(occasion, month_days), now=now, data=data)
    if ids:
        insert_lines(ids, occasion, month_days, now=now)
    return len(ids)


def generate_due(*, now: datetime | None = None) -> dict[str, int]:
    """Open the batches whose generation day has come (occasions within care_lead_days, a
    day's birthdays and anniversaries within care_birthday_lead_days, a store's opening
    anniversary within care_store_anniversary_lead_days), one per store; commits; a second
    run opens nothing twice (dedupe keys); returns batches opened per occasion."""
    now = now or clock.now()
    today = local_date(now)
    opened: dict[str, int] = {}
    try:
        for occasion in upcoming(today, settings.get_int("care_lead_days"),
                                 season_launches=season_launches()):
            opened[occasion.key] = _open(occasion, (), now)
        for ahead in range(settings.get_int("care_birthday_lead_days") + 1):
            day = today + timedelta(days=ahead)
            birthday = Occasion("birthday", N_("生日"), day, BIRTHDAY)
            opened[f"birthday:{day.isoformat()}"] = _open(birthday, birthday_month_days(day), now)
            anniversary = Occasion("anniversary", N_("纪念日"), day, ANNIVERSARY)
            opened[f"anniversary:{day.isoformat()}"] = _open(anniversary, birthday_month_days(day), now)
        stores = db.session.execute(select(Store.id, Store.opened_on)
                                    .where(Store.opened_on.is_not(None))).all()
        for occasion in store_anniversaries(
                [tuple(r) for r in stores], today, settings.get_int("care_store_anniversary_lead_days"),
                settings.get_int("care_store_invite_days")):
            opened[f"store_anniversary:{occasion.store_id}"] = _open(occasion, (), now)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return opened


def _reviewable(actor: User, case: Case) -> None:
    if case is None or case.process != "care_batch" or not can(actor, "case.view", case):
        raise CareRefusal(N_("名单不存在"))
    if not can(actor, "care.review", case):
        raise CareRefusal(N_("只有本店店长可以修改关怀名单"))
    if case.state != "review":
        raise CareRefusal(N_("名单已审核，不能再修改"))


def _line(actor: User, line_id: int) -> CareLine:
    line = db.session.get(CareLine, line_id)
    if line is None:
        raise CareRefusal(N_("名单不存在"))
    _reviewable(actor, db.session.get(Case, line.case_id))
    return line


def _commit():
    try:
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise


def remove_line(*, actor: User, line_id: int, now: datetime | None = None) -> CareLine:
    """The manager takes a member out of the batch (kept as a removed line)."""
    line = _line(actor, line_id)
    line.status, line.reason, line.changed_at = "removed", "manager", now or clock.now()
    line.added_by_id = actor.id
    _commit()
    return line


def change_method(*, actor: User, line_id: int, method: str, now: datetime | None = None) -> CareLine:
    """The manager gives a member another method of care."""
    line = _line(actor, line_id)
    if method not in METHODS:
        raise CareRefusal(N_("未知的关怀方式"))
    if line.status != "planned":
        raise CareRefusal(N_("该会员不在待关怀名单中"))
    line.method, line.changed_at, line.added_by_id = method, now or clock.now(), actor.id
    _commit()
    return line


def add_member(*, actor: User, case_id: int, card_no: str, now: datetime | None = None) -> CareLine:
    """The manager adds a member of the store (by card number) with the tier's method."""
    case = db.session.get(Case, case_id)
    _reviewable(actor, case)
    member = db.session.scalars(select(Member).where(Member.card_no == card_no.strip(),
                                                     Member.store_id == case.store_id)).first()
    if member is None:
        raise CareRefusal(N_("本店没有该卡号的会员"))
    if member.mobile_dead_at is not None:
        raise CareRefusal(N_("该会员的手机号已标记为空号，不能加入名单"))
    method = TIER_METHODS[case.data["kind"]].get(member.tier, TIER_METHODS[case.data["kind"]]["C"])
    line = db.session.scalars(select(CareLine).where(CareLine.case_id == case.id,
                                                     CareLine.member_id == member.id)).first()
    if line is not None and line.status == "planned":
        raise CareRefusal(N_("该会员已在名单中"))
    if line is None:
        line = CareLine(case_id=case.id, member_id=member.id, store_id=member.store_id,
                        tier=member.tier)
        db.session.add(line)
    line.method, line.status, line.reason = method, "planned", "added"
    line.added_by_id, line.changed_at = actor.id, now or clock.now()
    _commit()
    return line


def batch_lines(*, actor: User, case_id: int) -> list[CareLine]:
    """The lines of a batch the actor may see, planned first."""
    case = db.session.get(Case, case_id)
    if case is None or case.process != "care_batch" or not can(actor, "case.view", case):
        raise CareRefusal(N_("名单不存在"))
    return db.session.scalars(select(CareLine).where(CareLine.case_id == case_id)
                              .order_by(CareLine.status.desc(), CareLine.tier, CareLine.id)).all()


STATUS_LABELS = {"planned": N_("待关怀"), "removed": N_("店长移除"), "excluded": N_("系统排除")}
REASON_LABELS = {"dead_number": N_("空号"), "frequency": N_("多次拜访积分未增长，改为季度回访"),
                 "manager": N_("店长移除"), "added": N_("店长添加")}


def batch_view(*, actor: User, case: Case, tier: str | None = None) -> dict:
    """What the case page shows of a batch: its lines (of one tier with `tier`: the line's tier,
    which chose its method), the methods to choose from, whether the actor may still change it;
    `planned` counts the whole batch."""
    lines = batch_lines(actor=actor, case_id=case.id)
    order = {"planned": 0, "excluded": 1, "removed": 2}
    shown = [l for l in lines if tier is None or l.tier == tier]
    return {"lines": sorted(shown, key=lambda l: (order.get(l.status, 3), l.tier, l.id)),
            "tier": tier, "email_tiers": EMAIL_POINTS.get(case.data.get("occasion"), ""),
            "methods": {code: m.label for code, m in METHODS.items()},
            "statuses": STATUS_LABELS, "reasons": REASON_LABELS,
            "editable": case.state == "review" and can(actor, "care.review", case),
            "planned": sum(1 for l in lines if l.status == "planned")}
