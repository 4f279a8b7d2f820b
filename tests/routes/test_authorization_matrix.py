"""Who may use which URL, on whose data: one table, checked against every rule of `app.url_map`.

`MATRIX` below declares, for every endpoint, who may use it (an action of `permissions.ACTIONS`,
"login" for any signed-in user, "public" for no login) and which of its path arguments names an
object that has a scope. The test walks the URL map — so a new route without an entry fails the
suite — and asks every rule as every demo role and as nobody, once with the role's own objects
(store SH01, area 华东片区) and once with another area's (store GZ01), and compares the answer with
the table: a role the action excludes and an object outside the role's scope are refused (403, or
404 where the view does not admit that the object exists), nobody gets the login page (401 on the
API), and the rest their page (or, for a POST with its empty form, anything but a refusal).

While it is at it, every answer is read — HTML, JSON, the text of a PDF (pypdf), the cells of an
xlsx (openpyxl) — for two planted mobiles, one of a member (and a complaint's contact) in SH01 and
one in GZ01: a role that may not reveal never receives the digits, no role receives those of a
member outside its scope, and every answer that does carry a full mobile wrote a reveal to the
audit log in the same request.

World: the demo company (`webapp/demo.py`, scaled down), once, in one test (a world per role
would cost its load eight times); a failure lists every cell that differs.
"""
from __future__ import annotations

import io
import re
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

import pytest
from sqlalchemy import func, select

from webapp import permissions
from webapp.extensions import db
from webapp.models import (AREA_ROLES, STORE_ROLES, AuditEvent, BatchJob, Case, CareLine, GroupRobot, Member,
                           OutgoingWebhook, PlanItem, Role, RoutineQuestion, StandIn, Store, Task, User,
                           VisitRecord)
from webapp.models.sales import ApiToken

OWN_MOBILE, OTHER_MOBILE = "13973951234", "13973955678"
ROLES_BY_USER = {None: None, "associate": Role.ASSOCIATE, "manager": Role.STORE_MANAGER,
                 "supervisor": Role.AREA_SUPERVISOR, "area_manager": Role.AREA_MANAGER,
                 "hq": Role.HQ_SPECIALIST, "hq_manager": Role.HQ_MANAGER, "admin": Role.ADMIN}
COMPANY = {Role.HQ_SPECIALIST, Role.HQ_MANAGER, Role.ADMIN}


@dataclass(frozen=True)
class Who:
    """who: the roles of an ACTIONS entry (A["member.view"]), a set of roles, LOGIN (any signed-in
    user) or PUBLIC; scoped: the path argument whose object has a scope (the other area's object
    is refused), or None; args: the kind of each object argument (see `_objects`); the other
    arguments take CONSTANTS."""
    who: object
    scoped: str | None = None
    args: tuple = ()
    owner_only: bool = False  # the object is its requester's alone, whatever the role's scope
    empty_post: tuple = ()  # statuses an allowed role's empty form may also get (a 404: no version)


A = permissions.ACTIONS
LOGIN, PUBLIC = "login", "public"
# Forms on an object's page that the service refuses with a message (a flash and a redirect rather
# than a 403) are declared for whoever sees the object; the service's own tests hold the rest.
MATRIX: dict[str, Who] = {
    # sign-in and the public edges: a signed URL or a bearer token is their only key
    "auth.login": Who(PUBLIC), "auth.logout": Who(LOGIN), "auth.language": Who(PUBLIC),
    "auth.password": Who(LOGIN), "health.healthz": Who(PUBLIC), "health.metrics": Who(PUBLIC),
    "static": Who(PUBLIC), "api.openapi": Who(PUBLIC), "api.post_sales": Who(PUBLIC),
    "sms_callbacks.receipts": Who(PUBLIC), "sms_callbacks.uplink": Who(PUBLIC),
    "api.analysis": Who(A["analysis.view"]),
    # inbox, cases, processes
    "inbox.index": Who(LOGIN), "inbox.notifications": Who(LOGIN), "inbox.mark_read": Who(LOGIN),
    "inbox.claim": Who(LOGIN, "task_id", (("task_id", "task"),)),
    "cases.detail": Who(A["case.view"], "case_id", (("case_id", "registration"),)),
    # the transition's own roles are the engine's (tests/workflows); the URL is the case's scope
    "cases.fire": Who(A["case.view"], "case_id", (("case_id", "registration"),)),
    "cases.bulk_approve": Who(LOGIN), "cases.processes": Who(LOGIN), "cases.process": Who(LOGIN),
    "cases.process_diagram": Who(LOGIN),
    "standins.index": Who(LOGIN), "standins.cancel": Who(LOGIN, None, (("stand_in_id", "stand_in"),)),
    # members
    "members.index": Who(A["member.view"]), "members.new": Who(A["member.create"]),
    "members.detail": Who(A["member.view"], "member_id", (("member_id", "member"),)),
    "members.reveal": Who(A["member.reveal"], "member_id", (("member_id", "member"),)),
    "members.application_pdf": Who(A["member.print"], "member_id", (("member_id", "member"),)),
    "members.sms_opt_out": Who(A["member.sms_opt_out"], "member_id", (("member_id", "member"),)),
    # the member page's own forms: whoever sees the member reaches them, the service answers
    # those it refuses with a message (tests/services/test_member_upkeep.py, test_tiers)
    "members.mobile_status": Who(A["member.view"], "member_id", (("member_id", "member"),)),
    "members.reassign": Who(A["member.view"], "member_id", (("member_id", "member"),)),
    "members.roster": Who(A["member.roster"]),
    "members.review": Who(A["registration.review"]), "members.print_day": Who(A["batch.print"]),
    "members.complete": Who(A["member.create"], "case_id", (("case_id", "returned"),),
                            empty_post=(404,)),
    "members.batch": Who(LOGIN, "batch_id", (("batch_id", "batch"),), owner_only=True),
    "members.batch_download": Who(LOGIN, "batch_id", (("batch_id", "batch"),), owner_only=True),
    # 重新生成: the batch kind's own permission is checked again by the service (a message)
    "members.batch_retry": Who(LOGIN, "batch_id", (("batch_id", "batch"),), owner_only=True),
    "tiers.index": Who(A["member.view"]), "tiers.decide": Who(A["tier.change"]),
    "tiers.change": Who(A["member.view"], "member_id", (("member_id", "member"),)),
    "tiers.recompute": Who(A["tier.recompute"]),
    # complaints
    "complaints.index": Who(A["complaint.view"]), "complaints.compliance": Who(A["complaint.stats"]),
    "complaints.new": Who(A["complaint.record_direct"]),  # <kind>: "direct", the first
    "complaints.detail": Who(A["complaint.view"], "case_id", (("case_id", "complaint"),)),
    "complaints.form_pdf": Who(A["complaint.view"], "case_id", (("case_id", "complaint"),)),
    "complaints.act": Who(A["complaint.view"], "case_id", (("case_id", "complaint"),)),
    "complaints.reveal": Who(A["complaint.reveal"], "case_id", (("case_id", "complaint"),)),
    "complaints.watch": Who(A["complaint.view"], "case_id", (("case_id", "complaint"),)),
    "complaints.batch": Who(A["complaint.stats"]),
    # care, expiry
    "care.profiles": Who(A["care.profiles"]), "care.sheet": Who(A["care.profiles"]),
    # the care batch's case page forms: the case's scope here, care.review in the service
    "care.add": Who(A["case.view"], "case_id", (("case_id", "care_batch"),)),
    "care.method": Who(A["case.view"], "case_id", (("case_id", "care_batch"), ("line_id", "care_line"))),
    "care.remove": Who(A["case.view"], "case_id", (("case_id", "care_batch"), ("line_id", "care_line"))),
    "care.store_sheets": Who(A["care.store_sheets"]),
    "expiry.index": Who(A["expiry.view"]), "expiry.print_list": Who(A["expiry.view"]),
    "expiry.xlsx": Who(A["expiry.view"]),
    "expiry.renew": Who(A["expiry.renew"], "case_id", (("case_id", "expiry_call"),)),
    # sales, analyses, the monthly pack, the outbox
    "sales.index": Who(A["sales.view"]), "sales.import_file": Who(A["sales.import"]),
    "sales.confirm_import": Who(A["sales.import"]), "sales.import_template": Who(A["sales.import"]),
    # an upload's preview: its uploader's alone (another's token is not found)
    "sales.import_preview": Who(A["sales.import"], "token", (("token", "upload"),), owner_only=True),
    "sales.targets": Who(A["target.edit"]), "sales.tokens": Who(A["api_token.manage"]),
    "sales.revoke_token": Who(A["api_token.manage"], None, (("token_id", "token"),)),
    "analyses.page": Who(A["analysis.view"]), "analyses.pdf": Who(A["analysis.view"]),
    "analyses.xlsx": Who(A["analysis.view"]),
    "pack.index": Who(A["analysis.view"]), "pack.month": Who(A["analysis.view"]),
    "pack.pack_pdf": Who(A["analysis.view"]), "pack.pack_xlsx": Who(A["analysis.view"]),
    "pack.review": Who(A["analysis.review"]), "pack.review_status": Who(A["analysis.review"]),
    "outbox.index": Who(A["outbox.view"]), "outbox.stats": Who(A["outbox.view"]),
    "outbox.stats_xlsx": Who(A["outbox.view"]),
    # visits
    "visits.index": Who(A["visit.view"]), "visits.plan": Who(A["visit.view"]),
    "visits.record": Who(A["visit.record"]), "visits.records": Who(A["visit.view"]),
    # where a visit task's inbox link leads: on to the plan page for whoever sees the case
    "visits.case_page": Who(A["case.view"], "case_id", (("case_id", "visit_plan"),)),
    "visits.propose": Who(A["visit.plan"], "case_id", (("case_id", "visit_plan"),)),
    "visits.submit": Who(A["visit.plan"], "case_id", (("case_id", "visit_plan"),), empty_post=(404,)),
    "visits.remove": Who(A["visit.plan"], "item_id", (("item_id", "plan_item"),)),
    "visits.check": Who(A["visit.check"], "record_id", (("record_id", "visit_record"),)),
    "visits.consolidation": Who(A["visit.consolidate"]), "visits.archive": Who(A["visit.consolidate"]),
    "visits.spot_check": Who(A["visit.check"]),
    # the area's own report: HQ names the area (?area=), a store manager has none
    "visits.area_summary": Who(AREA_ROLES, empty_post=(404,)),
    "visits.scorecard": Who(A["visit.scorecard"]), "visits.scorecard_xlsx": Who(A["visit.scorecard"]),
    "visits.remarks": Who(A["visit.check"], "store_id", (("store_id", "store"),)),
    "visits.month_set": Who(A["visit.view"]), "visits.plans_xlsx": Who(A["visit.view"]),
    "visits.form_pdf": Who(A["visit.view"]),  # <form>: records (the store by ?store=, in scope)
    # the weekly routine (SPEC §3.8): the week's page for the store's staff and whoever sees the
    # case; its forms are the manager's, the service refuses the others with a message
    "routine.current": Who(STORE_ROLES),  # this week's case of the user's own store
    "routine.week": Who(A["case.view"], "case_id", (("case_id", "weekly_routine"),)),
    **{f"routine.{name}": Who(A["case.view"], "case_id", (("case_id", "weekly_routine"),)) for name in (
        "plan", "start_check", "step", "report")},
    "routine.judge": Who(A["case.view"], "question_id", (("question_id", "routine_question"),)),
    # the associate's Friday check: the store's own staff (their own questions)
    "routine.check": Who(STORE_ROLES, "case_id", (("case_id", "weekly_routine"),)),
    # group robots: managers within their scope; deliveries and webhooks: the administrator
    "staff_channels.robots": Who(A["robots.manage"]),
    "staff_channels.test_robot": Who(A["robots.manage"], "robot_id", (("robot_id", "robot"),)),
    "staff_channels.remove_robot": Who(A["robots.manage"], "robot_id", (("robot_id", "robot_to_remove"),)),
    "staff_channels.posts": Who(A["admin.manage"]), "staff_channels.retry": Who(A["admin.manage"]),
    "staff_channels.webhooks": Who(A["admin.manage"]),
    "staff_channels.remove_webhook": Who(A["admin.manage"], None, (("webhook_id", "webhook"),)),
    "staff_channels.digest_mail": Who(LOGIN),
    # administration
    **{f"admin.{name}": Who(A["admin.manage"]) for name in (
        "index", "users", "new_user", "areas", "stores", "settings")},
    **{f"admin.{name}": Who(A["admin.manage"], None, (("user_id", "user"),)) for name in (
        "edit_user", "deactivate", "reactivate", "reset_password", "issued")},
    "admin.edit_store": Who(A["admin.manage"], None, (("store_id", "store"),)),
    "admin.rename_area": Who(A["admin.manage"], None, (("area_id", "area"),)),
    "admin.holidays": Who(A["calendar.edit"]), "admin.holiday_year": Who(A["calendar.edit"]),
    "message_templates.index": Who(A["settings.edit"]), "message_templates.edit": Who(A["settings.edit"]),
    "message_templates.preview": Who(A["settings.edit"]),
}
# Constant values of the arguments that do not name a scoped object.
CONSTANTS = {"transition": "approve", "name": "registration", "kind": "consumption", "year": "2026",
             "key": "welcome_temporary", "period": "2026-10", "field": "mobile", "step": "reply",
             "verb": None, "code": "zh_CN", "provider": "x", "token": "x", "filename": "app.js",
             "post_id": "1"}
# Rules whose allowed answer is not a page: a signed URL that is not (404), a till API without its
# token (401), the password page that a logged-out user is sent away from, …
# A page, or a redirect to another page (the pack's index to last month, say): never the login.
OK = (200, 302)
ALLOWED_ANSWER = {"sms_callbacks.receipts": 404, "sms_callbacks.uplink": 404, "api.post_sales": 401,
                  "static": 200, "health.healthz": (200, 503), "auth.language": 302}


def _objects(store_code: str, username: str) -> dict:
    """The scoped objects of one store, by kind (see MATRIX's args)."""
    store = db.session.scalar(select(Store).where(Store.code == store_code))

    def case(process, state=None):
        query = select(Case.id).where(Case.process == process, Case.store_id == store.id)
        if state:
            query = query.where(Case.state == state)
        return db.session.scalar(query.order_by(Case.id.desc()).limit(1))

    planted = db.session.scalar(select(Member).where(
        Member.mobile_last4 == (OWN_MOBILE if store_code == "SH01" else OTHER_MOBILE)[-4:]))
    care = case("care_batch", "review")
    user = db.session.scalar(select(User).where(User.username == username))
    out = {"registration": case("registration"), "returned": case("registration", "returned"),
           "complaint": case("complaint_store"), "care_batch": care,
           "care_line": db.session.scalar(select(CareLine.id).where(CareLine.case_id == care).limit(1)),
           "expiry_call": case("expiry_call"), "visit_plan": case("visit_plan"),
           "plan_item": db.session.scalar(select(PlanItem.id).where(PlanItem.store_id == store.id).limit(1)),
           "visit_record": db.session.scalar(select(VisitRecord.id).where(
               VisitRecord.store_id == store.id).limit(1)),
           "member": planted.id,
           "task": db.session.scalar(select(Task.id).where(Task.status == "open",
                                                           Task.store_id == store.id).limit(1)),
           "batch": db.session.scalar(select(BatchJob.id).where(BatchJob.requested_by_id == user.id)),
           "stand_in": db.session.scalar(select(StandIn.id).limit(1)),
           "user": db.session.scalar(select(User.id).where(User.store_id == store.id,
                                                           User.role == Role.ASSOCIATE).limit(1)),
           "store": store.id, "area": store.area_id,
           "weekly_routine": case("weekly_routine"),
           "routine_question": db.session.scalar(select(RoutineQuestion.id).join(
               Case, Case.id == RoutineQuestion.case_id).where(Case.store_id == store.id).limit(1)),
           "robot": db.session.scalar(select(GroupRobot.id).where(GroupRobot.store_id == store.id,
                                                                  GroupRobot.name == "matrix")),
           "robot_to_remove": db.session.scalar(select(GroupRobot.id).where(
               GroupRobot.store_id == store.id, GroupRobot.name == f"remove-{username}")),
           "webhook": db.session.scalar(select(OutgoingWebhook.id).limit(1)),
           "upload": f"matrix{user.id}",
           "token": db.session.scalar(select(ApiToken.id).where(ApiToken.store_id == store.id))}
    return out


def _world(app) -> None:
    """The demo company, scaled down; in SH01 and GZ01 each: a member with a planted mobile
    (approved, an A member whose card expires in January, so that it is on the expiry list and in
    the care batch) and a complaint with it as the contact, a registration sent back; a batch
    per user, a till token per store and a stand-in. Committed to the test's transaction."""
    from datetime import datetime, timedelta, timezone

    import time_machine

    from tests.complaint_helpers import new
    from tests.factories import member_data
    from webapp import clock, demo
    from webapp.services import care, cases, complaints, monthly_pack, registration, sales, standins
    from webapp.services.recurring import open_due

    with app.app_context():
        with mock.patch.dict(demo.MEMBERS_PER_STORE, {code: 15 for code in demo.MEMBERS_PER_STORE}):
            demo.load(members_per_store=3)
        users = {u.username: u for u in db.session.scalars(select(User))}
        stores = {s.code: s for s in db.session.scalars(select(Store))}
        for username, mobile in (("associate", OWN_MOBILE), ("associate2", OTHER_MOBILE)):
            actor = users[username]
            case = registration.register(actor=actor, store=actor.store,
                                         data=member_data(actor, mobile=mobile, name="甲乙丙"))
            cases.fire(actor=users["hq"], case=case, transition="approve", version=case.version)
            member = db.session.get(Member, case.member_id)
            member.points, member.tier = 2000, "A"
            member.card_expires_on = datetime(2027, 1, 15).date()
            back = registration.register(actor=actor, store=actor.store, data=member_data(actor))
            cases.fire(actor=users["hq"], case=back, transition="send_back", version=back.version,
                       comment="请补全地址")
            org = type("Org", (), {"stores": [actor.store]})()
            complaints.record(actor=actor, new=new(org, kind="store", store=0, contact=mobile))
        pdf = Path(app.instance_path) / "batches" / "matrix.pdf"
        pdf.parent.mkdir(exist_ok=True)
        from pypdf import PdfWriter

        writer = PdfWriter()
        writer.add_blank_page(100, 100)
        writer.write(pdf)
        for user in users.values():
            db.session.add(BatchJob(kind="application_forms", requested_by_id=user.id, total=1,
                                    params={"day": "2026-11-20"}, status="done", file_path=str(pdf)))
        db.session.commit()
        monthly_pack.review(actor=users["hq"], period=CONSTANTS["period"])  # the pack's files
        december = datetime(2026, 12, 1, 1, 0, tzinfo=timezone.utc)
        with time_machine.travel(december, tick=False):
            open_due(now=december)  # the expiry lists of January's cards
        with time_machine.travel(datetime(2027, 1, 30, 2, 0, tzinfo=timezone.utc), tick=False):
            care.generate_due()  # the Spring Festival care batches
        for code in ("SH01", "GZ01"):
            sales.create_token(actor=users["admin"], store=stores[code], name="收银机")
        standins.arrange(actor=users["manager"], user=users["associate1b"], stand_in=users["associate"],
                         starts_at=clock.now(), ends_at=clock.now() + timedelta(days=2))
        _routine_and_channels(users, stores)
        db.session.remove()


def _routine_and_channels(users: dict, stores: dict) -> None:
    """Per store: a question of this week's routine check, a group robot to test and one per user
    to remove; a webhook; per user an upload read and ready to preview (a sale of its store)."""
    from datetime import timedelta

    from webapp import clock, staff_alerts
    from webapp.calendar import to_local
    from webapp.services import routine, sales_import, staff_channels

    now = clock.now()
    for code in ("SH01", "GZ01"):
        store = stores[code]
        case = db.session.scalar(select(Case).where(Case.process == "weekly_routine", Case.store_id == store.id)
                                 .order_by(Case.id.desc()).limit(1))
        associate = routine.associates(store.id)[0]
        member = db.session.scalar(select(Member).where(Member.store_id == store.id).limit(1))
        db.session.add(RoutineQuestion(case_id=case.id, associate_id=associate.id, member_id=member.id,
                                       kind="preference", position=99, answer="深色", answered_at=now,
                                       created_at=now))
        db.session.commit()
        for name in ["matrix"] + [f"remove-{u}" for u in ROLES_BY_USER if u]:
            staff_channels.add_robot(actor=users["admin"], scope=f"store:{store.id}", kind="wecom", name=name,
                                     url="http://127.0.0.1:9/robot")
    staff_channels.add_webhook(actor=users["admin"], name="matrix", url="http://127.0.0.1:9/hook",
                               events=list(staff_alerts.EVENTS)[:1])
    sold = to_local(now - timedelta(days=2)).strftime("%Y-%m-%d %H:%M")
    folder = sales_import._folder()
    for user in users.values():
        code = user.store.code if user.store_id else "SH01"
        path = folder / f"matrix{user.id}-{user.id}.csv"
        path.write_bytes(sales_import.template_csv() + f"{code},M{user.id},{sold},,,100.00,1,,,\r\n".encode())
        path.with_name(path.name + ".name").write_text("matrix.csv", encoding="utf-8")
        sales_import.read_upload(str(path))


def _roles(who) -> set:
    if who in (LOGIN, PUBLIC):
        return set(Role)
    return set(who)


def _expected(endpoint: str, entry: Who, role, method: str, where: str):
    """What the table promises: "login" (sent to sign in), "refused" (403, or 404 where the view
    does not say that the object exists), "ok" (a GET: the page or a redirect to another page; a
    POST: let in — its empty form is then refused for what it lacks, which is other tests'
    business), or the status a public edge answers."""
    if entry.who == PUBLIC:
        if endpoint == "auth.login" and role is not None and method == "GET":
            return 302  # signed in already: on to the inbox
        return ALLOWED_ANSWER.get(endpoint, "ok")
    if role is None:
        return 401 if endpoint.startswith("api.") else "login"
    if endpoint == "auth.logout":
        return "login"
    if role not in _roles(entry.who):
        return "refused"
    if entry.scoped and where == "other" and (entry.owner_only or role not in COMPANY):
        return "refused"
    return "ok"


def _observed(response, expected, method: str, entry: Who):
    status = response.status_code
    if status == 302 and response.location.startswith("/login"):
        return "login"
    if status in (403, 404) and expected == "refused":
        return "refused"
    if expected == "ok" and method == "POST" and status in entry.empty_post:
        return "ok"
    if expected == "ok" and (status in (200, 302) if method == "GET"
                             else status not in (401, 403, 404) and status < 500):
        return "ok"
    if isinstance(expected, tuple) and status in expected:
        return expected
    return status


def _text(response) -> str:
    """What a reader of this answer sees, whatever its format."""
    kind = response.mimetype or ""
    data = response.get_data()
    if kind == "application/pdf" and data.startswith(b"%PDF"):
        from pypdf import PdfReader

        return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages)
    if "spreadsheetml" in kind:
        from openpyxl import load_workbook

        book = load_workbook(io.BytesIO(data), read_only=True)
        return "\n".join(" ".join("" if v is None else str(v) for v in row)
                         for sheet in book.worksheets for row in sheet.iter_rows(values_only=True))
    return data.decode("utf-8", "replace")


def _digits(mobile: str):
    """The mobile as a reader could find it: the 11 digits, with or without spaces or dashes."""
    return re.compile(r"[\s-]?".join(re.escape(part) for part in (mobile[:3], mobile[3:7], mobile[7:])))


def _urls(rule, where: str, objects: dict, entry: Who) -> str | None:
    kinds = dict(entry.args)
    values = {}
    for arg in rule.arguments:
        if arg in kinds:
            values[arg] = objects[where][kinds[arg]]
        elif getattr(rule._converters[arg], "items", None):  # <any(…)>: its first value
            values[arg] = sorted(rule._converters[arg].items)[0]
        else:
            values[arg] = CONSTANTS[arg]
        if values[arg] is None:
            return None
    return re.sub(r"<(?:[^<>]*:)?(\w+)>", lambda m: str(values[m.group(1)]), rule.rule)


def _reveals(user_id: int) -> int:
    """What this user's requests wrote to the audit log (a reveal, a roster export…)."""
    return db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.actor_id == user_id))


def test_every_rule_has_an_entry_in_the_matrix(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert not endpoints - set(MATRIX), (
        f"routes without an entry in MATRIX (who may, on whose data): {sorted(endpoints - set(MATRIX))}")
    assert not set(MATRIX) - endpoints, f"MATRIX names endpoints that are gone: {set(MATRIX) - endpoints}"


@pytest.mark.slow  # the demo company and ~1,000 requests (PDFs among them): a minute or two
def test_every_rule_every_role_own_and_other_objects(app):
    """The table against the app, cell by cell; and no planted mobile where it may not be."""
    _world(app)
    with app.app_context():
        users = {u.username: u for u in db.session.scalars(select(User))}
        objects = {username: {"own": _objects("SH01", username or "associate"),
                              "other": _objects("GZ01", "hq_manager" if username != "hq_manager" else "hq")}
                   for username in ROLES_BY_USER}
        db.session.remove()
    rules = sorted((r for r in app.url_map.iter_rules()), key=lambda r: (r.endpoint == "auth.logout", r.rule))
    failures, leaks, missing = [], [], set()
    for username, role in ROLES_BY_USER.items():
        client = app.test_client()
        if username:
            response = client.post("/login", data={"username": username, "password": "demo"})
            assert response.status_code == 302, username
        user_id = users[username].id if username else None
        for rule in rules:
            entry = MATRIX.get(rule.endpoint)
            if entry is None:
                continue
            for where in ("own", "other"):
                if where == "other" and not entry.scoped:
                    continue
                url = _urls(rule, where, objects[username], entry)
                if url is None:
                    missing.add(f"{rule.endpoint} {where}")
                    continue
                for method in sorted(rule.methods & {"GET", "POST"}):
                    if rule.endpoint == "auth.logout" and username is None:
                        continue
                    expected = _expected(rule.endpoint, entry, role, method, where)
                    with app.app_context():
                        before = _reveals(user_id) if user_id else 0
                    response = client.open(url, method=method)
                    got = _observed(response, expected, method, entry)
                    if got != expected:
                        failures.append(f"{username or 'nobody'} {method} {url} ({where}): "
                                        f"expected {expected}, got {got}")
                    if response.status_code != 200:
                        continue
                    text = _text(response)
                    for mobile, owner in ((OWN_MOBILE, "SH01"), (OTHER_MOBILE, "GZ01")):
                        if not _digits(mobile).search(text):
                            continue
                        may = role in permissions.REVEAL_ROLES and (owner == "SH01" or role in COMPANY)
                        if not may:
                            leaks.append(f"{username} {method} {url}: {owner}'s mobile in full")
                            continue
                        with app.app_context():
                            after = _reveals(user_id)
                        if after <= before:
                            leaks.append(f"{username} {method} {url}: {owner}'s mobile in full, "
                                         "no reveal audited")
    report = "\n".join(failures[:150] + leaks[:50] + sorted(missing))
    assert not failures and not leaks and not missing, (
        f"{len(failures)} cells differ, {len(leaks)} leaks, {len(missing)} objects missing:\n{report}")
