"""The daily shop-floor sheet fills each call script with its case's own values (the day-3
call's sale date), as the case page does; before, a script naming a case value could not be
filled."""
from tests.workflows.test_weekly_routine import local, members  # noqa: F401
from tests.browser.conftest import pdf_fonts  # noqa: F401  (reuse the built font subset)
from webapp.services import aftersale, routine


def test_the_day_3_call_on_the_sheet_names_the_sale_day(org, members):  # noqa: F811
    assert aftersale.start_due_calls(now=local(12, 9)) == 1  # member 0 bought on 10 Nov
    sheet = routine.daily_sheet(actor=org["assoc1"], now=local(12, 10))
    [row] = [r for r in sheet["tasks"] if r["member"].id == members[0].id]
    assert "您在11月10日在我们店里买的" in row["script"]
    assert len(sheet["profiles"]) == 2  # the setting's default, no plan this week


def test_the_store_s_sheets_of_a_day_print_as_one_batch_with_progress(org, members, login,  # noqa: F811
                                                                      client, pdf_fonts):
    import time_machine
    from pypdf import PdfReader

    from webapp.extensions import db
    from webapp.models import BatchJob
    from webapp.services import printing

    aftersale.start_due_calls(now=local(12, 9))
    with time_machine.travel(local(12, 10), tick=False):
        manager = login("manager1")
        assert "store-sheets" in manager.get("/care/profiles").get_data(as_text=True)
        bad = manager.post("/care/sheets", data={"day": "x"}, follow_redirects=True)
        assert "请选择有效的日期" in bad.get_data(as_text=True)
        response = manager.post("/care/sheets", data={"day": "2026-11-12"})
        assert response.status_code == 302
        client.get("/logout")
        login("assoc1")  # an associate does not print the store's batch
        refused = client.post("/care/sheets", data={"day": "2026-11-12"})
        assert refused.status_code == 403  # refused before the form is read (care.store_sheets)
    batch = db.session.query(BatchJob).one()
    assert (batch.kind, batch.total, batch.status) == ("daily_sheets", 2, "queued")
    printing.render_batch(batch.id)  # what the worker runs
    db.session.expire_all()
    batch = db.session.get(BatchJob, batch.id)
    assert (batch.status, batch.done) == ("done", 2)
    reader = PdfReader(batch.file_path)
    texts = [p.extract_text() for p in reader.pages]
    assert len(reader.pages) == 2
    assert "assoc1名" in texts[0] and "您在11月10日在我们店里买的" in texts[0]
    assert "assoc1b名" in texts[1]


def test_the_same_sheet_on_a_phone_lists_the_calls_with_their_scripts(org, members, login):  # noqa: F811
    import time_machine

    aftersale.start_due_calls(now=local(12, 9))
    with time_machine.travel(local(12, 10), tick=False):
        page = login("assoc1").get("/care/profiles").get_data(as_text=True)
    assert 'name="viewport"' in page and "今日电话、拜访与跟进（1）" in page
    assert f'<span class="tag tier">{members[0].tier}级</span>' in page  # the call's member tier
    assert "您在11月10日在我们店里买的" in page and "今日记忆的会员档案" in page


def test_todays_profiles_name_the_members_anniversaries_on_the_page_and_the_sheet(
        org, members, login, tmp_path):  # noqa: F811
    """Issue #14: "today's profiles to memorise (… birthday, last visit)" — a member's named
    anniversaries (two here) beside the birthday, on the phone page and the printed sheet."""
    import re
    import subprocess

    import time_machine

    from webapp.extensions import db
    from webapp.models import MemberAnniversary, VisitRecord

    day = routine.daily_sheet(actor=org["assoc1"], now=local(12, 10))
    first = day["profiles"][0].member
    db.session.add_all([MemberAnniversary(member_id=first.id, name="结婚纪念日", month_day=520),
                        MemberAnniversary(member_id=first.id, name="相识纪念日", month_day=1103),
                        VisitRecord(member_id=first.id, store_id=first.store_id, ym=202611,
                                    associate_id=org["assoc1"].id, method="call",
                                    visited_at=local(5, 15), result="满意，想看新款西装",
                                    points_at_visit=first.points)])
    db.session.commit()
    with time_machine.travel(local(12, 10), tick=False):
        client = login("assoc1")
        page = client.get("/care/profiles").get_data(as_text=True)
        pdf = client.get("/care/sheet.pdf")
    today = page.split("复习昨天的档案")[0]
    assert "纪念日：结婚纪念日 05-20；相识纪念日 11-03" in today
    path = tmp_path / "sheet.pdf"
    path.write_bytes(pdf.data)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True,
                          text=True, check=True).stdout
    assert "纪念日 结婚纪念日 05-20；相识纪念日 11-03" in text
    assert "最近回访：2026-11-05 满意，想看新款西装" in text
    pages = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True).stdout
    assert re.search(r"^Pages:\s+1$", pages, re.M)  # still one A4 page
