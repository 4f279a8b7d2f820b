"""The month's pack computes each analysis once per level (one grouped query for all the areas,
one for all the stores) instead of once per scope: the figures must be exactly those of the
single-scope analyses the pages show, on a small company where members also buy at other stores
of their area and of the other area, return goods, lapse, expire (some long before the period,
and buy all the same) and join late."""
import random
from datetime import date, datetime, timezone

import pytest
import time_machine
from sqlalchemy import update

from tests.sales.builders import bulk_members, import_sales, sale
from webapp.extensions import db
from webapp.models import Member, SalesTarget
from webapp.services import analyses, monthly_pack

NOW = datetime(2026, 11, 2, 2, 0, tzinfo=timezone.utc)
MONTHS = [(2025, m) for m in range(8, 13)] + [(2026, m) for m in range(1, 11)]


@pytest.fixture
def company(org):
    """Four stores in two areas (S1, S2 | S3, S4); S4 has members but sells nothing."""
    rng = random.Random(17)
    members = []
    for i, store in enumerate(org.stores):
        members += [(store, m) for m in bulk_members(store, 12, gender="MF"[i % 2],
                                                     birth_year=1970 + 7 * i)]
    codes = {store.id: store.code for store in org.stores}
    area_of = {store.id: store.area_id for store in org.stores}
    selling = [s for s in org.stores if s.code != "S4"]
    lines, returns = [], []
    for n, (home, member) in enumerate(members):
        for year, month in MONTHS:
            if rng.random() < 0.45:
                continue
            where = rng.random()
            if where < 0.6 and home.code != "S4":
                store = home
            elif where < 0.85:  # another store of the member's area, or of the other area
                store = rng.choice([s for s in selling if area_of[s.id] == home.area_id and s != home]
                                   or selling)
            else:
                store = rng.choice([s for s in selling if area_of[s.id] != home.area_id])
            number = f"T{n}-{year}{month:02d}"
            amount = rng.choice(["45", "120", "260", "480", "900", "1500"])
            lines.append(sale(codes[store.id], number, f"{year}-{month:02d}-{rng.randint(1, 28):02d} 15:00",
                              amount, rng.randint(1, 4), card=member["card_no"]))
            if rng.random() < 0.08:  # returned whole: the month's net spend may be nothing
                returns.append(sale(codes[store.id], number + "R",
                                    f"{year}-{month:02d}-28 18:00", "-" + amount, -1,
                                    return_of=number))
    for year, month in MONTHS:  # walk-in customers
        for store in selling:
            lines.append(sale(store.code, f"W{store.code}-{year}{month:02d}",
                              f"{year}-{month:02d}-15 12:00", "300", 2))
    with time_machine.travel(NOW, tick=False):
        import_sales(org["hq"], lines)
        import_sales(org["hq"], returns)
        # birthdays around the month's end, no birth year, lapsed cards, expired, joined late
        for k, (_store, member) in enumerate(members):
            values = {"birth_month_day": [None, 1031, 1101, 215][k % 4]}
            if k % 9 == 0:
                values["birth_year"] = None
            if k % 7 == 1:
                values |= {"status": "lapsed", "card_expires_on": date(2026, 8, 31)}
            if k % 11 == 2:
                values["card_expires_on"] = date(2026, 10, 30)
            if k % 13 == 3:
                values["applied_on"] = date(2026, 9, 10)
            if k % 17 == 5:  # valid at none of the churn's month ends (some still buy)
                values |= {"status": "lapsed", "card_expires_on": date(2025, 6, 30)}
            db.session.execute(update(Member).where(Member.id == member["id"]).values(**values))
        for store in org.stores[:3]:  # S4 has no target: area 2's is partial
            db.session.add(SalesTarget(store_id=store.id, ym=202610, amount_fen=500_000))
        db.session.commit()
    return org


def _one_by_one(user, scopes, period):
    return {scope.code: {kind: runner(scope, period) for kind, runner in analyses.RUNNERS.items()}
            for scope in scopes}


def _json(reports):
    return {code: {kind: report.as_json() for kind, report in by_kind.items()}
            for code, by_kind in reports.items()}


def test_the_grouped_pack_gives_each_scope_figures(company):
    org = company
    with time_machine.travel(NOW, tick=False):
        grouped = monthly_pack.compute_all(user=org["hq"], period="2026-10")
        codes = ["company", *(f"area:{a.id}" for a in org.areas), *(f"store:{s.id}" for s in org.stores)]
        assert list(grouped) == codes
        for code in codes:
            assert grouped[code] == monthly_pack.compute(user=org["hq"], period="2026-10", scope=code), code
    # the data exercise what the grouped queries must keep apart
    s1, s4 = grouped[f"store:{org.stores[0].id}"], grouped[f"store:{org.stores[3].id}"]
    area1 = grouped[f"area:{org.areas[0].id}"]
    assert any({f["key"]: f for f in grouped[code]["consumption"]["figures"]}["consuming_share"]["value"]
               not in (None, "0.0", "100.0") for code in codes[3:])
    assert {f["key"]: f for f in s4["spending-power"]["figures"]}["sales_mom"]["value"] is None
    assert [i["value"] for i in area1["consumption"]["inputs"][:2]] != \
        [i["value"] for i in s1["consumption"]["inputs"][:2]]
    churn = {f["key"]: f for f in area1["churn"]["figures"]}
    assert churn["churn"]["inputs"] != "0 − 0"
    assert any(grouped[code]["demographics"]["notes"] for code in codes)  # without a birth year
    from sqlalchemy import func, select

    from webapp.models import Sale
    assert db.session.scalar(select(func.count()).where(Sale.amount_fen < 0)) > 5  # returns


def test_the_levels_agree_for_a_year_too(company):
    org = company
    with time_machine.travel(NOW, tick=False):
        scopes = monthly_pack.scopes(org["hq"])
        period = analyses.parse_period("2026")
        assert _json(analyses.level_reports(scopes, period)) == _json(_one_by_one(org["hq"], scopes, period))


def test_reviewing_files_the_grouped_figures(company):
    org = company
    with time_machine.travel(NOW, tick=False):
        assert monthly_pack.review(actor=org["hq"], period="2026-10") == 1
        store = f"store:{org.stores[1].id}"
        snapshot = monthly_pack.latest(period="2026-10", scope=store)
        assert snapshot.reports == monthly_pack.compute(user=org["hq"], period="2026-10", scope=store)
        assert monthly_pack.page(user=org["hq"], period="2026-10", scope=store)["changes"] == []


def test_only_the_company_may_compute_the_whole_pack(company):
    from webapp.permissions import OutOfScope

    with pytest.raises(OutOfScope):
        monthly_pack.compute_all(user=company["supervisor1"], period="2026-10")


def test_kept_labels_answer_as_say_does(app):
    """i18n_labels.kept: inside, say() answers the same message with the same values from what it
    kept; other values, or values that cannot be kept, are translated as usual."""
    from webapp.i18n_labels import kept, say

    with app.test_request_context(headers={"Accept-Language": "en"}):
        plain = [say("%(y)s年", y=2026), say("%(y)s年", y=2025), say("没有这种分析")]
        with kept():
            assert [say("%(y)s年", y=2026), say("%(y)s年", y=2025), say("没有这种分析")] == plain
            assert [say("%(y)s年", y=2026), say("%(y)s年", y=2025), say("没有这种分析")] == plain
            assert say("%(y)s年", y=[2026]) == say("%(y)s年", y=[2026])  # a list: not kept
    assert say("%(y)s年", y=2026) == "2026年"  # outside a request: the Chinese message
