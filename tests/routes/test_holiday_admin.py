"""Issue #9: entering a year's holidays — paste the notice, check the preview, save; the settings
page and the holiday page show which years are covered and by what (controlled clock)."""
from datetime import datetime

import pytest
import time_machine
from sqlalchemy import func, select

from webapp.calendar import TZ
from webapp.models import AuditEvent, CalendarDay
from webapp.extensions import db

# A notice for 2027 in the State Council's wording (the real one is not out in this test's world).
NOTICE_2027 = """国务院办公厅关于2027年部分节假日安排的通知
一、元旦：1月1日（周五）至3日（周日）放假，共3天。
二、春节：2月5日（农历除夕、周五）至12日（农历正月初七、周五）放假调休，共8天。2月20日（周六）上班。
三、国庆节：10月1日（周五）至7日（周四）放假调休，共7天。9月26日（周日）、10月9日（周六）上班。
"""


@pytest.fixture(autouse=True)
def today():
    with time_machine.travel(datetime(2026, 11, 29, 10, 0, tzinfo=TZ), tick=False):
        yield


def entered() -> int:
    return db.session.scalar(select(func.count(CalendarDay.id)))


def test_settings_page_shows_the_years_and_their_sources(org, login):
    page = login("admin").get("/admin/settings").get_data(as_text=True)
    assert "日历库 chinesecalendar" in page and 'id="year-2027"' in page
    assert "以下年份的节假日和调休上班日尚未录入" in page and "2027" in page
    assert "chinesecalendar 1.11.0 覆盖 2004—2026 年" in page
    assert "holidays 0.109 覆盖 2001—2026 年" in page


def test_pasted_notice_is_previewed_and_nothing_is_saved(org, login):
    response = login("admin").post("/admin/holidays/2027", data={"action": "parse",
                                                                 "notice": NOTICE_2027})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<td class="holiday" data-day="2027-02-05">' in page  # coloured in the year view
    assert '<td class="workday" data-day="2027-02-20">' in page
    assert "2027-10-07" in page and 'value="notice"' in page
    assert entered() == 0


def test_confirmed_preview_is_saved_audited_and_counts(org, login):
    client = login("admin")
    holidays = "\n".join(f"2027-02-{d:02d}" for d in range(5, 13)) + "\n2027-01-01"
    response = client.post("/admin/holidays/2027", data={
        "action": "save", "holidays": holidays, "workdays": "2027-02-20", "source": "notice"})
    assert response.status_code == 302
    assert entered() == 10
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "holiday_year_saved")).one()
    assert event.data["year"] == 2027 and event.data["source"] == "notice"
    page = client.get("/admin/holidays").get_data(as_text=True)
    assert "已保存2027年节假日安排：放假9天，调休上班1天" in page
    assert "管理员录入" in page and "尚未录入" not in page
    # Saving again replaces the year instead of adding to it.
    client.post("/admin/holidays/2027", data={"action": "save", "holidays": "2027-01-01", "workdays": ""})
    assert entered() == 1


def test_a_library_year_opens_with_its_days(org, login):
    page = login("admin").get("/admin/holidays/2026").get_data(as_text=True)
    assert '<td class="holiday" data-day="2026-02-16">' in page  # Spring Festival Monday
    assert '<td class="workday" data-day="2026-02-14">' in page  # Saturday at work


@pytest.mark.parametrize("data, message", [
    ({"action": "parse", "notice": NOTICE_2027.replace("2027年部分", "2026年部分")},
     "这是2026年的通知，当前录入的是2027年"),
    ({"action": "parse", "notice": "请各地区、各部门妥善安排好值班"}, "没有从通知中读到任何日期"),
    ({"action": "save", "holidays": "2027-13-01", "workdays": ""}, "“2027-13-01”不是有效日期"),
    ({"action": "save", "holidays": "2028-01-01", "workdays": ""}, "2028-01-01 不在2027年内"),
    ({"action": "save", "holidays": "", "workdays": "2027-02-20"}, "请至少填写一个放假日"),
    ({"action": "save", "holidays": "2027-02-20", "workdays": "2027-02-20"}, "不能既放假又上班"),
])
def test_bad_input_is_refused_with_a_message_and_saves_nothing(org, login, data, message):
    response = login("admin").post("/admin/holidays/2027", data=data)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert entered() == 0


def test_the_cs_manager_may_enter_the_year_others_may_not(org, login):
    client = login("hq_manager")
    assert client.get("/admin/holidays/2027").status_code == 200
    client.post("/logout")
    client = login("hq")
    assert client.get("/admin/holidays").status_code == 403
    assert client.post("/admin/holidays/2027", data={"action": "save", "holidays": "2027-01-01"}
                       ).status_code == 403
    assert entered() == 0


@pytest.mark.parametrize("url", ["/admin/holidays/1999", "/admin/holidays/99999999999"])
def test_years_outside_the_calendar_are_not_found(org, login, url):
    assert login("admin").get(url).status_code == 404


def test_the_year_form_redirects_to_the_year(org, login):
    response = login("admin").get("/admin/holidays?year=2028")
    assert response.status_code == 302 and response.headers["Location"].endswith("/admin/holidays/2028")
    assert login("admin").get("/admin/holidays?year=abc").status_code == 200


def test_a_refused_save_keeps_the_typed_days_in_the_year_view(org, login):
    response = login("admin").post("/admin/holidays/2027", data={
        "action": "save", "holidays": "2027-01-01", "workdays": "2027-01-01"})
    assert response.status_code == 422
    assert '<td class="holiday" data-day="2027-01-01">' in response.get_data(as_text=True)


def test_an_overlong_paste_is_refused(org, login):
    response = login("admin").post("/admin/holidays/2027", data={"action": "parse",
                                                                 "notice": "放假" * 20000})
    assert response.status_code == 422 and "通知不能超过20000个字" in response.get_data(as_text=True)
