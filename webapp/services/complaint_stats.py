"""Complaint compliance per store for a scope and a month: counts in SQL, percentages in Decimal.

A limit counts once it is met or has passed ("evaluated"); it is met on time when done and not
flagged late — so a complaint still inside its 48 hours neither helps nor hurts the rate.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from io import BytesIO

from sqlalchemy import and_, case, func, or_, select

from .. import clock, formatting, permissions, spreadsheet
from ..calendar import add_months, local_midnight_utc
from ..extensions import db
from ..i18n_labels import N_, Refusal
from ..models import COMPANY_ROLES, Area, Complaint, Store, User


class ScopeRefused(Refusal):
    pass


@dataclass
class Row:
    name: str
    received: int = 0
    reply: tuple[int, int] = (0, 0)  # (on time, evaluated)
    solution: tuple[int, int] = (0, 0)
    revisit: tuple[int, int] = (0, 0)
    satisfaction: Decimal | None = None
    open_breaches: int = 0
    late: int = 0
    rates: dict = field(default_factory=dict)


def percent(part: int, whole: int) -> Decimal | None:
    """One decimal, half up; None when there is nothing to divide by."""
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"), ROUND_HALF_UP)


def scope_filter(user: User, scope: str, scope_id: int | None):
    """SQL condition for the chosen scope, refused when outside the user's own."""
    if scope == "company":
        if user.role not in COMPANY_ROLES:
            raise ScopeRefused(N_("您只能查看自己范围内的统计"))
        return Complaint.store_id.is_not(None)
    if scope == "area":
        area = db.session.get(Area, scope_id) if scope_id else None
        if area is None or not (user.role in COMPANY_ROLES or user.area_id == area.id):
            raise ScopeRefused(N_("片区不存在或不在您的范围内"))
        return Complaint.store_id.in_(select(Store.id).where(Store.area_id == area.id))
    store = db.session.get(Store, scope_id) if scope_id else None
    if store is None or not permissions.in_scope(user, store.id, store.area_id):
        raise ScopeRefused(N_("门店不存在或不在您的范围内"))
    return Complaint.store_id == store.id


def compliance(*, user: User, scope: str, scope_id: int | None, month: date,
               now: datetime | None = None) -> list[Row]:
    """One row per store with complaints received in the month, then the total row."""
    now = now or clock.now()
    start, end = local_midnight_utc(month.replace(day=1)), local_midnight_utc(add_months(month.replace(day=1), 1))
    c = Complaint

    def on_time(done, due, late):
        return (func.sum(case((and_(done.is_not(None), late.is_(False)), 1), else_=0)),
                func.sum(case((or_(done.is_not(None), and_(due.is_not(None), due < now)), 1), else_=0)))

    # 24 h: the first contact; 48 h: the solution put to the customer (Complaint.open_breaches).
    pending = ((c.contacted_at, c.reply_due_at), (c.replied_at, c.agreed_reply_at),
               (c.proposed_at, c.solution_due_at), (c.solved_at, c.carry_out_due_at),
               (c.revisited_at, c.revisit_due_at))
    breach_open = or_(*(and_(done.is_(None), due.is_not(None), due < now) for done, due in pending))
    late_derived = or_(*(and_(done.is_not(None), due.is_not(None), done > due)
                         for done, due in pending[1::2]))
    columns = (func.count(c.id), *on_time(c.contacted_at, c.reply_due_at, c.reply_late),
               *on_time(c.proposed_at, c.solution_due_at, c.solution_late),
               *on_time(c.revisited_at, c.revisit_due_at, c.revisit_late),
               func.avg(c.survey_score), func.sum(case((breach_open, 1), else_=0)),
               func.sum(case((or_(c.reply_late, c.solution_late, c.revisit_late, late_derived), 1),
                             else_=0)))
    query = (select(Store.name, *columns).join(Store, Store.id == c.store_id)
             .where(scope_filter(user, scope, scope_id), c.received_at >= start, c.received_at < end)
             .group_by(Store.id, Store.name).order_by(Store.name))
    rows = [_row(r[0], r[1:]) for r in db.session.execute(query)]
    total = _row(N_("合计"), db.session.execute(
        select(*columns).where(scope_filter(user, scope, scope_id), c.received_at >= start,
                               c.received_at < end)).one())
    return rows + [total]


def _row(name: str, v) -> Row:
    ints = [int(x or 0) for x in (v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[8], v[9])]
    avg = Decimal(str(v[7])).quantize(Decimal("0.1"), ROUND_HALF_UP) if v[7] is not None else None
    row = Row(name, ints[0], (ints[1], ints[2]), (ints[3], ints[4]), (ints[5], ints[6]), avg,
              ints[7], ints[8])
    row.rates = {k: percent(*getattr(row, k)) for k in ("reply", "solution", "revisit")}
    return row


HEADERS = (N_("门店"), N_("受理数"), N_("24小时内回复率"), N_("48小时内给出方案率"), N_("1周内回访率"),
           N_("满意度均分"), N_("未处理超时"), N_("曾超时"))


def table(rows: list[Row]) -> list[list]:
    """The compliance table as plain cells ('—' where a rate has nothing to divide)."""
    show = formatting.percent
    return [[r.name, r.received, show(r.rates["reply"]), show(r.rates["solution"]),
             show(r.rates["revisit"]), "—" if r.satisfaction is None else str(r.satisfaction),
             r.open_breaches, r.late] for r in rows]


def xlsx(rows: list[Row], title: str) -> bytes:
    """The table with a native Excel bar chart of the three on-time rates per store."""
    from openpyxl import Workbook
    from openpyxl.chart import BarChart, Reference

    wb = Workbook()
    ws = wb.active
    ws.title = "投诉处理达标"
    spreadsheet.append(ws, [title])
    spreadsheet.append(ws, list(HEADERS))
    for r in rows:  # store names are text, never formulas (spreadsheet.append)
        spreadsheet.append(ws, [r.name, r.received] + [
            float(r.rates[k]) if r.rates[k] is not None else None for k in ("reply", "solution", "revisit")]
            + [float(r.satisfaction) if r.satisfaction is not None else None, r.open_breaches, r.late],
            dict.fromkeys((3, 4, 5), formatting.PERCENT_FORMAT))
    chart = BarChart()
    chart.title, chart.y_axis.title = "按时率（%）", "%"
    last = 2 + len(rows)
    chart.add_data(Reference(ws, min_col=3, max_col=5, min_row=2, max_row=last), titles_from_data=True)
    chart.set_categories(Reference(ws, min_col=1, min_row=3, max_row=last))
    ws.add_chart(chart, f"A{last + 2}")
    spreadsheet.print_setup(ws, header_row=2, last_column="H", last_row=last + 18)
    out = BytesIO()
    wb.save(out)
    return out.getvalue()
