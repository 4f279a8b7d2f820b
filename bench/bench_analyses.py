"""Benchmark the four member analyses at 1 M members / 10 M sales lines on PostgreSQL.

    .venv/bin/python bench/bench_analyses.py [--url postgresql://postgres@127.0.0.1:5432/bench_sales]
                                             [--members 1000000] [--sales 10000000] [--refill]
                                             [--pack | --pack-only [--per-scope]]

Fills the shared members-and-sales database once (`_common.fill_sales`, reused by
bench_expiry and bench_visits: schema by the real migrations; rows generated set-based in SQL
with generate_series, seeded, so a fill takes minutes; the roll-ups rebuilt from the sales by
webapp.services.sales.rebuild_rollups), then times each analysis as the app computes it (the
service, on the roll-ups) for a store-month, an area-month, a company-month and a company-year,
next to the same figures computed by ONE hand-written SQL query on the raw `sale` table, and checks
that both agree, printing the ratio app / hand. Targets: store-month ≤ 1 s, company-year ≤ 5 s,
every ratio ≤ 1.5×; with --pack, the month's whole pack (every analysis at every scope) ≤ 60 s.

The pack (`--pack-only`: only it) is timed twice as `monthly_pack.review` computes it, without
writing: `monthly_pack.compute_all` (the member analyses of all 221 scopes in one pass over the
member roll-up, spending power in one grouped query per level; `analyses.level_reports`) and the
flags. `--per-scope` also computes it scope by scope, as before (what a page does for its one
scope), timed per level and analysis, and checks that both give the same figures. Measured
(README, "Benchmarks", shared 2-core machine, 2026-11-30): at 1 M members 18.0 s and 17.1 s at
load average 2–2.6, 26.7 s and 28.2 s at load 3–3.6 (103.2 s scope by scope in the same run),
33.9 s and 34.2 s at load 4.5–4.9;
at 200 k members 5.7–8.2 s (20.1 s scope by scope) at load 4.4–4.8.

The bench data has no returns (every line is a sale), so "a purchase" is the same thing for the
roll-ups (tickets > 0 in a month) and the raw lines (a line in that month).
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import SALES_PG, DEFAULT_REDIS, ensure_database, ensure_sales, make_app  # noqa: E402

from sqlalchemy import text  # noqa: E402

DEFAULT_URL = SALES_PG


# ------------------------------------------------------------------ the hand-written SQL

def _stores_sql(scope) -> str:
    if scope.kind == "company":
        return "TRUE", "TRUE"
    if scope.kind == "area":
        inner = f"(SELECT id FROM store WHERE area_id = {scope.id})"
        return f"s.store_id IN {inner}", f"m.store_id IN {inner}"
    return f"s.store_id = {scope.id}", f"m.store_id = {scope.id}"


def hand_consumption(conn, scope, period, edges=(100, 300, 500, 1000)):
    sale_in, member_in = _stores_sql(scope)
    e = [x * 100 for x in edges]
    row = conn.execute(text(f"""
        WITH spend AS (
          SELECT s.member_id, SUM(s.amount_fen) AS fen FROM sale s JOIN member m ON m.id = s.member_id
          WHERE s.ym BETWEEN {period.first_ym} AND {period.last_ym} AND {sale_in} AND {member_in}
          GROUP BY s.member_id HAVING SUM(s.amount_fen) > 0)
        SELECT (SELECT count(*) FROM member m WHERE m.status IN ('active', 'lapsed')
                  AND m.card_expires_on >= :d AND m.applied_on <= :d AND {member_in}),
               count(*) FILTER (WHERE m.status IN ('active', 'lapsed') AND m.card_expires_on >= :d
                                  AND m.applied_on <= :d),
               count(*), count(*) FILTER (WHERE fen < {e[0]}),
               count(*) FILTER (WHERE fen >= {e[0]} AND fen < {e[1]}),
               count(*) FILTER (WHERE fen >= {e[1]} AND fen < {e[2]}),
               count(*) FILTER (WHERE fen >= {e[2]} AND fen < {e[3]}),
               count(*) FILTER (WHERE fen >= {e[3]})
        FROM spend JOIN member m ON m.id = spend.member_id"""), {"d": period.last_day}).one()
    # SPEC §4: the consuming share counts the consuming members among the valid ones
    total, valid_consuming, consuming, *bands = row
    return [_pct(valid_consuming, total)] + [_pct(b, consuming) for b in bands]


def hand_demographics(conn, scope, period, edges=(20, 30, 40)):
    sale_in, member_in = _stores_sql(scope)
    y = period.last_day.year
    row = conn.execute(text(f"""
        WITH spend AS (
          SELECT s.member_id FROM sale s JOIN member m ON m.id = s.member_id
          WHERE s.ym BETWEEN {period.first_ym} AND {period.last_ym} AND {sale_in} AND {member_in}
          GROUP BY s.member_id HAVING SUM(s.amount_fen) > 0)
        SELECT count(*), count(*) FILTER (WHERE m.gender = 'M'), count(*) FILTER (WHERE m.gender = 'F'),
               count(*) FILTER (WHERE {y} - m.birth_year < {edges[0]}),
               count(*) FILTER (WHERE {y} - m.birth_year >= {edges[0]} AND {y} - m.birth_year < {edges[1]}),
               count(*) FILTER (WHERE {y} - m.birth_year >= {edges[1]} AND {y} - m.birth_year < {edges[2]}),
               count(*) FILTER (WHERE {y} - m.birth_year >= {edges[2]})
        FROM spend JOIN member m ON m.id = spend.member_id""")).one()
    consuming, *parts = row
    return [_pct(p, consuming) for p in parts]


def hand_spending_power(conn, scope, period):
    """Current, last-year and previous-month totals plus consuming members, from raw lines."""
    sale_in, _member_in = _stores_sql(scope)
    ly, prev = period.last_year(), period.previous()
    prev_range = f"s.ym BETWEEN {prev.first_ym} AND {prev.last_ym}" if prev else "FALSE"
    cur, lyr = (f"s.ym BETWEEN {p.first_ym} AND {p.last_ym}" for p in (period, ly))
    row = conn.execute(text(f"""
        SELECT SUM(amount_fen) FILTER (WHERE {cur}), SUM(ticket_delta) FILTER (WHERE {cur}),
               SUM(amount_fen) FILTER (WHERE {cur} AND member_id IS NOT NULL),
               SUM(ticket_delta) FILTER (WHERE {cur} AND member_id IS NOT NULL),
               SUM(items) FILTER (WHERE {cur} AND member_id IS NOT NULL),
               COUNT(DISTINCT member_id) FILTER (WHERE {cur}),
               SUM(amount_fen) FILTER (WHERE {lyr}),
               SUM(amount_fen) FILTER (WHERE {lyr} AND member_id IS NOT NULL),
               SUM(ticket_delta) FILTER (WHERE {lyr} AND member_id IS NOT NULL),
               SUM(amount_fen) FILTER (WHERE {prev_range})
        FROM sale s WHERE {sale_in} AND (({cur}) OR ({lyr}) OR ({prev_range}))""")).one()
    sales_, tickets, msales, mtickets, mitems, buyers, ly_sales, ly_msales, ly_mtickets, prev_sales = (
        int(x or 0) for x in row)
    return [_growth(sales_, ly_sales), _growth(sales_, prev_sales) if prev else None,
            _pct(msales, sales_), _growth(msales, ly_msales), _pct(mtickets, tickets),
            _growth(mtickets, ly_mtickets), _ratio(mtickets, buyers), _ratio(mitems, mtickets)]


def hand_churn(conn, scope, period, lapse=3):
    """Lapsed members at the period's end and at its start (the month/year before), from raw lines."""
    from webapp.services.analyses import add_ym, month_end

    sale_in, member_in = _stores_sql(scope)
    end = period.last_ym
    start = add_ym(period.first_ym, -1)

    def eligible(ym):
        ws = add_ym(ym, -(lapse - 1))
        return (f"m.status IN ('active', 'lapsed') AND m.card_expires_on >= '{month_end(ym)}' "
                f"AND m.applied_on < '{ws // 100}-{ws % 100:02d}-01'", ws)

    (el_end, ws_end), (el_start, ws_start) = eligible(end), eligible(start)
    row = conn.execute(text(f"""
        WITH last AS (
          SELECT s.member_id, MAX(s.ym) FILTER (WHERE s.ym <= {end}) AS l_end,
                 MAX(s.ym) FILTER (WHERE s.ym <= {start}) AS l_start
          FROM sale s WHERE {sale_in} AND s.member_id IS NOT NULL AND s.ym BETWEEN {ws_start} AND {end}
          GROUP BY s.member_id)
        SELECT count(*) FILTER (WHERE m.status IN ('active', 'lapsed')
                                  AND m.card_expires_on >= '{month_end(end)}'
                                  AND m.applied_on <= '{month_end(end)}'),
               count(*) FILTER (WHERE {el_end} AND (l.l_end IS NULL OR l.l_end < {ws_end})),
               count(*) FILTER (WHERE {el_start} AND (l.l_start IS NULL OR l.l_start < {ws_start}))
        FROM member m LEFT JOIN last l ON l.member_id = m.id WHERE {member_in}""")).one()
    members, lapsed_end, lapsed_start = row
    return [lapsed_end - lapsed_start, _pct(lapsed_end - lapsed_start, members)]


def _pct(a, b):
    from fractions import Fraction

    from webapp.services.analyses import _round

    return None if not b else _round(Fraction(int(a or 0), int(b)) * 100, "0.1")


def _growth(cur, prev):
    return None if not prev else _pct(cur - prev, prev)


def _ratio(a, b):
    from fractions import Fraction

    from webapp.services.analyses import _round

    return None if not b else _round(Fraction(int(a), int(b)), "0.01")


HAND = {"consumption": hand_consumption, "demographics": hand_demographics,
        "spending-power": hand_spending_power, "churn": hand_churn}


def app_values(report) -> list:
    """The figures the hand-written query also computes, in its order."""
    keys = {"spending-power": ["sales_yoy", "sales_mom", "member_sales_share", "member_sales_yoy",
                               "member_tickets_share", "member_tickets_yoy", "frequency",
                               "attach_rate"]}.get(report.kind)
    figures = {f.key: f.value for f in report.figures}
    return [figures[k] for k in keys] if keys else [f.value for f in report.figures]


def timed(fn, repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def timed_pair(app_fn, hand_fn, repeat: int, rollback) -> tuple[float, object, float, object]:
    """Medians of the app and the hand-written query run in turn (a loaded machine's swings fall
    on both alike); quick cases are repeated until each side has had about a second, up to 25 runs."""
    app_times, hand_times, report, hand = [], [], None, None
    while len(app_times) < repeat or (sum(app_times) + sum(hand_times) < 2 and len(app_times) < 25):
        start = time.perf_counter()
        report = app_fn()
        app_times.append(time.perf_counter() - start)
        rollback()
        start = time.perf_counter()
        hand = hand_fn()
        hand_times.append(time.perf_counter() - start)
        rollback()
    return statistics.median(app_times), report, statistics.median(hand_times), hand


def run(app, repeat: int) -> list[dict]:
    from webapp.extensions import db
    from webapp.services import analyses
    from webapp.services.analyses import Period, Scope

    cases = [("store-month", Scope("store", 7, "门店7"), Period(2026, 10)),
             ("area-month", Scope("area", 3, "片区3"), Period(2026, 10)),
             ("company-month", Scope("company", None, "公司"), Period(2026, 10)),
             ("store-year", Scope("store", 7, "门店7"), Period(2026)),
             ("company-year", Scope("company", None, "公司"), Period(2026))]
    out = []
    with app.test_request_context():
        for label, scope, period in cases:
            for kind, runner in analyses.RUNNERS.items():
                t_app, report, t_sql, hand = timed_pair(
                    lambda: runner(scope, period),
                    lambda: HAND[kind](db.session.connection(), scope, period),
                    repeat, db.session.rollback)
                values = app_values(report)
                agree = values == hand
                out.append({"case": label, "kind": kind, "app_s": t_app, "sql_s": t_sql,
                            "agree": agree, "ratio": t_app / t_sql})
                print(f"{label:14} {kind:15} app {t_app:6.3f} s   hand SQL {t_sql:6.3f} s   "
                      f"ratio {t_app / t_sql:5.2f}×   "
                      f"{'same figures' if agree else 'DIFFER: ' + repr((values, hand))}", flush=True)
    return out


def _pack_user():
    """An HQ specialist, not stored: the pack's computation asks only the role (the bench data
    has no users)."""
    from webapp.models import Role, User

    return User(username="bench", display_name="bench", role=Role.HQ_SPECIALIST)


def run_pack(app, period_code: str = "2026-10", per_scope: bool = False) -> float:
    """The month's pack as review() prepares it, without writing the snapshots: every scope's
    four analyses (monthly_pack.compute_all: the member analyses of every scope in one pass,
    spending power one grouped query per level) and the flags, twice. With per_scope, also the
    way it was done before, scope by scope (what the pages do for one scope), timed per level
    and analysis, and checked to give the same figures."""
    from webapp.extensions import db
    from webapp.services import analyses, monthly_pack

    user = _pack_user()
    with app.test_request_context():
        runs = []
        for _run in range(2):  # the second run finds the roll-ups in the cache
            start = time.perf_counter()
            packed = monthly_pack.compute_all(user=user, period=period_code)
            for code, reports in packed.items():
                monthly_pack.flags(reports, scope=code)
            runs.append(time.perf_counter() - start)
            db.session.rollback()
        seconds = min(runs)
        print(f"month's pack: {len(packed)} scopes × {len(analyses.RUNNERS)} analyses in "
              + " s, ".join(f"{t:.1f}" for t in runs) + " s (two runs; target ≤ 60 s at 1 M members)",
              flush=True)
        if per_scope:
            period = analyses.parse_period(period_code)
            by: dict[tuple[str, str], float] = {}
            one_by_one = {}
            began = time.perf_counter()
            for scope in monthly_pack.scopes(user):
                one_by_one[scope.code] = {}
                for kind, runner in analyses.RUNNERS.items():
                    t = time.perf_counter()
                    one_by_one[scope.code][kind] = runner(scope, period).as_json()
                    by[scope.kind, kind] = by.get((scope.kind, kind), 0) + time.perf_counter() - t
            total = time.perf_counter() - began
            db.session.rollback()
            print(f"the same scope by scope: {total:.1f} s; " + "; ".join(
                f"{level} " + ", ".join(f"{kind} {t:.1f}" for (lv, kind), t in by.items() if lv == level)
                for level in ("company", "area", "store")) + " s; "
                + ("same figures" if one_by_one == packed else "FIGURES DIFFER"), flush=True)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=DEFAULT_URL)
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--sales", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--refill", action="store_true", help="rebuild the data even if present")
    parser.add_argument("--pack", action="store_true", help="also time the month's whole pack")
    parser.add_argument("--pack-only", action="store_true", help="time only the month's pack")
    parser.add_argument("--per-scope", action="store_true",
                        help="with the pack, also time it scope by scope (as before the grouped "
                             "queries) and check both give the same figures")
    parser.add_argument("--work-mem", default="", help="e.g. 64MB: SET work_mem for the timings")
    args = parser.parse_args()
    ensure_database(args.url)
    extra = {}
    if args.work_mem:
        extra["SQLALCHEMY_ENGINE_OPTIONS"] = {"connect_args": {"options": f"-c work_mem={args.work_mem}"}}
    app = make_app(args.url, DEFAULT_REDIS, **extra)
    from webapp.extensions import db

    ensure_sales(app, args.members, args.sales, refill=args.refill)
    with app.app_context():
        print("work_mem =", db.session.execute(text("SHOW work_mem")).scalar(),
              "| rows: member", db.session.execute(text("SELECT count(*) FROM member")).scalar(),
              "sale", db.session.execute(text("SELECT count(*) FROM sale")).scalar(),
              "member_month", db.session.execute(text("SELECT count(*) FROM member_month")).scalar())
    if args.pack_only:
        run_pack(app, per_scope=args.per_scope)
        return
    results = run(app, args.repeat)
    worst = {k: max(r["app_s"] for r in results if r["case"] == k) for k in ("store-month", "company-year")}
    print(f"\nslowest store-month analysis {worst['store-month']:.3f} s (target ≤ 1 s); "
          f"slowest company-year analysis {worst['company-year']:.3f} s (target ≤ 5 s); "
          f"all figures agree with the hand-written SQL: {all(r['agree'] for r in results)}")
    slowest = max(results, key=lambda r: r["ratio"])
    print(f"worst ratio to the hand-written SQL: {slowest['ratio']:.2f}× ({slowest['case']} "
          f"{slowest['kind']}; target ≤ 1.5×)")
    if args.pack:
        run_pack(app, per_scope=args.per_scope)


if __name__ == "__main__":
    main()
