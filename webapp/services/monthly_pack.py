"""The monthly analysis pack (seed 004 §2–§5: 数据审核 → 存档备查): last month's four analyses for
the company, each area and each store; HQ reviews them (each figure with its inputs and formula,
the unusual ones flagged) and the review freezes them as a signed, versioned snapshot. Data that
arrives later never changes an archived figure: it shows as a difference until HQ reviews again.
"""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from .. import clock, permissions, settings
from ..calendar import local_date
from ..extensions import db
from ..i18n_labels import N_, Refusal, kept
from ..models import AnalysisSnapshot, Area, BatchJob, Case, Store, User
from ..workflows import engine
from . import analyses, batch_jobs

REVIEW = "pack_review"  # the BatchJob kind of a requested review
REVIEW_TIMEOUT = 600  # seconds the worker gives one review (17–34 s at 1 M members)
COMMENT_MAX = 2000


class Refused(Refusal, ValueError):
    """A review that may not be done; str() is the message in the user's language."""


def scopes(user: User) -> list[analyses.Scope]:
    """The company, each area, each store: the pack's pages, widest first (as parse_scope names
    them; OutOfScope for a user who may not see the company)."""
    company = permissions.parse_scope(user, "company")
    areas = db.session.execute(select(Area.id, Area.name).order_by(Area.name)).all()
    stores = db.session.execute(select(Store.id, Store.name).order_by(Store.code)).all()
    return ([company] + [analyses.Scope("area", a, name) for a, name in areas]
            + [analyses.Scope("store", s, name) for s, name in stores])


def scope_codes() -> list[str]:
    """The pack's pages as scope codes, widest first."""
    areas = db.session.scalars(select(Area.id).order_by(Area.name)).all()
    stores = db.session.scalars(select(Store.id).order_by(Store.code)).all()
    return ["company"] + [f"area:{a}" for a in areas] + [f"store:{s}" for s in stores]


def compute(*, user: User, period: str, scope: str) -> dict:
    """The four analyses of one month at one scope, as JSON (what a snapshot keeps)."""
    return {kind: analyses.run(user=user, kind=kind, scope=scope, period=period).as_json()
            for kind in analyses.RUNNERS}


def compute_all(*, user: User, period: str) -> dict[str, dict]:
    """The whole month's pack: every scope's four analyses as JSON, by scope code, widest first.
    The same figures as compute() scope by scope, but all scopes together: one pass for the
    member analyses and one grouped query per level for spending power (analyses.level_reports):
    at 1 M members 17–34 s on the shared bench machine, where the 221 scopes one by one took
    103 s (bench/bench_analyses.py --pack-only --per-scope)."""
    reports = analyses.level_reports(scopes(user), analyses.parse_period(period))
    with kept():
        return {code: {kind: report.as_json() for kind, report in by_kind.items()}
                for code, by_kind in reports.items()}


def flags(reports: dict, *, scope: str) -> list[dict]:
    """What HQ should look at before filing: a figure with no value (a division by zero), a share
    over 100 %, a store with no sales, a jump against the same month last year beyond the setting."""
    jump = Decimal(settings.get_int("pack_jump_percent"))
    out = []
    for kind, report in reports.items():
        for f in report["figures"]:
            value = None if f["value"] is None else Decimal(f["value"])
            if value is None:
                reason = f["reason"] or N_("无法计算（除数为零）")
            elif f["key"].endswith("_yoy") and abs(value) > jump:
                reason = N_("同比变动超过设定比例")
            elif f["unit"] == "%" and value > 100 and not f["key"].endswith(("_yoy", "_mom")) \
                    and f["key"] != "completion":
                reason = N_("占比超过100%")
            else:
                continue
            out.append({"kind": kind, "key": f["key"], "label": f["label"], "display": f["display"],
                        "reason": reason})
    power = reports.get("spending-power")
    if scope.startswith("store:") and power and not any(
            item["value"] not in ("0", "0.00", "—") for item in power["inputs"][:1]):
        # a store that sold nothing: that is the one thing to look at (every share is empty)
        return [{"kind": "spending-power", "key": "", "label": "", "display": "",
                 "reason": N_("本月没有销售")}]
    return out


def latest(*, period: str, scope: str) -> AnalysisSnapshot | None:
    return db.session.scalars(select(AnalysisSnapshot).where(
        AnalysisSnapshot.period == period, AnalysisSnapshot.scope == scope)
        .order_by(AnalysisSnapshot.version.desc())).first()


def versions(*, period: str) -> list[int]:
    """The review versions of a month, oldest first (each kept whole)."""
    return db.session.scalars(select(AnalysisSnapshot.version).where(AnalysisSnapshot.period == period)
                              .group_by(AnalysisSnapshot.version)
                              .order_by(AnalysisSnapshot.version)).all()


def review(*, actor: User, period: str, comment: str = "", now: datetime | None = None) -> int:
    """The review done at once (tests, the shell): what the job of request_review does, without
    the request. Returns the new version."""
    now = now or clock.now()
    _check(actor, period, comment, now)
    try:
        version = _archive(actor, period, comment.strip(), now)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return version


def _check(actor: User, period: str, comment: str, now: datetime) -> None:
    """Who may review which month, with what comment: Refused otherwise."""
    if not permissions.can(actor, "analysis.review"):
        raise Refused(N_("只有总部客服可以审核月度分析"))
    month = analyses.parse_period(period)
    today = local_date(now)
    if not month.month or (month.year, month.month) >= (today.year, today.month):
        raise Refused(N_("%(period)s 尚未结束，不能审核"), period=period)
    if len(comment or "") > COMMENT_MAX:
        raise Refused(N_("审核意见不能超过%(n)s字"), n=COMMENT_MAX)


def _archive(actor: User, period: str, comment: str, now: datetime) -> int:
    """Every scope's figures frozen as a new version, the month's task ticked off by the
    reviewer; flushed, not committed."""
    version = (db.session.scalar(select(func.max(AnalysisSnapshot.version))
                                 .where(AnalysisSnapshot.period == period)) or 0) + 1
    for scope, reports in compute_all(user=actor, period=period).items():
        db.session.add(AnalysisSnapshot(period=period, scope=scope, version=version,
                                        reports=reports, flags=flags(reports, scope=scope),
                                        reviewed_by_id=actor.id, reviewed_at=now, comment=comment))
    db.session.flush()
    _close_task(actor, period, comment, now)
    return version


def request_review(*, actor: User, period: str, comment: str = "",
                   now: datetime | None = None) -> tuple[BatchJob, bool]:
    """HQ asks for the month's review (审核并存档): checked here (Refused: nothing written),
    recorded (who, when, the comment) and queued after the commit; a worker computes and files
    it (run_review). While a review of the month is queued or running, that one is returned and
    nothing new is asked (created False), whoever clicks."""
    now = now or clock.now()
    _check(actor, period, comment, now)
    current = active_review(period=period, now=now)
    if current is not None:
        return current, False
    batch = BatchJob(kind=REVIEW, requested_by_id=actor.id, total=len(scope_codes()), created_at=now,
                     params={"month": period, "comment": (comment or "").strip()},
                     active_key=f"{REVIEW}:{period}")
    db.session.add(batch)
    try:
        db.session.commit()
    except IntegrityError:  # a second click won the race for the month
        db.session.rollback()
        return last_review(period=period), False
    batch_jobs.enqueue(batch, "jobs.monthly_pack.review", timeout=REVIEW_TIMEOUT)
    return batch, True


def last_review(*, period: str) -> BatchJob | None:
    """The month's latest review request, whatever became of it."""
    return db.session.scalars(select(BatchJob).where(
        BatchJob.kind == REVIEW, BatchJob.params["month"].as_string() == period)
        .order_by(BatchJob.id.desc())).first()


def active_review(*, period: str, now: datetime) -> BatchJob | None:
    """The month's review queued or running now; one left stale by a dead worker is marked
    failed and frees the month."""
    batch = db.session.scalars(select(BatchJob).where(BatchJob.active_key == f"{REVIEW}:{period}")).first()
    if batch is not None and batch_jobs.fail_if_lost(batch, now=now):
        return None
    return batch


def review_status(*, period: str, now: datetime | None = None) -> dict | None:
    """The month's latest review request as its page shows it (batch_jobs.status)."""
    job = last_review(period=period)
    return None if job is None else batch_jobs.status(job, now=now)


def run_review(batch_id: int, *, now: datetime | None = None) -> int | None:
    """The worker's side of request_review: every scope's figures computed and frozen as a new
    version, the month's task ticked off by the reviewer (audited as them), the request marked
    done — one transaction. A failure rolls all of it back and records why on the request, which
    the page shows with a button to ask again (batch_jobs.run). Returns the version (None:
    nothing done)."""
    return batch_jobs.run(batch_id, lambda: _run_review(batch_id, now),
                          failed=N_("审核时出错，详情已记入日志"))


def _run_review(batch_id: int, now: datetime | None) -> int | None:
    batch = batch_jobs.claim(batch_id, kind=REVIEW)
    if batch is None:
        return None
    period, comment = batch.params["month"], batch.params.get("comment", "")
    reviewer = db.session.get(User, batch.requested_by_id)
    now = now or clock.now()
    _check(reviewer, period, comment, now)  # the reviewer's role may have changed meanwhile
    version = _archive(reviewer, period, comment, now)
    batch.status, batch.done, batch.active_key = "done", batch.total, None
    batch.params = {**batch.params, "version": version}
    db.session.commit()
    return version


def _close_task(actor: User, period: str, comment: str, now: datetime) -> None:
    """Reviewing the month ticks off the month's review task, if it is still open."""
    ym = analyses.add_ym(int(period.replace("-", "")), 1)
    key = f"monthly_pack:{ym // 100}-{ym % 100:02d}"
    case = db.session.scalars(select(Case).where(Case.dedupe_key == key, Case.state == "due")).first()
    if case is not None:
        engine.fire(case, "reviewed", actor, version=case.version, comment=comment, now=now)


def changes(snapshot: AnalysisSnapshot, current: dict) -> list[dict]:
    """Figures that moved since the review: (analysis, figure, archived, now)."""
    out = []
    for kind, report in snapshot.reports.items():
        now_figures = {f["key"]: f for f in current.get(kind, {}).get("figures", [])}
        for f in report["figures"]:
            new = now_figures.get(f["key"])
            if new is not None and (new["value"], new["display"]) != (f["value"], f["display"]):
                out.append({"kind": kind, "label": f["label"], "archived": f["display"],
                            "current": new["display"]})
    return out


def archived(*, user: User, period: str, scope: str) -> dict:
    """One archived page as this user may see it (OutOfScope beyond their scope): the latest
    reviewed figures, who signed them, and what changed since."""
    return page(user=user, period=period, scope=scope)


def level(scope: str) -> str:
    return scope.partition(":")[0]


LEVELS = {"company": N_("公司"), "area": N_("区域"), "store": N_("门店")}


def pack(*, user: User, period: str, version: int | None = None) -> list[AnalysisSnapshot]:
    """A reviewed month's snapshots the user may see (the latest version unless one is asked)."""
    version = version or max(versions(period=period), default=None)
    if version is None:
        return []
    rows = db.session.scalars(select(AnalysisSnapshot).where(
        AnalysisSnapshot.period == period, AnalysisSnapshot.version == version)
        .order_by(AnalysisSnapshot.id)).all()
    return [s for s in rows if _visible(user, s.scope)]


def _visible(user: User, scope: str) -> bool:
    try:
        permissions.parse_scope(user, scope)
    except (permissions.OutOfScope, ValueError):
        return False
    return True


def pdf_items(*, reader: User, period: str) -> list[dict]:
    """The worker's pages of the month's archived pack (services/printing, kind
    "analysis_pack"): each scope the reader may see, its four analyses, signed. A pack of 221
    scopes takes minutes to lay out (190 s at 200 k members), so it is a filing batch, never
    rendered in a request."""
    return [{"reports": s.reports, "version": s.version, "reviewed_by": s.reviewed_by,
             "reviewed_at": s.reviewed_at, "comment": s.comment}
            for s in pack(user=reader, period=period)]


def pdf_context() -> dict:
    """What analysis_pack.html needs beside its pages."""
    from ..formatting import local_time
    from .analysis_exports import headings

    return {"key": "snapshots", "h": headings(), "local_time": local_time,
            "company": settings.get("company_name")}


def pack_xlsx(snapshots: list[AnalysisSnapshot]) -> bytes:
    """The month's pack as one workbook: a sheet per analysis and scope level (company, areas,
    stores), every figure with its formula, inputs and result, and who reviewed it."""
    import io

    from flask_babel import gettext as _
    from openpyxl import Workbook
    from openpyxl.styles import Font

    from .. import spreadsheet
    from .analysis_exports import headings

    h = headings()
    book = Workbook()
    book.remove(book.active)
    for kind, title in analyses.KINDS.items():
        for lvl, lvl_label in LEVELS.items():
            rows = [s for s in snapshots if level(s.scope) == lvl and kind in s.reports]
            if not rows:
                continue
            sheet = book.create_sheet(f"{_(title)}-{_(lvl_label)}"[:31])
            spreadsheet.append(sheet, [_(title)])
            sheet["A1"].font = Font(size=14, bold=True)
            first = spreadsheet.append(sheet, [h["scope"], h["period"], h["no"], h["label"], h["formula"],
                                               h["inputs"], h["result"], h["reason"], h["reviewed"]])
            for cell in sheet[first]:
                cell.font = Font(bold=True)
            for s in rows:
                report = s.reports[kind]
                signed = f"v{s.version} {s.reviewed_by.display_name} {s.reviewed_at.date().isoformat()}"
                for f in report["figures"]:
                    spreadsheet.append(sheet, [report["scope"]["label"], report["period"]["label"], f["no"],
                                               f["label"], f["formula"], f["inputs"], f["display"],
                                               f["reason"], signed])
            for column, width in zip("ABCDEFGHI", (14, 12, 6, 26, 36, 24, 12, 20, 24)):
                sheet.column_dimensions[column].width = width
            spreadsheet.print_setup(sheet, header_row=first, last_column="I", landscape=True)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def page(*, user: User, period: str, scope: str) -> dict:
    """What the review page shows for one scope: the archived figures (or, before any review,
    today's), their flags, and what changed since the review. OutOfScope beyond the user's scope."""
    permissions.parse_scope(user, scope)
    current = compute(user=user, period=period, scope=scope)
    snapshot = latest(period=period, scope=scope)
    if snapshot is None:
        return {"snapshot": None, "reports": current, "flags": flags(current, scope=scope), "changes": []}
    return {"snapshot": snapshot, "reports": snapshot.reports, "flags": snapshot.flags,
            "changes": changes(snapshot, current)}
