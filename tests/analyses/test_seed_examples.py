"""Every worked example of seed 004 §5, reproduced from members and sales loaded through the import
or the till API (never by calling a formula with the totals).

Results show one decimal, as SPEC §4 asks ("20.0%", "42.9%"; the seed prints "20%"); money with
thousands separators ("400.00", "167,079.00").
Where the seed rounded before dividing, the formula's own result is asserted and the seed's print
is noted beside it (see README, "Analyses: where the seed's arithmetic differs").
"""
from decimal import Decimal

from tests.sales.builders import bulk_members, import_sales, post_sales, sale
from webapp.services import analyses, sales


def _report(user, kind, scope, period):
    return analyses.run(user=user, kind=kind, scope=scope, period=period)


def _figures(report):
    return {f.key: (f.value, f.display) for f in report.figures}


def _yuan(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"


def test_4_1_consumption_level(org):
    """10,000 members, 2,000 consumed; bands 100 / 1,200 / 300 / 300 / 100."""
    store = org.stores[0]
    members = bulk_members(store, 10_000)
    spends = ["50"] * 100 + ["150"] * 1200 + ["400"] * 300 + ["700"] * 300 + ["1500"] * 100
    rows = [sale("S1", f"L{i}", "2026-10-12 15:00", amount, card=members[i]["card_no"])
            for i, amount in enumerate(spends)]
    import_sales(org["hq"], rows)
    figures = _figures(_report(org["hq"], "consumption", f"store:{store.id}", "2026-10"))
    assert figures["consuming_share"] == (Decimal("20.0"), "20.0%")  # 消费占比 = 2000/10000 = 20%
    assert [figures[f"band_{i}"] for i in range(1, 6)] == [
        (Decimal("5.0"), "5.0%"), (Decimal("60.0"), "60.0%"), (Decimal("15.0"), "15.0%"),
        (Decimal("15.0"), "15.0%"),  # 500—1000元: the seed lists no line for it; 300/2000 = 15%
        (Decimal("5.0"), "5.0%")]


def test_4_2_gender_and_age(org, client):
    """1,000 consuming members: 900 male, 100 female; 200 / 500 / 200 / 100 by age band."""
    store = org.stores[0]
    men = bulk_members(store, 900, gender="M")
    women = bulk_members(store, 100, gender="F")
    people = men + women
    # age = 2026 − birth year: 16, 26, 36, 46
    years = [2010] * 200 + [2000] * 500 + [1990] * 200 + [1980] * 100
    from sqlalchemy import update

    from webapp.extensions import db
    from webapp.models import Member
    for person, year in zip(people, years):
        db.session.execute(update(Member).where(Member.id == person["id"]).values(birth_year=year))
    db.session.commit()
    secret = sales.create_token(actor=org["admin"], store=store, name="till")[1]
    post_sales(client, secret, [
        {"sale_no": f"G{i}", "sold_at": "2026-10-03T11:00:00+08:00", "amount": "299.00",
         "items": 1, "member_mobile": p["mobile"]} for i, p in enumerate(people)])
    figures = _figures(_report(org["hq"], "demographics", f"store:{store.id}", "2026-10"))
    assert figures["male"] == (Decimal("90.0"), "90.0%")  # 男性消费会员占比 = 900/1000 = 90%
    assert figures["female"] == (Decimal("10.0"), "10.0%")
    assert [figures[f"age_{i}"] for i in range(1, 5)] == [
        (Decimal("20.0"), "20.0%"), (Decimal("50.0"), "50.0%"), (Decimal("20.0"), "20.0%"),
        (Decimal("10.0"), "10.0%")]


def _tickets(prefix, day, total_fen, count, members, items=None):
    """`count` member tickets summing exactly to total_fen (the last one takes the remainder)."""
    each = total_fen // count
    amounts = [each] * (count - 1) + [total_fen - each * (count - 1)]
    return [sale("S1", f"{prefix}{i}", day, _yuan(fen), (items or [1] * count)[i],
                 card=members[i % len(members)]["card_no"]) for i, fen in enumerate(amounts)]


def _walk_ins(prefix, day, n, yuan):
    return [sale("S1", f"{prefix}{i}", day, yuan) for i in range(n)]


def test_4_3_spending_power(org):
    """Store, October: sales 50万 (member 40万), tickets 1,500 (member 1,000), 800 consuming members,
    1,350 items; last October 40万/30万 with 937 member tickets; September 35万/25万 with 714;
    target 48万."""
    store = org.stores[0]
    members = bulk_members(store, 800)
    october = [sale("S1", f"O{i}", "2026-10-15 16:00", "400", 2 if i < 350 else 1,
                    card=members[i if i < 600 else 600 + (i - 600) // 2]["card_no"])
               for i in range(1000)]
    rows = (october + _walk_ins("ON", "2026-10-16 12:00", 500, "200")
            + _tickets("LY", "2025-10-10 12:00", 30_000_000, 937, members)
            + _walk_ins("LYN", "2025-10-11 12:00", 250, "400")
            + _tickets("SE", "2026-09-10 12:00", 25_000_000, 714, members)
            + _walk_ins("SEN", "2026-09-11 12:00", 250, "400"))
    import_sales(org["hq"], rows)
    sales.set_target(actor=org["manager1"], store=store, ym=202610, amount="480000")
    figures = _figures(_report(org["hq"], "spending-power", f"store:{store.id}", "2026-10"))
    assert figures["completion"] == (Decimal("104.2"), "104.2%")  # seed prints 50/48 = 104%
    assert figures["sales_yoy"] == (Decimal("25.0"), "25.0%")
    assert figures["sales_mom"] == (Decimal("42.9"), "42.9%")
    assert figures["member_sales_share"] == (Decimal("80.0"), "80.0%")
    assert figures["member_sales_yoy"] == (Decimal("33.3"), "33.3%")
    assert figures["member_sales_mom"] == (Decimal("60.0"), "60.0%")
    assert figures["member_ticket"] == (Decimal("400.00"), "400.00")  # 40万/1000 = 400元
    # Seed: (400-320)/320 = 25%. Its inputs give last October's member ticket as
    # 300,000/937 = 320.17 yuan, and the formula on that gives 24.9 %.
    assert figures["member_ticket_yoy"] == (Decimal("24.9"), "24.9%")
    # Seed: (400-350)/350 = 14.3%. September's ticket is 250,000/714 = 350.14: 14.2 %.
    assert figures["member_ticket_mom"] == (Decimal("14.2"), "14.2%")
    assert figures["member_tickets_share"] == (Decimal("66.7"), "66.7%")
    assert figures["member_tickets_yoy"] == (Decimal("6.7"), "6.7%")
    assert figures["member_tickets_mom"] == (Decimal("40.1"), "40.1%")
    assert figures["frequency"] == (Decimal("1.25"), "1.25")
    assert figures["attach_rate"] == (Decimal("1.35"), "1.35")


def test_4_4_churn(org, client):
    """1,000 members at the end of July; 80 lapsed (3 months without a purchase) at the end of
    July, 70 at the end of June → churn 10, rate 1%."""
    store = org.stores[0]
    members = bulk_members(store, 1000)
    last_buy = ["2026-02-10"] * 70 + ["2026-04-10"] * 10 + ["2026-06-10"] * 920
    secret = sales.create_token(actor=org["admin"], store=store, name="till")[1]
    post_sales(client, secret, [
        {"sale_no": f"C{i}", "sold_at": f"{day}T10:00:00+08:00", "amount": "100", "items": 1,
         "member_card": m["card_no"]} for i, (m, day) in enumerate(zip(members, last_buy))])
    report = _report(org["hq"], "churn", f"store:{store.id}", "2026-07")
    figures = _figures(report)
    assert figures["churn"] == (Decimal(10), "10")  # 月会员流失数 = 80 − 70 = 10
    assert figures["churn_rate"] == (Decimal("1.0"), "1.0%")  # 月会员流失率 = 10/1000 = 1%
    july = report.trend[-1]
    assert (july["members"], july["lapsed_end"], july["lapsed_start"]) == (1000, 80, 70)
