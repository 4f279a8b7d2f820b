"""Staff alerts and outgoing webhook events, queued in the transaction that caused them.

A new urgent task, an overdue or escalated one, the daily digest, an event another system
subscribed to: each becomes one `StaffPost` row (its `dedupe_key` makes a second queueing a no-op),
written in the caller's transaction, so nothing is announced that did not happen. Posting is a
job started after the commit (`POST_JOB`; the every-minute sweeper catches a lost start), so a
dead webhook never blocks or slows a transition. Below the engine: models, settings, no commit.
"""
from __future__ import annotations

import json
import logging
from datetime import date, datetime

from redis.exceptions import RedisError
from sqlalchemy import String, and_, cast, event, func, literal, select

from . import clock, outbox, settings
from .extensions import db
from .formatting import due_time
from .i18n_labels import N_
from .models.base import insert_ignoring_duplicates
from .models import (AREA_ROLES, COMPANY_ROLES, GroupRobot, OutgoingWebhook, StaffPost, Store,
                     TZDateTime)

log = logging.getLogger(__name__)
POST_JOB = "jobs.messaging.deliver_staff_posts"
_ROBOTS = "group_robots"  # db.session.info: the active robots, read once per transaction
_PENDING = "staff_posts_pending"
# Events other systems may subscribe to (documented in the OpenAPI document's `webhooks`).
EVENTS = {"member.approved": N_("会员审核通过"), "complaint.filed": N_("新投诉登记"),
          "card.renewed": N_("会员卡续期")}
OVERDUE_LINES = 10  # an overdue post lists this many tasks, then "等 N 项"


def base_url() -> str:
    from flask import current_app

    return current_app.config.get("APP_BASE_URL", "").rstrip("/")


def case_link(case_id: int) -> str:
    return f"{base_url()}/cases/{case_id}"


def case_ref(process_label: str, case_id: int) -> str:
    """A case as posts and e-mails name it: its process and number ("新会员入会登记 #1234", as
    the case page shows it). Never the case's title, which may carry the member's name,
    salutation or card number: posts leave the company (WeCom, DingTalk, mailboxes), and the
    link shows the reader what their role may see."""
    return f"{process_label} #{case_id}"


def inbox_link(process: str | None = None) -> str:
    """The inbox (the home page, `/`; there is no /inbox), one process's tasks with `process`."""
    return f"{base_url()}/" + (f"?process={process}" if process else "")


def _robots() -> list[tuple[int, int | None, int | None]]:
    cached = db.session.info.get(_ROBOTS)
    if cached is None:
        cached = [tuple(r) for r in db.session.execute(
            select(GroupRobot.id, GroupRobot.store_id, GroupRobot.area_id)
            .where(GroupRobot.removed_at.is_(None))).all()]
        db.session.info[_ROBOTS] = cached
    return cached


def any_robots() -> bool:
    return bool(_robots())


def forget_robots() -> None:
    """A robot was added or removed in this transaction: read them again."""
    db.session.info.pop(_ROBOTS, None)


def robots_for(store_id: int | None, area_id: int | None, roles=()) -> list[int]:
    """The groups concerned by a task of this store/area: the store's group; the area's group for
    the area's own tasks and for what reaches an area role; HQ's group for company tasks and for
    what reaches a company role."""
    roles = set(roles)
    found = []
    for robot_id, r_store, r_area in _robots():
        if r_store is not None:
            hit = r_store == store_id
        elif r_area is not None:
            hit = r_area == area_id and (store_id is None or bool(roles & AREA_ROLES))
        else:
            hit = (store_id is None and area_id is None) or bool(roles & COMPANY_ROLES)
        if hit:
            found.append(robot_id)
    return found


def _insert_ignoring_duplicates():
    return insert_ignoring_duplicates(StaffPost.__table__, index_elements=["dedupe_key"])


def queue(rows: list[dict]) -> int:
    """Insert posts, ignoring any whose dedupe_key exists; the job starts after commit."""
    if not rows:
        return 0
    now = clock.now()
    for row in rows:
        row.setdefault("created_at", now)
        row.setdefault("status", "queued")
        row.setdefault("attempts", 0)
        for key in ("robot_id", "webhook_id", "user_id", "store_id", "payload", "recipient",
                    "next_attempt_at"):
            row.setdefault(key, None)
        row.setdefault("title", "")
    # through the ORM table with the Encrypted column type (an e-mail address is encrypted)
    db.session.execute(_insert_ignoring_duplicates(), rows)
    db.session.info[_PENDING] = True
    return len(rows)


def _render(key: str, context: dict) -> str:
    """The administrator's text for a staff alert; never an error that could stop a transition
    (a text that does not fill falls back to the default)."""
    try:
        return outbox.render(key, context)
    except (KeyError, ValueError, IndexError):
        return outbox.fill(outbox.default_text(key), context)


def _store_name(store_id: int | None) -> str:
    store = db.session.get(Store, store_id) if store_id else None
    return store.name if store else ""


# ------------------------------------------------------------------ what the engine reports

def task_opened(task, case, label: str, process_label: str, now: datetime) -> None:
    """A new task whose deadline is near (within `staff_alert_urgent_hours`) → its group; the
    case by its reference (`case_ref`), never its title."""
    if task.due_at is None or not any_robots():
        return
    if (task.due_at - now).total_seconds() > settings.get_int("staff_alert_urgent_hours") * 3600:
        return
    robot_ids = robots_for(task.store_id, task.area_id, (task.role,))
    if not robot_ids:
        return
    text = _render("staff_urgent", {
        "task": label, "ref": case_ref(process_label, case.id),
        "store": _store_name(task.store_id) or "—", "due": due_time(task.due_at)[5:],
        "link": case_link(case.id)})
    queue([{"channel": "robot", "robot_id": rid, "store_id": task.store_id, "event": "urgent",
            "dedupe_key": f"urgent:{rid}:{case.id}:{case.version}", "title": "紧急待办",
            "body": text} for rid in robot_ids])


# Filled by the database per store (the template is rendered once, with these in their places).
_COUNT, _STORE = "\x02count\x02", "\x02store\x02"


def tasks_opened_in_bulk(process: str, label: str, cases, due_at: datetime | None,
                         now: datetime):
    """One summary per store group of the tasks a bulk start opened ("1号店：今日新增 37 个三天回访
    任务", a link to the inbox showing that process): an INSERT … SELECT over `cases` (the new
    cases' id, store_id) grouped by store and joined to the store groups, for the caller to run
    in the bulk start's transaction; None when no store has a group. The key names the first
    case the start opened in the store, so each start is announced once, and a start repeated
    over the same rows (nothing opens) announces nothing. Numbers and names of stores only."""
    if not any(store_id is not None for _id, store_id, _area in _robots()):
        return None
    text = _render("staff_bulk_opened", {
        "count": _COUNT, "store": _STORE, "task": label, "link": inbox_link(process),
        "due": due_time(due_at)[5:] if due_at else "—"})
    opened = (select(cases.c.store_id, func.count().label("n"), func.min(cases.c.id).label("first"))
              .where(cases.c.store_id.is_not(None)).group_by(cases.c.store_id).subquery("opened"))
    body = func.replace(func.replace(literal(text, String), _COUNT, cast(opened.c.n, String)),
                        _STORE, Store.name)
    key = (literal(f"opened:{process}:", String) + cast(GroupRobot.id, String) + literal(":")
           + cast(opened.c.first, String))
    rows = (select(literal("robot"), GroupRobot.id, opened.c.store_id, literal("opened"), key,
                   literal("新增待办"), body, literal("queued"), literal(0),
                   literal(now, TZDateTime))
            .select_from(opened)
            .join(GroupRobot, and_(GroupRobot.store_id == opened.c.store_id,
                                   GroupRobot.removed_at.is_(None)))
            .join(Store, Store.id == opened.c.store_id))
    db.session.info[_PENDING] = True
    return _insert_ignoring_duplicates().from_select(
        ["channel", "robot_id", "store_id", "event", "dedupe_key", "title", "body", "status",
         "attempts", "created_at"], rows)


def tasks_overdue(rows: list[dict], claimed_at: datetime) -> int:
    """Tasks whose deadline passed in one sweep batch (rows: case_id, process_label, label,
    store_id, area_id, role, escalate_to, escalate_also, store): one post per group, listing
    them, each case by its reference (no title: nothing about the member)."""
    if not rows or not any_robots():
        return 0
    per_robot: dict[int, list[dict]] = {}
    for row in rows:
        roles = {row["role"], row.get("escalate_to"), row.get("escalate_also")} - {None}
        for rid in robots_for(row["store_id"], row["area_id"], roles):
            per_robot.setdefault(rid, []).append(row)
    stamp = clock.as_utc(claimed_at).strftime("%Y%m%dT%H%M%S.%f")
    posts = []
    for rid, items in per_robot.items():
        escalated = any(i.get("escalate_to") for i in items)
        head = f"**{len(items)} 项待办已超期" + ("，已升级**" if escalated else "**")
        lines = [_render("staff_overdue_line", {
            "task": i["label"], "ref": case_ref(i["process_label"], i["case_id"]),
            "store": i.get("store") or "—", "link": case_link(i["case_id"]), "due": ""})
            for i in items[:OVERDUE_LINES]]
        if len(items) > OVERDUE_LINES:
            lines.append(f"- 等 {len(items)} 项，详见待办 {inbox_link()}")
        posts.append({"channel": "robot", "robot_id": rid, "event": "overdue",
                      "store_id": items[0]["store_id"] if len(items) == 1 else None,
                      "dedupe_key": f"overdue:{rid}:{stamp}", "title": "待办超期",
                      "body": head + "\n\n" + "\n".join(lines)})
    return queue(posts)


# ------------------------------------------------------------------ events for other systems

def _plain(value):
    """JSON for dates and times (ISO 8601, aware times in UTC) and decimals (text)."""
    if isinstance(value, datetime):
        return clock.as_utc(value).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def subscribed(event_name: str) -> bool:
    return any(event_name in (events or []) for events in db.session.scalars(
        select(OutgoingWebhook.events).where(OutgoingWebhook.removed_at.is_(None))))


def emit(event_name: str, data: dict, *, object_id, now: datetime | None = None) -> int:
    """An event other systems subscribed to: one signed post per webhook that wants it, queued in
    this transaction. The delivery id is stable, so a receiver can drop a retried duplicate."""
    return emit_many(event_name, [(object_id, data)], now=now)


def emit_many(event_name: str, items: list[tuple], *, now: datetime | None = None) -> int:
    """`emit` for many objects at once ((object_id, data) pairs); the webhooks are read once."""
    assert event_name in EVENTS, event_name
    if not items:
        return 0
    now = clock.as_utc(now or clock.now())
    hooks = [hook_id for hook_id, events in db.session.execute(
        select(OutgoingWebhook.id, OutgoingWebhook.events)
        .where(OutgoingWebhook.removed_at.is_(None))).all() if event_name in (events or [])]
    rows = [{"channel": "webhook", "webhook_id": hook_id, "event": event_name,
             "dedupe_key": f"webhook:{hook_id}:{event_name}:{object_id}:{now:%Y%m%dT%H%M%S.%f}",
             "title": event_name,
             "payload": {"event": event_name, "occurred_at": now.isoformat(),
                         "data": json.loads(json.dumps(data, default=_plain))}}
            for hook_id in hooks for object_id, data in items]
    return queue(rows)


# ------------------------------------------------------------------ after-commit nudge

def post_after_commit() -> None:
    """Start the posting job once this transaction commits."""
    db.session.info[_PENDING] = True


def install_session_hooks() -> None:
    """Wire the after-commit/rollback listeners once per process."""
    if getattr(install_session_hooks, "done", False):
        return
    event.listen(db.session, "after_commit", _after_commit)
    event.listen(db.session, "after_rollback", _after_rollback)
    install_session_hooks.done = True


def _after_rollback(session) -> None:
    session.info.pop(_PENDING, None)
    session.info.pop(_ROBOTS, None)


def _after_commit(session) -> None:
    session.info.pop(_ROBOTS, None)
    if session.info.pop(_PENDING, None):
        from .queue import queue as rq_queue

        try:
            rq_queue().enqueue(POST_JOB, result_ttl=60, failure_ttl=3600)
        except RedisError as exc:  # the rows wait; the every-minute run posts them
            log.warning("could not start the staff post job: %s", exc)
