"""The four member analyses of seed 004 §5 (SPEC §4), computed set-based in SQL on the roll-ups.

Every analysis takes a scope (a store, an area, the company) and a period (a month or a year) and
returns a Report: the seed's table (numbered indicators with formula, inputs and result), the
exported figures it was computed from, and a chart series. Pages, PDF, xlsx and the JSON API all
render the same Report.

Conventions (SPEC §4; the seed is silent): a band includes its lower edge; spend is a member's net
spend (returns deducted) over the period; in a store's or area's analyses the members are those whose
home store lies in the scope and the sales those made in the scope (4.3's consuming members: any
member with a ticket there); "total members" are the valid members at the period's last day (active,
card not expired that day, a card lapsed since included; the consuming share counts the
consuming members among them, so both sides are the same population); age is whole years at the period's last day, from the birth year and month-day
kept in clear beside the encrypted birth date (models.Member); lapsed = a member who could have bought (joined before the window)
and has no purchase in the last `analysis_lapse_months` calendar months. Results are rounded half up:
percentages to one decimal, ratios to two, money to the fen. A division by zero gives no value and
the reason instead.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from sqlalchemy import BigInteger, and_, bindparam, case, func, literal, or_, select, true
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import FunctionElement

from .. import clock, formatting, settings
from ..calendar import local_date
from ..extensions import db
from ..i18n_labels import N_
from ..models import AREA_ROLES, COMPANY_ROLES, Area, Member, Store, User, parse_id
from ..periods import Month
from ..permissions import (SCOPE_PATTERN, OutOfScope, Scope, default_scope_code,  # noqa: F401
                           parse_scope, scope_choices)
from ..models import MemberMonth, SalesTarget, StoreMonth
from ..i18n_labels import kept, say as _

KINDS = {"consumption": N_("会员消费水平分析表"), "demographics": N_("消费会员性别年龄分析表"),
         "spending-power": N_("会员消费力分析表"), "churn": N_("会员流失分析表")}
SETTING_LABELS = (N_("消费水平分段1(元)"), N_("分段含下限:100 元计入 100—300 元段"),
                  N_("消费水平分段2(元)"), N_("消费水平分段3(元)"), N_("消费水平分段4(元)"),
                  N_("年龄分段1(岁)"), N_("分段含下限:20 岁计入 20—30 岁段"), N_("年龄分段2(岁)"),
                  N_("年龄分段3(岁)"), N_("流失判定:连续几个月未消费"))
DASH = "—"


def _title(kind: str) -> str:
    return _(KINDS[kind])


# ------------------------------------------------------------------ scope and period

@dataclass(frozen=True)
class Period:
    year: int
    month: int | None = None

    @property
    def code(self) -> str:
        return f"{self.year}-{self.month:02d}" if self.month else str(self.year)

    @property
    def label(self) -> str:
        return _("%(y)s年%(m)s月", y=self.year, m=self.month) if self.month else _(
            "%(y)s年", y=self.year)

    @property
    def first_ym(self) -> int:
        return self.year * 100 + (self.month or 1)

    @property
    def last_ym(self) -> int:
        return self.year * 100 + (self.month or 12)

    @property
    def last_day(self) -> date:
        return month_end(self.last_ym)

    def previous(self) -> "Period | None":
        """The month before (MoM); a year has none."""
        if not self.month:
            return None
        month = Month(self.year, self.month).previous()
        return Period(month.year, month.month)

    def last_year(self) -> "Period":
        return Period(self.year - 1, self.month)


def add_ym(ym: int, months: int) -> int:
    return Month.from_ym(ym).plus(months).ym


def month_end(ym: int) -> date:
    return Month.from_ym(ym).last_day


# The query parameters as the OpenAPI document states them (ASCII digits; years as calendar.YEARS);
# empty means the default. The same patterns are checked here, so the document and the server agree.
PERIOD_PATTERN = "^((20[0-9]{2}|2100)(-(0[1-9]|1[0-2]))?)?$"


def parse_period(raw: str) -> Period:
    """'2026-10' (a month) or '2026' (a year); the last complete month when empty."""
    raw = raw or ""
    if not raw:
        today = local_date(clock.now())
        ym = add_ym(today.year * 100 + today.month, -1)
        return Period(ym // 100, ym % 100)
    if not re.fullmatch(PERIOD_PATTERN, raw):
        raise ValueError(_("期间格式应为 2026-10(月)或 2026(年)"))
    year, _sep, month = raw.partition("-")
    return Period(int(year), int(month) if month else None)


# ------------------------------------------------------------------ results

@dataclass
class Figure:
    """One row of an analysis table: a value, or no value and the reason why."""

    no: str
    key: str
    label: str
    formula: str
    inputs: str
    value: Decimal | None
    unit: str  # "%" | "yuan" | "ratio" | "count"
    reason: str = ""

    @property
    def display(self) -> str:
        return show(self.value, self.unit)

    def as_json(self) -> dict:
        return {"no": self.no, "key": self.key, "label": self.label, "formula": self.formula,
                "inputs": self.inputs, "unit": self.unit, "display": self.display,
                "value": None if self.value is None else str(self.value), "reason": self.reason}


@dataclass
class Chart:
    title: str
    labels: list[str]
    values: list[Decimal | None]
    unit: str = "%"
    kind: str = "bar"  # bar | line


@dataclass
class Report:
    kind: str
    title: str
    scope: Scope
    period: Period
    figures: list[Figure]
    inputs: list[tuple[str, object, str]]  # label, value (a count, or yuan as Decimal), unit
    chart: Chart
    trend: list[dict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def input_texts(self) -> list[tuple[str, str]]:
        """The exported data as (label, text) for pages, PDFs and JSON."""
        return [(label, show(value, unit)) for label, value, unit in self.inputs]

    def as_json(self) -> dict:
        return {"kind": self.kind, "title": self.title,
                "scope": {"code": self.scope.code, "kind": self.scope.kind, "id": self.scope.id,
                          "label": self.scope.label},
                "period": {"code": self.period.code, "label": self.period.label},
                "inputs": [{"label": k, "value": v} for k, v in self.input_texts],
                "figures": [f.as_json() for f in self.figures],
                "chart": {"title": self.chart.title, "unit": self.chart.unit,
                          "labels": self.chart.labels,
                          "values": [None if v is None else str(v) for v in self.chart.values]},
                "trend": [{k: (str(v) if isinstance(v, Decimal) else v) for k, v in row.items()}
                          for row in self.trend],
                "notes": self.notes}


def show(value, unit: str) -> str:
    """A figure or an input as text: the product's one percent and one money format."""
    if value is None:
        return DASH
    if unit == "%":
        return formatting.percent(value)
    if unit == "yuan":
        return formatting.yuan(Fraction(value) * 100)
    return f"{value}"


def _round(value: Fraction, places: str) -> Decimal:
    """Half-up rounding of an exact fraction (no float anywhere)."""
    return (Decimal(value.numerator) / Decimal(value.denominator)).quantize(
        Decimal(places), rounding=ROUND_HALF_UP)


def share(num, den, reason: str) -> tuple[Decimal | None, str]:
    """num / den as a percentage, or the reason when den is zero."""
    if not den:
        return None, reason
    return _round(Fraction(num) / Fraction(den) * 100, "0.1"), ""


def growth(cur, prev, reason: str) -> tuple[Decimal | None, str]:
    """(cur - prev) / prev as a percentage, or the reason when prev is zero or missing."""
    if prev is None or not prev:
        return None, reason
    return _round((Fraction(cur) - Fraction(prev)) / Fraction(prev) * 100, "0.1"), ""


def ratio(num, den, reason: str, places: str = "0.01") -> tuple[Decimal | None, str]:
    if not den:
        return None, reason
    return _round(Fraction(num) / Fraction(den), places), ""


def yuan_text(fen: int | Fraction | None) -> str:
    return DASH if fen is None else formatting.yuan(fen)


# ------------------------------------------------------------------ shared queries

def _scope_condition(kind: str):
    """Scope.stores for a statement built once per scope level: the scope's id is the bound
    parameter `scope_id`."""
    scope_id = bindparam("scope_id", None, type_=db.Integer)

    def in_scope(column):
        if kind == "company":
            return true()
        if kind == "area":
            return column.in_(select(Store.id).where(Store.area_id == scope_id))
        return column == scope_id
    return in_scope


_PREPARED: dict = {}


def _execute_prepared(key: tuple, build, params: dict):
    """Run a statement built and compiled once per key, its varying values bound parameters.

    The monthly pack runs every analysis for each of 200 stores, where the queries take well under
    a millisecond on the roll-ups: rebuilding a large statement and computing SQLAlchemy's cache
    key for it each time cost several times the query (bench/bench_analyses.py). The compiled SQL
    is kept per database dialect and run as the driver's statement.
    """
    conn = db.session.connection()
    entry = _PREPARED.get((conn.dialect.name, key))
    if entry is None:
        compiled = build().compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
        entry = (str(compiled), dict(compiled.params), compiled.positiontup)
        _PREPARED[(conn.dialect.name, key)] = entry
    sql, defaults, positions = entry
    values = defaults | params
    return conn.exec_driver_sql(sql, tuple(values[name] for name in positions) if positions
                                else values)


def _edges(keys: tuple[str, ...], what: str) -> list[int]:
    edges = [settings.get_int(k) for k in keys]
    if any(b <= a for a, b in zip(edges, edges[1:])):
        raise ValueError(_("%(what)s分段设置不正确:界限必须由小到大", what=what))
    return edges


def spend_edges() -> list[int]:
    return _edges(tuple(f"analysis_spend_band_{i}" for i in range(1, 5)), _("消费水平"))


def age_edges() -> list[int]:
    return _edges(tuple(f"analysis_age_band_{i}" for i in range(1, 4)), _("年龄"))


def band_labels(edges: list[int], unit: str) -> list[str]:
    """'100元以下', '100—300元', …, '1000元以上'."""
    out = [_("%(a)s%(u)s以下", a=edges[0], u=unit)]
    out += [f"{a}—{b}{unit}" for a, b in zip(edges, edges[1:])]
    out.append(_("%(a)s%(u)s以上", a=edges[-1], u=unit))
    return out


def _band_cases(column, edges: list[int], among=None) -> list:
    """One COUNT per band: below the first edge, each [edge, next), at or above the last (of the
    rows where `among` holds, when given)."""
    bounds = [None, *edges, None]
    out = []
    for low, high in zip(bounds, bounds[1:]):
        cond = [c for c in (low is not None and column >= low, high is not None and column < high)
                if c is not False]
        if among is not None:
            cond.insert(0, among)
        out.append(func.sum(case((and_(*cond), 1), else_=0)))
    return out


def _valid(day: date):
    # A lapsed card (issue #12) was valid up to its expiry date: a past period still counts it.
    return and_(Member.status.in_(("active", "lapsed")), Member.card_expires_on >= day,
                Member.applied_on <= day)


def _valid_between(first: date, last: date):
    """Members whose card is valid on some day from `first` to `last` (a superset of each day's)."""
    return and_(Member.status.in_(("active", "lapsed")), Member.card_expires_on >= first,
                Member.applied_on <= last)


def _param(name: str, type_=db.Integer):
    return bindparam(name, None, type_=type_)


def _spend_of(in_scope):
    """_spend for a statement built once per scope level (parameters `from`, `to`, `scope_id`);
    the scope's members are kept by the caller's join."""
    mm = MemberMonth
    return (select(mm.member_id.label("member_id"), func.sum(mm.amount_fen).label("spend"))
            .where(mm.ym.between(_param("from"), _param("to")), in_scope(mm.store_id))
            .group_by(mm.member_id).having(func.sum(mm.amount_fen) > 0).subquery())


def _consumption_statement(kind: str, count: int):
    """4.1's figures in one query: consuming members and their spend bands (edges `e0`… in fen),
    the valid ones among them and the valid members of the scope on `day`."""
    in_scope = _scope_condition(kind)
    spend = _spend_of(in_scope)
    total = select(func.count()).select_from(Member).where(
        _valid(_param("day", db.Date)), in_scope(Member.store_id)).scalar_subquery()
    return (select(*_consumption_columns(spend.c.spend, "e", count), total)
            .select_from(spend).join(Member, Member.id == spend.c.member_id)
            .where(in_scope(Member.store_id)))


def _consumption_columns(spend, edge: str, count: int, among=None) -> list:
    """4.1's counts over the consuming members joined to Member (or the rows where `among`
    holds): all, per spend band (edges `<edge>0`… in fen), the valid ones on `day`."""
    valid = _valid(_param("day", db.Date))
    return [_count(among), *_band_cases(spend, [_param(f"{edge}{i}") for i in range(count)], among),
            func.count().filter(valid if among is None else and_(among, valid))]


def _demographics_columns(edge: str, count: int, among=None) -> list:
    """4.2's counts over the consuming members joined to Member (or the rows where `among`
    holds): all, male, female, without a birth year, per age band (edges `<edge>0`…) at `year`,
    month-day `md`."""
    age = _age(_param("year"), _param("md"))

    def number(condition):
        return func.sum(case((condition if among is None else and_(among, condition), 1), else_=0))
    return [_count(among), number(Member.gender == "M"), number(Member.gender == "F"),
            number(Member.birth_year.is_(None)),
            *_band_cases(age, [_param(f"{edge}{i}") for i in range(count)], among)]


def _count(among=None):
    return func.count() if among is None else func.count().filter(among)


def _demographics_statement(kind: str, count: int):
    """4.2's figures in one query: the consuming members by gender and by age band (edges `e0`…)
    at the period's last day (`year`, month-day `md`)."""
    in_scope = _scope_condition(kind)
    spend = _spend_of(in_scope)
    return (select(*_demographics_columns("e", count))
            .select_from(spend).join(Member, Member.id == spend.c.member_id)
            .where(in_scope(Member.store_id)))


# ------------------------------------------------------------------ 4.1 consumption level

def consumption(scope: Scope, period: Period) -> Report:
    """4.1 会员消费水平分析: consuming share and the spend bands."""
    edges = spend_edges()
    params = {"scope_id": scope.id, "from": period.first_ym, "to": period.last_ym,
              "day": period.last_day} | {f"e{i}": e * 100 for i, e in enumerate(edges)}
    row = _execute_prepared(("consumption", scope.kind, len(edges)),
                            lambda: _consumption_statement(scope.kind, len(edges)), params).one()
    return _consumption_report(scope, period, edges, row)


def _consumption_report(scope: Scope, period: Period, edges: list[int], row) -> Report:
    """4.1's report from its query's row: consuming members, the spend bands, the valid consuming
    members, the valid members (one scope's statement, or one scope's row of the pack's)."""
    # numerator and denominator from one population: the members valid at the period's end
    consuming, bands = int(row[0] or 0), [int(x or 0) for x in row[1:-2]]
    valid_consuming, total = int(row[-2] or 0), int(row[-1] or 0)
    labels = band_labels(edges, _("元"))
    value, reason = share(valid_consuming, total, _("没有有效会员"))
    figures = [Figure("1", "consuming_share", _("消费会员占比"), _("有效会员中的消费会员数 / 有效会员总数"),
                      f"{valid_consuming} / {total}", value, "%", reason)]
    for i, (label, count) in enumerate(zip(labels, bands)):
        value, reason = share(count, consuming, _("本期没有消费会员"))
        figures.append(Figure(f"2.{i + 1}", f"band_{i + 1}", _("%(band)s消费段占比", band=label),
                              _("该消费段会员数 / 消费会员数"), f"{count} / {consuming}", value, "%",
                              reason))
    inputs = [(_("有效会员总数"), total, "count"), (_("消费会员数"), consuming, "count"),
              (_("有效会员中的消费会员数"), valid_consuming, "count")]
    inputs += [(_("%(band)s消费会员数", band=label), n, "count") for label, n in zip(labels, bands)]
    chart = Chart(_("各消费水平段占比"), labels, [f.value for f in figures[1:]])
    return Report("consumption", _title("consumption"), scope, period, figures, inputs, chart)


# ------------------------------------------------------------------ 4.2 gender and age

def age_at(day: date):
    """SQL: whole years of age at `day` — one less while that year's birthday is still to come.

    From the clear birth year and month-day (MMDD); a member without a month-day (none on record)
    counts by year only. Plain integer arithmetic, the same on SQLite and PostgreSQL.
    """
    return _age(day.year, day.month * 100 + day.day)


def _age(year, month_day):
    """age_at with the day as its year and month-day (values or bound parameters)."""
    not_yet = case((Member.birth_month_day > month_day, 1), else_=0)
    return year - Member.birth_year - not_yet


def demographics(scope: Scope, period: Period) -> Report:
    """4.2 消费会员性别年龄分析: gender shares and age bands of the consuming members."""
    edges = age_edges()
    day = period.last_day
    params = {"scope_id": scope.id, "from": period.first_ym, "to": period.last_ym,
              "year": day.year, "md": day.month * 100 + day.day} | {
                  f"e{i}": e for i, e in enumerate(edges)}
    row = _execute_prepared(("demographics", scope.kind, len(edges)),
                            lambda: _demographics_statement(scope.kind, len(edges)), params).one()
    return _demographics_report(scope, period, edges, row)


def _demographics_report(scope: Scope, period: Period, edges: list[int], row) -> Report:
    """4.2's report from its query's row: consuming members, male, female, without a birth year,
    the age bands."""
    consuming, male, female, unknown = (int(x or 0) for x in row[:4])
    bands = [int(x or 0) for x in row[4:]]
    labels = band_labels(edges, _("岁"))
    figures = []
    for key, label, count in (("male", _("男性"), male), ("female", _("女性"), female)):
        value, reason = share(count, consuming, _("本期没有消费会员"))
        figures.append(Figure("1", key, _("%(g)s消费会员占比", g=label), _("该性别消费会员数 / 消费会员数"),
                              f"{count} / {consuming}", value, "%", reason))
    for i, (label, count) in enumerate(zip(labels, bands)):
        value, reason = share(count, consuming, _("本期没有消费会员"))
        figures.append(Figure("2", f"age_{i + 1}", _("%(band)s消费会员占比", band=label),
                              _("该年龄段消费会员数 / 消费会员数"), f"{count} / {consuming}", value,
                              "%", reason))
    inputs = [(_("消费会员数"), consuming, "count"), (_("男性"), male, "count"),
              (_("女性"), female, "count")]
    inputs += [(label, n, "count") for label, n in zip(labels, bands)]
    notes = [_("%(n)s 名消费会员没有出生年份,未计入年龄段", n=unknown)] if unknown else []
    chart = Chart(_("消费会员性别与年龄段占比"), [_("男性"), _("女性"), *labels],
                  [f.value for f in figures])
    return Report("demographics", _title("demographics"), scope, period, figures, inputs, chart,
                  notes=notes)


# ------------------------------------------------------------------ 4.3 spending power

@dataclass
class Totals:
    """A scope's sales in a period, from the store roll-up."""

    sales: int = 0
    tickets: int = 0
    member_sales: int = 0
    member_tickets: int = 0
    member_items: int = 0
    any_rows: bool = False

    @property
    def member_ticket(self) -> Fraction | None:
        """Average member ticket in fen (exact), None without member tickets."""
        return Fraction(self.member_sales, self.member_tickets) if self.member_tickets else None


def totals(scope: Scope, period: Period) -> Totals:
    sm = StoreMonth
    row = db.session.execute(select(
        func.sum(sm.amount_fen), func.sum(sm.tickets), func.sum(sm.member_amount_fen),
        func.sum(sm.member_tickets), func.sum(sm.member_items), func.count())
        .where(sm.ym.between(period.first_ym, period.last_ym), scope.stores(sm.store_id))).one()
    return Totals(*(int(x or 0) for x in row[:5]), any_rows=bool(row[5]))


def _power_data(scope: Scope, period: Period):
    """What 4.3 reads, in one round trip: the period's, last year's and the previous month's
    totals from the store roll-up; the consuming members (distinct members with a ticket in the
    scope in the period); the target (the sum over the scope's stores and months), or the reason
    there is none when a store or a month has no target."""
    periods = _power_periods(period)
    params = {"scope_id": scope.id} | _power_params(periods)
    row = _execute_prepared(("power", scope.kind, len(periods)),
                            lambda: _power_statement(scope.kind, len(periods)), params).one()
    return _power_from_row(period, row)


def _power_periods(period: Period) -> list[Period]:
    """The periods 4.3 compares: the one analysed, last year's, the month before (a month's)."""
    prev_period = period.previous()
    return [period, period.last_year()] + ([prev_period] if prev_period else [])


def _power_params(periods: list[Period]) -> dict:
    out = {}
    for i, p in enumerate(periods):
        out |= {f"from{i}": p.first_ym, f"to{i}": p.last_ym}
    return out


def _power_from_row(period: Period, row):
    """_power_data's values from its query's row: six totals per period, the consuming members,
    the target's sum and rows, the scope's number of stores."""
    prev_period = period.previous()
    periods = _power_periods(period)
    found = [Totals(*(int(x or 0) for x in row[6 * i:6 * i + 5]), any_rows=bool(row[6 * i + 5]))
             for i in range(len(periods))]
    buyers_n, goal_fen, goal_rows, store_count = row[6 * len(periods):]
    months = period.last_ym - period.first_ym + 1
    if not goal_rows:
        goal_pair = None, _("未设定销售目标")
    elif goal_rows < store_count * months:
        goal_pair = None, _("部分门店或月份未设定销售目标")
    else:
        goal_pair = int(goal_fen), ""
    return found[0], found[1], found[2] if prev_period else None, int(buyers_n or 0), goal_pair


def _power_ranges(count: int) -> list[tuple]:
    return [(bindparam(f"from{i}", None, type_=db.Integer),
             bindparam(f"to{i}", None, type_=db.Integer)) for i in range(count)]


def _power_columns(ranges: list[tuple]) -> list:
    """The store roll-up's six totals per period (its rows counted last)."""
    sm = StoreMonth
    cols = []
    for first, last in ranges:
        inside = sm.ym.between(first, last)
        cols += [func.sum(sm.amount_fen).filter(inside), func.sum(sm.tickets).filter(inside),
                 func.sum(sm.member_amount_fen).filter(inside),
                 func.sum(sm.member_tickets).filter(inside), func.sum(sm.member_items).filter(inside),
                 func.count().filter(inside)]
    return cols


def _power_statement(kind: str, count: int):
    """_power_data's query for a scope level and a number of periods (the first is the one
    analysed), with bound parameters."""
    sm, mm, st = StoreMonth, MemberMonth, SalesTarget
    in_scope = _scope_condition(kind)
    ranges = _power_ranges(count)
    cols = _power_columns(ranges)
    buyers = (select(mm.member_id).where(mm.ym.between(*ranges[0]), in_scope(mm.store_id))
              .group_by(mm.member_id).having(func.sum(mm.tickets) > 0).subquery())
    goal = select(func.sum(st.amount_fen), func.count()).where(
        st.ym.between(*ranges[0]), in_scope(st.store_id)).subquery()
    stores = select(func.count()).select_from(Store).where(in_scope(Store.id)).scalar_subquery()
    return (select(*cols, select(func.count()).select_from(buyers).scalar_subquery(),
                   select(goal.c[0]).scalar_subquery(), select(goal.c[1]).scalar_subquery(), stores)
            .where(or_(*[sm.ym.between(first, last) for first, last in ranges]),
                   in_scope(sm.store_id)))


def spending_power(scope: Scope, period: Period) -> Report:
    """4.3 会员消费力分析: the 14 indicators."""
    return _spending_power_report(scope, period, _power_data(scope, period))


def _spending_power_report(scope: Scope, period: Period, data) -> Report:
    """4.3's report from _power_data's values."""
    cur, ly, prev, buyers, (goal, goal_reason) = data
    prev_period = period.previous()
    no_ly, no_prev = _("去年同期没有销售"), _("上月没有销售") if prev_period else _("年度分析不计算环比")
    no_ly_m, no_prev_m = _("去年同期没有会员销售"), _("上月没有会员销售") if prev_period else no_prev
    p = prev or Totals()
    rows = [
        ("completion", _("销售完成率"), _("销售额 / 目标销售额"),
         f"{yuan_text(cur.sales)} / {yuan_text(goal)}",
         share(cur.sales, goal, goal_reason) if goal else (None, goal_reason), "%"),
        ("sales_yoy", _("销售额同比增长率"), _("(本期销售额 − 去年同期销售额) / 去年同期销售额"),
         _pair(cur.sales, ly.sales), growth(cur.sales, ly.sales, no_ly), "%"),
        ("sales_mom", _("销售额环比增长率"), _("(本期销售额 − 上期销售额) / 上期销售额"),
         _pair(cur.sales, p.sales, prev), growth(cur.sales, prev and p.sales, no_prev), "%"),
        ("member_sales_share", _("会员销售额占比"), _("会员销售额 / 销售额"),
         f"{yuan_text(cur.member_sales)} / {yuan_text(cur.sales)}",
         share(cur.member_sales, cur.sales, _("本期没有销售")), "%"),
        ("member_sales_yoy", _("会员销售额同比增长率"), _("(本期会员销售额 − 去年同期) / 去年同期"),
         _pair(cur.member_sales, ly.member_sales),
         growth(cur.member_sales, ly.member_sales, no_ly_m), "%"),
        ("member_sales_mom", _("会员销售额环比增长率"), _("(本期会员销售额 − 上期) / 上期"),
         _pair(cur.member_sales, p.member_sales, prev),
         growth(cur.member_sales, prev and p.member_sales, no_prev_m), "%"),
        ("member_ticket", _("会员销售客单价(元)"), _("会员销售额 / 会员客单数"),
         f"{yuan_text(cur.member_sales)} / {cur.member_tickets}",
         ratio(Fraction(cur.member_sales, 100), cur.member_tickets, _("本期没有会员客单")), "yuan"),
        ("member_ticket_yoy", _("会员客单价同比增长率"), _("(本期会员客单价 − 去年同期) / 去年同期"),
         _pair(cur.member_ticket, ly.member_ticket),
         _ticket_growth(cur, ly, _("去年同期没有会员客单")), "%"),
        ("member_ticket_mom", _("会员客单价环比增长率"), _("(本期会员客单价 − 上期) / 上期"),
         _pair(cur.member_ticket, p.member_ticket, prev),
         _ticket_growth(cur, prev, _("上月没有会员客单") if prev_period else no_prev), "%"),
        ("member_tickets_share", _("会员客单数占比"), _("会员客单数 / 总客单数"),
         f"{cur.member_tickets} / {cur.tickets}",
         share(cur.member_tickets, cur.tickets, _("本期没有客单")), "%"),
        ("member_tickets_yoy", _("会员客单数同比增长率"), _("(本期会员客单数 − 去年同期) / 去年同期"),
         f"{cur.member_tickets} / {ly.member_tickets}",
         growth(cur.member_tickets, ly.member_tickets, _("去年同期没有会员客单")), "%"),
        ("member_tickets_mom", _("会员客单数环比增长率"), _("(本期会员客单数 − 上期) / 上期"),
         f"{cur.member_tickets} / {p.member_tickets if prev else DASH}",
         growth(cur.member_tickets, prev and p.member_tickets,
                _("上月没有会员客单") if prev_period else no_prev), "%"),
        ("frequency", _("会员消费频率"), _("会员客单数 / 消费会员数"),
         f"{cur.member_tickets} / {buyers}", ratio(cur.member_tickets, buyers, _("本期没有消费会员")),
         "ratio"),
        ("attach_rate", _("会员连带销售率"), _("会员购买商品数量 / 会员客单数"),
         f"{cur.member_items} / {cur.member_tickets}",
         ratio(cur.member_items, cur.member_tickets, _("本期没有会员客单")), "ratio"),
    ]
    figures = [Figure(str(i), key, label, formula, inputs, res[0], unit, res[1])
               for i, (key, label, formula, inputs, res, unit) in enumerate(rows, start=1)]
    inputs = _power_inputs(cur, ly, prev, buyers, goal)
    growth_keys = ("sales_yoy", "sales_mom", "member_sales_yoy", "member_sales_mom",
                   "member_ticket_yoy", "member_ticket_mom", "member_tickets_yoy",
                   "member_tickets_mom")
    shown = [f for f in figures if f.unit == "%" and f.key not in growth_keys]
    shown += [f for f in figures if f.key in growth_keys]
    chart = Chart(_("会员消费力指标(%)"), [f.label for f in shown], [f.value for f in shown])
    return Report("spending-power", _title("spending-power"), scope, period, figures, inputs, chart)


def _pair(cur, other, present=True) -> str:
    """'current / comparison' in yuan, for the data column of a growth rate."""
    return f"{yuan_text(cur)} / {yuan_text(other)}" if present else DASH


def _ticket_growth(cur: Totals, other: Totals | None, reason: str):
    if other is None or other.member_ticket is None or cur.member_ticket is None:
        return None, reason
    return growth(cur.member_ticket, other.member_ticket, reason)


def _power_inputs(cur: Totals, ly: Totals, prev: Totals | None, buyers: int, goal) -> list:
    out = [(_("销售额(元)"), _yuan(cur.sales), "yuan"),
           (_("会员销售额(元)"), _yuan(cur.member_sales), "yuan"),
           (_("会员客单数"), cur.member_tickets, "count"), (_("总客单数"), cur.tickets, "count"),
           (_("消费会员数"), buyers, "count"), (_("会员购买商品数量"), cur.member_items, "count"),
           (_("目标销售额(元)"), _yuan(goal), "yuan"),
           (_("去年同期销售额(元)"), _yuan(ly.sales), "yuan"),
           (_("去年同期会员销售额(元)"), _yuan(ly.member_sales), "yuan"),
           (_("去年同期会员客单价(元)"), _yuan(ly.member_ticket), "yuan"),
           (_("去年同期会员客单数"), ly.member_tickets, "count")]
    if prev is not None:
        out += [(_("上期销售额(元)"), _yuan(prev.sales), "yuan"),
                (_("上期会员销售额(元)"), _yuan(prev.member_sales), "yuan"),
                (_("上期会员客单价(元)"), _yuan(prev.member_ticket), "yuan"),
                (_("上期会员客单数"), prev.member_tickets, "count")]
    return out


def _yuan(fen: int | Fraction | None) -> Decimal | None:
    """Fen as a yuan Decimal rounded to the fen (an input value; shown by show())."""
    return None if fen is None else _round(Fraction(fen) / 100, "0.01")


# ------------------------------------------------------------------ 4.4 churn

class bit_or(FunctionElement):
    """The bitwise OR of a group's integers (PostgreSQL's aggregate); SQLite has none, and there
    the sum of the distinct values is the same for the powers of two it is used with."""

    type = BigInteger()
    inherit_cache = True


@compiles(bit_or)
def _bit_or(element, compiler, **kw):
    return f"bit_or({compiler.process(element.clauses, **kw)})"


@compiles(bit_or, "sqlite")
def _bit_or_sqlite(element, compiler, **kw):
    return f"sum(DISTINCT {compiler.process(element.clauses, **kw)})"


def lapsed_series(scope: Scope, ends: list[int], lapse: int) -> list[dict]:
    """Per month end: valid members, members who could have lapsed, and the lapsed among them.

    One set-based query whatever the number of month ends: the scope's members, each LEFT JOINed to
    the months they bought in (one integer per member, bit k set = a ticket in the k-th month of
    the span, from the member roll-up), counted per month end. A member who could have lapsed
    (valid, joined before the window) and whose bits miss the window has lapsed. `ends` are
    consecutive months. The statement is built once per scope level and number of month ends (the
    monthly pack runs it for every store): only its parameters change.
    """
    params = {"scope_id": scope.id} | _lapsed_params(ends, lapse)
    row = _execute_prepared(("lapsed", scope.kind, len(ends)),
                            lambda: _lapsed_statement(scope.kind, len(ends)), params).one()
    return _series_from_row(ends, row)


def _lapsed_params(ends: list[int], lapse: int) -> dict:
    """lapsed_series' parameters but the scope: the span of months read, each month end's day,
    its window's first day and its window as bits."""
    def window_start(ym):
        return add_ym(ym, -(lapse - 1))

    def month_no(ym):  # months since year 0: consecutive months differ by one
        return ym // 100 * 12 + ym % 100

    assert all(add_ym(a, 1) == b for a, b in zip(ends, ends[1:])), ends
    span_start = window_start(ends[0])
    params = {"span_start": span_start, "span_end": ends[-1],
              "span_no": month_no(span_start), "first": month_end(ends[0]),
              "last": month_end(ends[-1])}
    for i, ym in enumerate(ends):
        start = window_start(ym)
        params |= {f"day{i}": month_end(ym), f"joined{i}": date(start // 100, start % 100, 1),
                   f"window{i}": ((1 << lapse) - 1) << i}
    return params


def _series_from_row(ends: list[int], row) -> list[dict]:
    """lapsed_series' result from its query's row: (valid, lapsed) per month end."""
    return [{"ym": ym, "members": int(row[2 * i] or 0), "lapsed": int(row[2 * i + 1] or 0)}
            for i, ym in enumerate(ends)]


def _lapsed_statement(kind: str, count: int):
    """lapsed_series' query for a scope level and a number of month ends, with bound parameters."""
    in_scope = _scope_condition(kind)
    mm = MemberMonth
    bought = (select(mm.member_id.label("member_id"), _months_bought())
              .where(*_bought_in_span(in_scope(mm.store_id)))
              .group_by(mm.member_id).cte("bought").prefix_with("MATERIALIZED"))
    # a member valid at none of the month ends counts nowhere: left out before the counting
    return (select(*_lapsed_columns(bought.c.mask, count)).select_from(Member)
            .outerjoin(bought, bought.c.member_id == Member.id)
            .where(in_scope(Member.store_id),
                   _valid_between(_param("first", db.Date), _param("last", db.Date))))


def _months_bought():
    """A member's months with a ticket in the span as bits (bit k: the span's k-th month)."""
    return bit_or(_month_bit()).label("mask")


def _month_bit():
    """A member_month row's month as a bit: 1 << (its month's number in the span)."""
    mm = MemberMonth
    return literal(1, BigInteger).op("<<")(mm.ym // 100 * 12 + mm.ym % 100 - _param("span_no"))


def _bought_in_span(*also) -> tuple:
    """member_month rows in the churn's span with a ticket (and `also`)."""
    mm = MemberMonth
    return (mm.ym.between(_param("span_start"), _param("span_end")), *also, mm.tickets > 0)


def _lapsed_columns(mask, count: int, members: bool = True) -> list:
    """Per month end: the valid members (unless not `members`), and those of them who joined
    before the window and whose months bought in (`mask`, NULL for none) miss it."""
    mask = func.coalesce(mask, 0)
    cols = []
    for i in range(count):
        valid = _valid(_param(f"day{i}", db.Date))
        missed = mask.op("&")(_param(f"window{i}", BigInteger)) == 0
        joined_before = Member.applied_on < _param(f"joined{i}", db.Date)
        if members:
            cols += [func.count().filter(valid), func.count().filter(and_(valid, joined_before, missed))]
        else:  # the pack's hundred-odd counts: the test that fails most often first
            cols += [func.count().filter(and_(missed, joined_before, valid))]
    return cols


def lapse_months() -> int:
    lapse = settings.get_int("analysis_lapse_months")
    if lapse < 1:
        raise ValueError(_("流失判定月数必须至少为1"))
    if lapse > 36:  # the months bought in are bits of one 64-bit integer (lapsed_series)
        raise ValueError(_("流失判定月数不能超过36"))
    return lapse


def _churn_ends(period: Period) -> list[int]:
    """The month ends 4.4 counts at: the period's last month and the twelve before it."""
    return [add_ym(period.last_ym, -i) for i in range(12, -1, -1)]


def churn(scope: Scope, period: Period) -> Report:
    """4.4 会员流失分析: monthly churn count and rate (12 months shown, the period's figures first)."""
    lapse = lapse_months()
    return _churn_report(scope, period, lapse, lapsed_series(scope, _churn_ends(period), lapse))


def _churn_report(scope: Scope, period: Period, lapse: int, series: list[dict]) -> Report:
    """4.4's report from lapsed_series' counts at _churn_ends(period)."""
    trend = []
    for before, now in zip(series, series[1:]):
        count = now["lapsed"] - before["lapsed"]
        rate, reason = share(count, now["members"], _("没有有效会员"))
        trend.append({"month": f"{now['ym'] // 100}-{now['ym'] % 100:02d}",
                      "members": now["members"], "lapsed_start": before["lapsed"],
                      "lapsed_end": now["lapsed"], "churn": count, "rate": rate, "reason": reason})
    start = series[0] if period.month is None else series[-2]
    end = series[-1]
    count = end["lapsed"] - start["lapsed"]
    rate, reason = share(count, end["members"], _("没有有效会员"))
    unit = _("月") if period.month else _("年")
    figures = [
        Figure("1", "churn", _("%(u)s会员流失数", u=unit), _("期末流失会员数 − 期初流失会员数"),
               f"{end['lapsed']} − {start['lapsed']}", Decimal(count), "count"),
        Figure("2", "churn_rate", _("%(u)s会员流失率", u=unit), _("会员流失数 / 期末有效会员总数"),
               f"{count} / {end['members']}", rate, "%", reason)]
    inputs = [(_("期末有效会员总数"), end["members"], "count"),
              (_("期末流失会员总数(%(n)s个月以上未消费)", n=lapse), end["lapsed"], "count"),
              (_("期初流失会员总数"), start["lapsed"], "count")]
    chart = Chart(_("近12个月会员流失率"), [row["month"] for row in trend],
                  [row["rate"] for row in trend], "%", "line")
    return Report("churn", _title("churn"), scope, period, figures, inputs, chart, trend=trend)


RUNNERS = {"consumption": consumption, "demographics": demographics,
           "spending-power": spending_power, "churn": churn}


# ------------------------------------------------------------------ every scope at once

LEVELS = ("company", "area", "store")


def level_reports(scopes: list[Scope], period: Period) -> dict[str, dict[str, Report]]:
    """The four analyses for many scopes (the monthly pack's company, areas and stores): by scope
    code, the same reports RUNNERS gives scope by scope.

    4.1, 4.2 and 4.4 count members, and a member counts in the scopes of their home store, for
    the sales made in that scope: one pass over the roll-up (_pack_member_statement) gives each
    member's spend and months bought in their home store, their home area and anywhere, and
    counts them per home store for each of the three; an area's counts are the sum of its stores'
    (every member has one home store), the company's the sum of all. 4.3 reads the store roll-up:
    one grouped query per level (GROUP BY the area or the store). The rows go through the same
    report code as a single scope's. At 1 M members: 17–34 s, where the 221 scopes one by one
    took 103 s in the same run (bench/bench_analyses.py --pack-only --per-scope; README).
    """
    spend, ages, lapse = spend_edges(), age_edges(), lapse_months()
    ends = _churn_ends(period)
    jit = _jit(False)
    members = _pack_member_rows(period, spend, ages, ends, lapse)
    power = {level: _level_power_rows(level, period) for level in ("area", "store")
             if any(scope.kind == level for scope in scopes)}
    company = {scope.code: _power_data(scope, period) for scope in scopes if scope.kind == "company"}
    _jit(jit)
    out = {}
    with kept():  # the same labels 221 times
        for scope in scopes:
            consumption_row, demographics_row, series_row = members(scope)
            data = company.get(scope.code) or _power_from_row(period, power[scope.kind](scope.id))
            out[scope.code] = {
                "consumption": _consumption_report(scope, period, spend, consumption_row),
                "demographics": _demographics_report(scope, period, ages, demographics_row),
                "spending-power": _spending_power_report(scope, period, data),
                "churn": _churn_report(scope, period, lapse, _series_from_row(ends, series_row))}
    return out


def _jit(on):
    """PostgreSQL's JIT compiler on or off for the rest of the transaction; returns the value
    before (None elsewhere, and None leaves it as it is). The pack's one-pass statement has a
    hundred-odd aggregates, and compiling them cost more than it saved: at 200 k members on the
    loaded bench machine the statement took 12.6–13.4 s with JIT, 7.2–8.0 s without, the
    company's churn 4.0 s against 2.7–3.6 s."""
    conn = db.session.connection()
    if conn.dialect.name != "postgresql" or on is None:
        return None
    before = conn.exec_driver_sql("SHOW jit").scalar() == "on"
    conn.exec_driver_sql(f"SET LOCAL jit = {'on' if on else 'off'}")
    return before


def _pack_member_rows(period: Period, spend: list[int], ages: list[int], ends: list[int], lapse: int):
    """4.1's, 4.2's and lapsed_series' rows (as their single-scope statements give them) for any
    scope, from _pack_member_statement's rows per home store."""
    day = period.last_day
    params = _lapsed_params(ends, lapse) | {
        "from": period.first_ym, "to": period.last_ym, "day": day, "year": day.year,
        "md": day.month * 100 + day.day}
    params |= {f"s{i}": e * 100 for i, e in enumerate(spend)} | {f"a{i}": e for i, e in enumerate(ages)}
    assert params["span_start"] <= period.first_ym and period.last_ym <= params["span_end"]
    widths = (1 + len(spend) + 1 + 1, 4 + len(ages) + 1, len(ends))
    block = sum(widths)
    rows = _execute_prepared(("pack-members", len(spend), len(ages), len(ends)),
                             lambda: _pack_member_statement(len(spend), len(ages), len(ends)),
                             params).all()
    area_of = dict(db.session.execute(select(Store.id, Store.area_id)).all())

    shared = 1 + len(LEVELS) * block  # the valid members per month end, then on `day`

    def counts(scope: Scope) -> list[int]:
        """The level's block, then the shared counts, summed over the scope's home stores."""
        at = 1 + LEVELS.index(scope.kind) * block
        picked = [row for row in rows if scope.kind == "company"
                  or (scope.kind == "area" and area_of.get(row[0]) == scope.id)
                  or (scope.kind == "store" and row[0] == scope.id)]
        return [sum(int(row[i] or 0) for row in picked)
                for i in (*range(at, at + block), *range(shared, shared + len(ends) + 1))]

    def split(scope: Scope):
        found = counts(scope)
        cut, end = widths[0], widths[0] + widths[1]
        lapsed, valid = found[end:block], found[block:block + len(ends)]
        series = tuple(n for pair in zip(valid, lapsed) for n in pair)
        return tuple(found[:cut]) + (found[-1],), tuple(found[cut:end]), series
    return split


def _pack_member_statement(spend_count: int, age_count: int, ends_count: int):
    """Per home store, for the company, the home area and the home store in turn: 4.1's counts
    (spend edges `s0`… in fen), 4.2's (age edges `a0`…) and lapsed_series' lapsed members (the
    span's parameters); then the valid members at each month end and on `day`. One pass over the
    member roll-up in the churn's span (which holds the period): each member's spend in the
    period and months bought, in each of the three."""
    mm = MemberMonth
    home = Member.__table__.alias("home")
    sale_store, home_store = Store.__table__.alias("sale_store"), Store.__table__.alias("home_store")
    inside = {"company": None, "area": sale_store.c.area_id == home_store.c.area_id,
              "store": mm.store_id == home.c.store_id}
    in_period = mm.ym.between(_param("from"), _param("to"))
    columns = []
    for level in LEVELS:
        where = [c for c in (inside[level],) if c is not None]
        columns += [func.sum(mm.amount_fen).filter(and_(in_period, *where)).label(f"spend_{level}"),
                    bit_or(_month_bit()).filter(and_(mm.tickets > 0, *where)).label(f"mask_{level}")]
    each = (select(mm.member_id.label("member_id"), *columns)
            .select_from(mm.__table__.join(home, home.c.id == mm.member_id)
                         .join(sale_store, sale_store.c.id == mm.store_id)
                         .join(home_store, home_store.c.id == home.c.store_id))
            .where(mm.ym.between(_param("span_start"), _param("span_end")))
            .group_by(mm.member_id).cte("each_member").prefix_with("MATERIALIZED"))
    counted = []
    for level in LEVELS:
        spend = each.c[f"spend_{level}"]
        consuming = spend > 0
        counted += [*_consumption_columns(spend, "s", spend_count, consuming),
                    *_demographics_columns("a", age_count, consuming),
                    *_lapsed_columns(each.c[f"mask_{level}"], ends_count, members=False)]
    counted += [func.count().filter(_valid(_param(f"day{i}", db.Date))) for i in range(ends_count)]
    # a member valid at no month end who bought nothing counts nowhere: left out before the counting
    counts_somewhere = or_(_valid_between(_param("first", db.Date), _param("last", db.Date)),
                           *[each.c[f"spend_{level}"] > 0 for level in LEVELS])
    return (select(Member.store_id, *counted, func.count().filter(_valid(_param("day", db.Date))))
            .select_from(Member.__table__.outerjoin(each, each.c.member_id == Member.id))
            .where(counts_somewhere)
            .group_by(Member.store_id))


def _keyed(level: str, table, store_column):
    """A table with each row's scope id at `level` ("store" or "area"): (FROM clause, key).
    At area level the key is the store's area, by a join on the store table."""
    if level == "store":
        return table, store_column
    stores = Store.__table__.alias()
    return table.join(stores, stores.c.id == store_column), stores.c.area_id


def _rows_by_key(statement_key: tuple, build, params: dict, width: int):
    """Run a grouped statement (its first column the scope id) and look its rows up by scope id;
    a scope without a row gets `width` NULLs (what the single-scope aggregate gives: a count's
    NULL reads as 0 everywhere)."""
    rows = {row[0]: tuple(row[1:]) for row in _execute_prepared(statement_key, build, params)}
    empty = (None,) * width
    return lambda scope_id: rows.get(scope_id, empty)


def _level_power_rows(level: str, period: Period):
    """4.3's rows (as _power_statement's) for every scope of a level."""
    periods = _power_periods(period)
    params = _power_params(periods)
    n = len(periods)
    totals = _rows_by_key(("level-power", level, n), lambda: _level_power_statements(level, n)[0],
                          params, 6 * n)
    buyers = _rows_by_key(("level-buyers", level, n), lambda: _level_power_statements(level, n)[1],
                          params, 1)
    goals = _rows_by_key(("level-goal", level, n), lambda: _level_power_statements(level, n)[2],
                         params, 2)
    stores = _rows_by_key(("level-stores", level), lambda: _level_power_statements(level, n)[3],
                          {}, 1)
    return lambda scope_id: (totals(scope_id) + buyers(scope_id) + goals(scope_id)
                             + stores(scope_id))


def _level_power_statements(level: str, count: int) -> tuple:
    """Per scope: the store roll-up's totals per period; the consuming members; the target's
    sum and rows; the stores."""
    sm, mm, st = StoreMonth, MemberMonth, SalesTarget
    ranges = _power_ranges(count)
    months, key = _keyed(level, StoreMonth.__table__, sm.store_id)
    totals = (select(key, *_power_columns(ranges)).select_from(months)
              .where(or_(*[sm.ym.between(first, last) for first, last in ranges])).group_by(key))
    sales, sale_key = _keyed(level, MemberMonth.__table__, mm.store_id)
    bought = (select(sale_key.label("key")).select_from(sales).where(mm.ym.between(*ranges[0]))
              .group_by(mm.member_id, sale_key).having(func.sum(mm.tickets) > 0).subquery())
    buyers = select(bought.c.key, func.count()).group_by(bought.c.key)
    targets, target_key = _keyed(level, SalesTarget.__table__, st.store_id)
    goal = (select(target_key, func.sum(st.amount_fen), func.count()).select_from(targets)
            .where(st.ym.between(*ranges[0])).group_by(target_key))
    store_key = Store.id if level == "store" else Store.area_id
    stores = select(store_key, func.count()).group_by(store_key)
    return totals, buyers, goal, stores


def run(*, user: User, kind: str, scope: str, period: str) -> Report:
    """Parse and check the scope and period for this user, then compute one analysis."""
    if kind not in RUNNERS:
        raise ValueError(_("没有这种分析"))
    return RUNNERS[kind](parse_scope(user, scope), parse_period(period))
