"""The daily shop-floor sheet fills each call script with its case's own values (the day-3
call's sale date), as the case page does; before, a script naming a case value could not be
filled."""
from tests.workflows.test_weekly_routine import local, members  # noqa: F401
from webapp.services import aftersale, routine


def test_the_day_3_call_on_the_sheet_names_the_sale_day(org, members):  # noqa: F811
    assert aftersale.start_due_calls(now=local(12, 9)) == 1  # member 0 bought on 10 Nov
    sheet = routine.daily_sheet(actor=org["assoc1"], now=local(12, 10))
    [row] = [r for r in sheet["tasks"] if r["member"].id == members[0].id]
    assert "您在11月10日在我们店里买的" in row["script"]
    assert len(sheet["profiles"]) == 2  # the setting's default, no plan this week
