"""The monthly analysis pack (seed 004 §2–§5: 数据审核 → 存档备查): last month's four analyses for
the company, each area and each store; HQ reviews them (each figure with its inputs and formula,
the unusual ones flagged) and the review freezes them as a signed, versioned snapshot. Data that
arrives later never changes an archived figure: it shows as a difference until HQ reviews again.
"""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import func, select

from .. import clock, permissions, settings
from ..extensions import db
from ..i18n_labels import N_
from ..models import AnalysisSnapshot, Area, Store, User
from . import analyses


class Refused(ValueError):
    """A review that may not be done; str() is the message in the user's language."""


def scope_codes() -> list[str]:
    """The company, each area, each store: the pack's pages, widest first."""
    areas = db.session.scalars(select(Area.id).order_by(Area.name)).all()
    stores = db.session.scalars(select(Store.id).order_by(Store.code)).all()
    return ["company"] + [f"area:{a}" for a in areas] + [f"store:{s}" for s in stores]


def compute(*, user: User, period: str, scope: str) -> dict:
    """The four analyses of one month at one scope, as JSON (what a snapshot keeps)."""
    return {kind: analyses.run(user=user, kind=kind, scope=scope, period=period).as_json()
            for kind in analyses.RUNNERS}


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
        out.insert(0, {"kind": "spending-power", "key": "", "label": "", "display": "",
                       "reason": N_("本月没有销售")})
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
    """HQ marks the month reviewed: every scope's figures frozen as a new version; returns it."""
    if not permissions.can(actor, "analysis.review"):
        raise Refused(N_("只有总部客服可以审核月度分析"))
    analyses.parse_period(period)
    now = now or clock.now()
    version = (db.session.scalar(select(func.max(AnalysisSnapshot.version))
                                 .where(AnalysisSnapshot.period == period)) or 0) + 1
    try:
        for scope in scope_codes():
            reports = compute(user=actor, period=period, scope=scope)
            db.session.add(AnalysisSnapshot(period=period, scope=scope, version=version,
                                            reports=reports, flags=flags(reports, scope=scope),
                                            reviewed_by_id=actor.id, reviewed_at=now,
                                            comment=(comment or "").strip()))
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return version


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
    permissions.parse_scope(user, scope)  # a store sees only its own pages
    snapshot = latest(period=period, scope=scope)
    if snapshot is None:
        return {"snapshot": None, "changes": []}
    return {"snapshot": snapshot,
            "changes": changes(snapshot, compute(user=user, period=period, scope=scope))}
