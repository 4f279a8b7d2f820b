"""Display helpers."""
from datetime import datetime, timezone

from webapp.formatting import countdown, due_time, local_time, yuan


def test_times_show_in_shanghai():
    assert local_time(datetime(2026, 11, 23, 16, 30, tzinfo=timezone.utc)) == "2026-11-24 00:30"


def test_midnight_deadline_reads_as_end_of_previous_day():
    assert due_time(datetime(2026, 11, 24, 16, 0, tzinfo=timezone.utc)) == "2026-11-24 24:00"
    assert due_time(datetime(2026, 11, 24, 8, 0, tzinfo=timezone.utc)) == "2026-11-24 16:00"


def test_countdown_and_money():
    now = datetime(2026, 11, 23, 0, 0, tzinfo=timezone.utc)
    assert countdown(datetime(2026, 11, 23, 3, 20, tzinfo=timezone.utc), now) == "剩余 3小时20分"
    assert countdown(datetime(2026, 11, 21, 22, 0, tzinfo=timezone.utc), now) == "已超时 1天2小时"
    assert yuan(123456) == "1,234.56" and yuan(5) == "0.05"


def test_one_format_for_percentages_and_money():
    from decimal import Decimal
    from fractions import Fraction

    from webapp.formatting import percent

    assert percent(Decimal("20")) == "20.0%" and percent(Decimal("42.86")) == "42.9%"
    assert percent(Decimal("75.0")) == "75.0%" and percent(None) == "—"
    assert yuan(16707900) == "167,079.00" and yuan(-123456789) == "-1,234,567.89"
    assert yuan(Fraction(100000, 3)) == "333.33"  # an exact average ticket, rounded half up once


def test_pages_pdfs_and_the_compliance_table_use_them():
    from decimal import Decimal

    from webapp.services.analyses import Figure
    from webapp.services.complaint_stats import Row, table

    assert Figure("1", "k", "l", "f", "i", Decimal("20.0"), "%").display == "20.0%"
    assert Figure("7", "k", "l", "f", "i", Decimal("167079.00"), "yuan").display == "167,079.00"
    row = Row("1号店", 4, (3, 4), (0, 0), (1, 3))
    row.rates = {"reply": Decimal("75.0"), "solution": None, "revisit": Decimal("33.3")}
    assert table([row])[0][2:5] == ["75.0%", "—", "33.3%"]


def test_compliance_chart_tooltips_use_the_percent_format():
    from decimal import Decimal

    from webapp.charts import bar_chart

    svg = str(bar_chart(["1号店"], {"回复": [Decimal("75")]}))
    assert "<title>1号店 75.0%</title>" in svg
