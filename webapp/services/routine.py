"""The weekly routine (SPEC §3.8; seed 000 §5): each associate memorises a few member profiles
a day (setting care_profiles_per_day, default 2) and reviews yesterday's.

The profiles of a day rotate through the associate's own assigned members first, then the
store's other active members, by member id: the same day always gives the same profiles, and
every member comes round in turn. How many a day is the week's plan (set by the store manager on
Monday, workflows/weekly_routine.py), else the setting.

The week's steps: the Monday plan, the Friday memorisation check (questions drawn from the
week's profiles, scored against the member's data), the Saturday visits against the plan and
the Sunday report. Every function that writes commits, or writes nothing when it refuses.
"""
from __future__ import annotations

import random
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import case as sql_case
from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from .. import clock, settings
from ..calendar import local_date, local_midnight_utc
from ..extensions import db
from ..i18n_labels import N_, Refusal
from ..models import Case, Member, Role, RoutineQuestion, Sale, User, VisitRecord
from ..periods import day_window
from ..permissions import can
from . import transaction


@dataclass(frozen=True)
class Profile:
    member: Member
    purchases: list  # the last sales: (local date, amount in fen, items)
    own: bool  # one of the associate's assigned members
    last_visit: object = None  # the last VisitRecord (visited_at, method, result) or None


def _pool(user: User) -> list[int]:
    own_first = sql_case((Member.associate_id == user.id, 0), else_=1)
    return db.session.scalars(select(Member.id).where(Member.store_id == user.store_id,
                                                      Member.status == "active")
                              .order_by(own_first, Member.id)).all()


def _of_day(pool: list[int], day: date, n: int) -> list[int]:
    if not pool or n <= 0:
        return []
    start = (day.toordinal() * n) % len(pool)
    return [pool[(start + i) % len(pool)] for i in range(min(n, len(pool)))]


def _profiles(user: User, ids: list[int]) -> list[Profile]:
    # the named anniversaries too ("结婚纪念日 05-20"), read with the members in one more query
    members = {m.id: m for m in db.session.scalars(select(Member).where(Member.id.in_(ids))
                                                   .options(selectinload(Member.anniversaries)))}
    out = []
    for member_id in ids:
        sales = db.session.execute(select(Sale.sold_at, Sale.amount_fen, Sale.items)
                                   .where(Sale.member_id == member_id)
                                   .order_by(Sale.sold_at.desc()).limit(3)).all()
        visit = db.session.execute(select(VisitRecord.visited_at, VisitRecord.method,
                                          VisitRecord.result)
                                   .where(VisitRecord.member_id == member_id)
                                   .order_by(VisitRecord.visited_at.desc()).limit(1)).first()
        out.append(Profile(members[member_id],
                           [(local_date(s.sold_at), s.amount_fen, s.items) for s in sales],
                           members[member_id].associate_id == user.id, visit))
    return out


def profiles_of_day(*, actor: User, now: datetime | None = None) -> dict:
    """Today's profiles to memorise and yesterday's to review, for an associate of a store."""
    if not can(actor, "care.profiles") or actor.store_id is None:
        raise Refusal(N_("只有门店导购和店长有每日记忆的会员档案"))
    today = local_date(now or clock.now())
    yesterday = today - timedelta(days=1)
    pool = _pool(actor)
    return {"day": today,
            "today": _profiles(actor, _of_day(pool, today, per_day(actor, today))),
            "yesterday": _profiles(actor, _of_day(pool, yesterday, per_day(actor, yesterday))),
            "check": open_check(actor=actor, now=now)}


def per_day(user: User, day: date) -> int:
    """How many profiles `user` memorises on `day`: the week's plan, else the setting."""
    case = week_case(store_id=user.store_id, day=day) if user.store_id else None
    plan = (case.data or {}).get("plan") if case else None
    if plan and str(user.id) in plan.get("profiles", {}):
        return int(plan["profiles"][str(user.id)])
    return settings.get_int("care_profiles_per_day")




def daily_sheet(*, actor: User, now: datetime | None = None) -> dict:
    """One associate's shop-floor sheet of the day: the calls, visits and follow-ups due by
    tonight or opened today (with the filled script), today's profiles. No phone numbers:
    it is printed."""
    from ..models import Task
    from ..outbox import script_text
    from ..workflows.engine import get_process, task_label

    day = profiles_of_day(actor=actor, now=now)
    start, end = day_window(day["day"])
    # due by tonight, or opened today (a holiday's call is due on the next working day)
    tasks = db.session.scalars(select(Task).join(Case, Case.id == Task.case_id).where(
        Task.assignee_id == actor.id, Task.status == "open",
        or_(Task.due_at < end, Task.created_at >= start))
        .order_by(Task.due_at, Task.id)).all()
    rows = []
    for task in tasks:
        spec = get_process(task.case.process).tasks.get(task.case.state)
        member = task.case.member
        # filled with the case's own values too (the sale day, the occasion…), as on the case page
        script = (script_text(spec.script, member, task.case.data) if spec and spec.script and member
                  else "")
        rows.append({"title": task.case.title, "label": task_label(task), "due_at": task.due_at,
                     "member": member, "script": script, "case_id": task.case_id})
    return {"associate": actor.display_name, "store": actor.store.name, "day": day["day"],
            "tasks": rows, "profiles": day["today"], "yesterday": day["yesterday"],
            "check": day["check"]}


def daily_sheet_pdf(*, actor: User, now: datetime | None = None) -> bytes:
    """The shop-floor sheet as one A4 PDF."""
    from ..formatting import local_time, yuan
    from ..pdf import render_pdf

    return render_pdf("daily_sheet.html", sheet=daily_sheet(actor=actor, now=now), yuan=yuan,
                      local=local_time)


# --- the week (workflows/weekly_routine.py) ------------------------------------------------------

class RoutineError(Refusal):
    """Bad input or a step not allowed now; nothing was written."""


def week_key(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def week_case(*, store_id: int, day: date) -> Case | None:
    """The store's weekly routine case of the ISO week `day` falls in."""
    return db.session.scalar(select(Case).where(
        Case.dedupe_key == f"weekly_routine:{week_key(day)}:{store_id}"))


def _monday(case: Case) -> date:
    from ..workflows.weekly_routine_steps import week_monday
    return week_monday(case.data["period"])


def associates(store_id: int) -> list[User]:
    return db.session.scalars(select(User).where(User.store_id == store_id, User.active.is_(True),
                                                 User.role == Role.ASSOCIATE)
                              .order_by(User.id)).all()


def _manager_of(actor: User, case: Case) -> None:
    if (case.process != "weekly_routine" or actor.role != Role.STORE_MANAGER
            or actor.store_id != case.store_id):
        raise RoutineError(N_("只有本店店长可以操作本周例行工作"))


TIERS = ("A", "B", "C")
DEFAULT_METHODS = {"A": "visit", "B": "call", "C": "sms"}  # the seed's care methods by tier


def plan_of(case: Case) -> dict:
    """The week's plan as set, or the defaults the Monday form starts from."""
    plan = (case.data or {}).get("plan")
    if plan:
        return plan
    n = settings.get_int("care_profiles_per_day")
    return {"methods": dict(DEFAULT_METHODS), "note": "",
            "profiles": {str(u.id): n for u in associates(case.store_id)},
            "visits": {str(u.id): 0 for u in associates(case.store_id)}}


def _count(text, label: str, top: int) -> int:
    try:
        value = int(str(text).strip())
    except (TypeError, ValueError):
        raise RoutineError(N_("%(what)s须为 0—%(top)s 的整数"), what=label, top=top) from None
    if not 0 <= value <= top:
        raise RoutineError(N_("%(what)s须为 0—%(top)s 的整数"), what=label, top=top)
    return value


def set_plan(*, actor: User, case: Case, version: int, methods: dict, profiles: dict,
             visits: dict, note: str = "", now: datetime | None = None) -> Case:
    """Monday: the week's methods per tier, each associate's profiles a day and visits."""
    from ..workflows import engine
    from ..workflows.weekly_routine_steps import METHODS

    _manager_of(actor, case)
    if any(methods.get(t) not in METHODS for t in TIERS):
        raise RoutineError(N_("请为每个等级选择拜访方式"))
    staff = associates(case.store_id)
    plan = {"methods": {t: methods[t] for t in TIERS}, "note": (note or "").strip()[:500],
            "profiles": {str(u.id): _count(profiles.get(str(u.id), ""), u.display_name, 20)
                         for u in staff},
            "visits": {str(u.id): _count(visits.get(str(u.id), ""), u.display_name, 200)
                       for u in staff}}
    with transaction():
        return engine.fire(case, "set_plan", actor, version=version, now=now, data={"plan": plan})


def week_profiles(user: User, case: Case, *, until: date) -> list[int]:
    """The members `user` had to memorise this week, Monday to `until`, in order, once each."""
    pool, seen = _pool(user), []
    day = _monday(case)
    while day <= until and day < _monday(case) + timedelta(days=7):
        for member_id in _of_day(pool, day, per_day(user, day)):
            if member_id not in seen:
                seen.append(member_id)
        day += timedelta(days=1)
    return seen


_SIZE = re.compile(r"(\d{2,3}码|X{0,3}[SML]码?|XXXL|XXL|XL)(?![A-Za-z])", re.IGNORECASE)
KINDS = {"size": N_("%(name)s的尺码"), "last_purchase": N_("%(name)s最近一次购买的日期"),
         "birthday": N_("%(name)s的生日（月-日）"), "tier": N_("%(name)s的会员等级"),
         "preference": N_("%(name)s喜欢的款式和颜色")}


def _norm_size(text: str) -> str:
    return re.sub(r"\s|码", "", text or "").upper()


def size_of(member: Member) -> str | None:
    """The member's size (尺码), else the size written in older records' free-text preferences
    ("L码 商务休闲 深蓝" → "L")."""
    match = _SIZE.search(member.pref_sizes or "") or _SIZE.search(member.preferences or "")
    return _norm_size(match.group(1)) if match else None


def _last_purchase(member_id: int) -> date | None:
    sold_at = db.session.scalar(select(func.max(Sale.sold_at)).where(
        Sale.member_id == member_id, Sale.return_of_id.is_(None)))
    return local_date(sold_at) if sold_at else None


def _kinds_for(member: Member) -> list[str]:
    """What can be asked about this member: only what their record holds."""
    kinds = []
    if size_of(member):
        kinds.append("size")
    if _last_purchase(member.id):
        kinds.append("last_purchase")
    if member.birth_month_day:
        kinds.append("birthday")
    kinds.append("tier")
    if any((text or "").strip() for text in (member.pref_styles, member.pref_colours,
                                             member.preferences)):
        kinds.append("preference")
    return kinds


def start_check(*, actor: User, case: Case, now: datetime | None = None) -> int:
    """Friday: put each associate questions drawn from the members they memorised this week
    (setting routine_check_questions each, one per member in turn, kinds varied); returns how
    many were put. Running it again adds nothing for an associate who already has questions."""
    _manager_of(actor, case)
    if case.state != "checking":
        raise RoutineError(N_("记忆检查只能在周五进行"))
    now = now or clock.now()
    n = settings.get_int("routine_check_questions")
    added = 0
    with transaction():
        for user in associates(case.store_id):
            if db.session.scalar(select(RoutineQuestion.id).where(
                    RoutineQuestion.case_id == case.id, RoutineQuestion.associate_id == user.id)
                    .limit(1)):
                continue
            members = week_profiles(user, case, until=local_date(now))
            rng = random.Random(f"{case.id}:{user.id}")
            rng.shuffle(members)
            picked = 0
            for member_id in members:
                if picked >= n:
                    break
                kinds = _kinds_for(db.session.get(Member, member_id))
                # data questions (scored at once); the last one may be a preference the manager judges
                data_kinds = [k for k in kinds if k != "preference"]
                last = picked == min(n, len(members)) - 1
                kind = ("preference" if last and "preference" in kinds and n > 1
                        else rng.choice(data_kinds))
                db.session.add(RoutineQuestion(case_id=case.id, associate_id=user.id,
                                               member_id=member_id, kind=kind, position=picked,
                                               created_at=now))
                picked += 1
            added += picked
    return added


def open_check(*, actor: User, now: datetime | None = None) -> Case | None:
    """This week's case when `actor` has questions of its Friday check still to answer."""
    if actor.store_id is None:
        return None
    case = week_case(store_id=actor.store_id, day=local_date(now or clock.now()))
    if case is None or case.state != "checking":  # answers are taken until the check is closed
        return None
    waiting = db.session.scalar(select(RoutineQuestion.id).where(
        RoutineQuestion.case_id == case.id, RoutineQuestion.associate_id == actor.id,
        RoutineQuestion.answered_at.is_(None)).limit(1))
    return case if waiting else None


def prompt(question: RoutineQuestion) -> str:
    from flask_babel import gettext
    return gettext(KINDS[question.kind], name=question.member.name)


def my_questions(*, actor: User, case: Case) -> list[RoutineQuestion]:
    """The associate's own questions of this check (no one sees another associate's)."""
    if actor.store_id != case.store_id or case.process != "weekly_routine":
        raise RoutineError(N_("没有您的记忆检查题目"))
    return db.session.scalars(select(RoutineQuestion).where(
        RoutineQuestion.case_id == case.id, RoutineQuestion.associate_id == actor.id)
        .order_by(RoutineQuestion.position)).all()


_MONTH_DAY = re.compile(r"(\d{1,2})\s*(?:[-/.月])\s*(\d{1,2})\s*日?|(\d{2})(\d{2})")


def _month_day(text: str) -> tuple[int, int] | None:
    text = (text or "").strip()
    try:
        day = date.fromisoformat(text)
        return day.month, day.day
    except ValueError:
        pass
    match = _MONTH_DAY.fullmatch(text)
    if not match:
        return None
    month, day = (match.group(1), match.group(2)) if match.group(1) else (match.group(3), match.group(4))
    return int(month), int(day)


def score(question: RoutineQuestion, answer: str) -> bool | None:
    """Right or wrong against the member's data now; None where a person must judge."""
    member = question.member
    answer = (answer or "").strip()
    if question.kind == "tier":
        return answer.upper() == member.tier
    if question.kind == "size":
        return bool(answer) and _norm_size(answer) == size_of(member)
    if question.kind == "birthday":
        given = _month_day(answer)
        md = member.birth_month_day
        return given is not None and md is not None and given == (md // 100, md % 100)
    if question.kind == "last_purchase":
        last = _last_purchase(member.id)
        try:
            return last is not None and date.fromisoformat(answer) == last
        except ValueError:
            given = _month_day(answer)  # "11-20": the month and day are enough
            return given is not None and last is not None and given == (last.month, last.day)
    return None  # preference: the store manager judges


def answer_check(*, actor: User, case: Case, answers: dict, now: datetime | None = None) -> dict:
    """The associate answers their questions (all at once, from the shop floor); each data
    answer is scored there and then. An answer already given is not changed."""
    now = now or clock.now()
    questions = my_questions(actor=actor, case=case)
    if not questions:
        raise RoutineError(N_("没有您的记忆检查题目"))
    if case.state != "checking":
        raise RoutineError(N_("本周记忆检查已结束"))
    with transaction():
        for question in questions:
            if question.answered_at is not None:
                continue
            text = str(answers.get(str(question.id), "")).strip()[:200]
            question.answer, question.answered_at = text, now
            question.correct = score(question, text)
    return result_of(questions)


def result_of(questions: list[RoutineQuestion]) -> dict:
    answered = [q for q in questions if q.answered_at]
    right = sum(1 for q in answered if q.correct)
    pending = sum(1 for q in answered if q.correct is None)
    return {"total": len(questions), "answered": len(answered), "right": right,
            "pending": pending, "score": round(right * 100 / len(questions)) if questions else None}


def judge(*, actor: User, question: RoutineQuestion, correct: bool) -> None:
    """The store manager judges a free-text answer (preferences)."""
    case = db.session.get(Case, question.case_id)
    _manager_of(actor, case)
    if question.answered_at is None or question.kind != "preference":
        raise RoutineError(N_("只能评判已作答的喜好题"))
    with transaction():
        question.correct, question.judged_by_id = bool(correct), actor.id


def check_results(*, case: Case) -> list[dict]:
    """Each associate's questions and score of the week's check."""
    rows = []
    for user in associates(case.store_id):
        questions = db.session.scalars(select(RoutineQuestion).where(
            RoutineQuestion.case_id == case.id, RoutineQuestion.associate_id == user.id)
            .order_by(RoutineQuestion.position)).all()
        rows.append({"associate": user, "questions": questions, **result_of(questions)})
    return rows


def week_visits(*, case: Case) -> list[dict]:
    """Saturday: the week's visits against the plan, per associate — the Monday target, the
    monthly plan's items dated this week and how many were visited, visits outside the plan."""
    from ..models import PlanItem

    monday = _monday(case)
    start, _ = day_window(monday)
    _, end = day_window(monday + timedelta(days=6))
    plan = plan_of(case)
    rows = []
    for user in associates(case.store_id):
        items = db.session.scalar(select(func.count(PlanItem.id)).where(
            PlanItem.store_id == case.store_id, PlanItem.associate_id == user.id,
            PlanItem.status == "set", PlanItem.planned_on >= monday,
            PlanItem.planned_on <= monday + timedelta(days=6)))
        visits = db.session.execute(select(VisitRecord.method, VisitRecord.plan_item_id).where(
            VisitRecord.store_id == case.store_id, VisitRecord.associate_id == user.id,
            VisitRecord.visited_at >= start, VisitRecord.visited_at < end)).all()
        target = int(plan.get("visits", {}).get(str(user.id), 0))
        by_method: dict[str, int] = {}
        for method, _item in visits:
            by_method[method] = by_method.get(method, 0) + 1
        rows.append({"associate": user, "target": target, "plan_items": items,
                     "planned_done": sum(1 for _m, item in visits if item),
                     "unplanned": sum(1 for _m, item in visits if not item),
                     "visits": len(visits), "by_method": by_method,
                     "met": len(visits) >= target})
    return rows


def report_draft(*, case: Case) -> dict:
    """Sunday: the report pre-filled from the week's figures, and the advisor the figures
    suggest (best check score, then most visits)."""
    from flask_babel import gettext

    checks = {r["associate"].id: r for r in check_results(case=case)}
    visits = week_visits(case=case)
    lines = [gettext("本周（%(week)s）客户关系管理小结：", week=case.data["period"])]
    for row in visits:
        check = checks[row["associate"].id]
        lines.append(gettext("%(name)s：拜访 %(done)s 次（目标 %(target)s），记忆检查 %(right)s/%(total)s",
                             name=row["associate"].display_name, done=row["visits"],
                             target=row["target"], right=check["right"], total=check["total"]))
    lines += [gettext("亮点："), gettext("不足："), gettext("下周改进：")]
    best = max(visits, key=lambda r: (checks[r["associate"].id]["score"] or 0, r["visits"]),
               default=None)
    return {"text": "\n".join(lines), "best_advisor_id": best["associate"].id if best else None,
            "figures": {str(r["associate"].id): {"visits": r["visits"], "target": r["target"],
                                                 "score": checks[r["associate"].id]["score"]}
                        for r in visits}}


def submit_report(*, actor: User, case: Case, version: int, text: str, best_advisor_id,
                  now: datetime | None = None) -> Case:
    """Sunday: the manager's report and the week's best advisor (优秀着装顾问)."""
    from ..workflows import engine

    _manager_of(actor, case)
    staff = {u.id for u in associates(case.store_id)}
    try:
        best = int(best_advisor_id)
    except (TypeError, ValueError):
        best = None
    if best not in staff:
        raise RoutineError(N_("请从本店导购中评选本周优秀着装顾问"))
    if not (text or "").strip():
        raise RoutineError(N_("请填写周报内容"))
    figures = report_draft(case=case)["figures"]
    with transaction():
        return engine.fire(case, "submit_report", actor, version=version, now=now,
                           data={"text": text.strip()[:5000], "best_advisor_id": best,
                                 "figures": figures})


def fire_step(*, actor: User, case: Case, version: int, transition: str,
              now: datetime | None = None) -> Case:
    """A one-click step of the week (the check or the review is done)."""
    from ..workflows import engine

    _manager_of(actor, case)
    with transaction():
        return engine.fire(case, transition, actor, version=version, now=now)


def page(*, actor: User, case: Case, now: datetime | None = None) -> dict:
    """What the week's page shows in each state."""
    if case.process != "weekly_routine" or actor.store_id not in (None, case.store_id):
        raise RoutineError(N_("没有此周例行工作"))
    from ..workflows.weekly_routine_steps import METHODS

    state = case.state
    manager = actor.role == Role.STORE_MANAGER and actor.store_id == case.store_id
    data = {"case": case, "monday": _monday(case), "plan": plan_of(case), "methods": METHODS,
            "staff": associates(case.store_id), "manager": manager, "tiers": TIERS}
    if state in ("checking", "checked", "reviewing", "reviewed", "reporting", "done"):
        data["checks"] = check_results(case=case)
    if state in ("reviewing", "reviewed", "reporting", "done"):
        data["visits"] = week_visits(case=case)
    if state == "reporting":
        data["draft"] = report_draft(case=case)
    return data


def inbox_panel(*, actor: User, now: datetime | None = None) -> dict | None:
    """The inbox's routine panel for store staff: today's profiles to memorise (names and tier;
    the page has the rest), this week's case, and the Friday check when it waits for them."""
    if not can(actor, "care.profiles") or actor.store_id is None:
        return None
    today = local_date(now or clock.now())
    ids = _of_day(_pool(actor), today, per_day(actor, today))
    members = {m.id: m for m in db.session.scalars(select(Member).where(Member.id.in_(ids)))}
    return {"today": [members[i] for i in ids], "week": week_case(store_id=actor.store_id, day=today),
            "check": open_check(actor=actor, now=now)}


def store_sheets(*, actor: User, day: date) -> list[dict]:
    """The store manager's batch: every associate's shop-floor sheet of `day`, one page each."""
    if actor.role != Role.STORE_MANAGER or actor.store_id is None:
        raise RoutineError(N_("只有店长可以打印本店的工作单"))
    noon = local_midnight_utc(day) + timedelta(hours=12)
    return [daily_sheet(actor=user, now=noon) for user in associates(actor.store_id)]
