"""Periods are picked, not typed: a month picker and a year list; the server still checks them."""
import re


def test_analysis_page_offers_a_month_picker_and_a_year_list(org, login):
    client = login("hq")
    html = client.get("/analyses/churn?scope=company&period=2026-10").data.decode()
    assert re.search(r'<input type="month" name="period" value="2026-10"', html)
    year_list = html.split('id="by-year"')[1].split("</form>")[0]
    assert '<select name="period">' in year_list and '<option value="2026"' in year_list
    html = client.get("/analyses/churn?scope=company&period=2019").data.decode()
    assert '<option value="2019" selected' in html
    bad = client.get("/analyses/churn?scope=company&period=2026-13")
    assert bad.status_code == 400 and 'class="flash error"' in bad.data.decode()


def test_target_month_is_a_month_picker(org, login):
    html = login("manager1").get("/sales/targets?year=2026").data.decode()
    assert re.search(r'<input[^>]*type="month"[^>]*name="month"|<input[^>]*name="month"[^>]*type="month"', html)


def test_the_period_pattern_allows_exactly_the_years_users_may_type():
    from webapp.calendar import YEARS
    from webapp.services.analyses import PERIOD_PATTERN

    assert all(re.fullmatch(PERIOD_PATTERN, f"{y}") and re.fullmatch(PERIOD_PATTERN, f"{y}-12")
               for y in YEARS)
    assert not any(re.fullmatch(PERIOD_PATTERN, p) for p in ("1999", "2101-01", "2026-00", "2026-1"))
