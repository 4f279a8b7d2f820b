"""English UI: Chinese by default, English after /lang/en — navigation, forms, flashes, labels."""
import re

import pytest
from sqlalchemy import select

from tests.factories import form_fields, member_data, register

def english(client):
    response = client.get("/lang/en")
    assert response.status_code == 302


def test_default_is_chinese(org, login):
    page = login("hq").get("/").data.decode()
    assert "待办" in page and "会员" in page and "退出" in page
    assert "To-do" not in page and "Members" not in page


def test_hq_inbox_in_english(org, login):
    register(org)
    client = login("hq")
    english(client)
    page = client.get("/").data.decode()
    assert "To-do" in page and "Members" in page and "Log out" in page and "My to-do list" in page
    # labels declared in the process (webapp/workflows/registration.py), marked with N_
    assert "Review new member details" in page and "Approve" in page
    assert "Send back for completion" in page
    assert "待办" not in page and "退出" not in page and "审核通过" not in page
    assert re.search(r'"muted">\d+(d \d+h|h \d+min|min) left<', page)  # the countdown
    assert "剩余" not in page and "小时" not in page
    assert '<html lang="en">' in page


def test_switching_back_to_chinese(org, login):
    client = login("hq")
    english(client)
    client.get("/lang/zh_CN")
    page = client.get("/").data.decode()
    assert "待办" in page and "To-do" not in page


def test_form_validation_message_in_english(org, login):
    client = login("assoc1")
    english(client)
    data = form_fields(member_data(org["assoc1"]))
    data["name"] = ""
    response = client.post("/members/new", data=data)
    assert response.status_code == 422
    page = response.data.decode()
    assert "Please enter the name" in page and "请填写姓名" not in page
    assert "Membership application form" in page and "Mobile number" in page


def test_flash_with_a_value_in_english(org, login):
    client = login("assoc1")
    english(client)
    response = client.post("/members/new", data=form_fields(member_data(org["assoc1"])),
                           follow_redirects=True)
    page = response.data.decode()
    assert "Submitted for HQ review; temporary card no. " in page
    assert "Temporary member card" in page


def test_case_page_states_in_english(org, login):
    case = register(org)
    client = login("hq")
    english(client)
    page = client.get(f"/cases/{case.id}").data.decode()
    assert "Awaiting HQ review" in page and "New member registration" in page
    assert "待总部审核" not in page


def test_login_page_in_english(client, org):
    english(client)
    page = client.get("/login").data.decode()
    assert "Log in" in page and "Username" in page and "Password" in page
    assert "登录" not in page and "用户名" not in page
    response = client.post("/login", data={"username": "", "password": ""})
    assert "Please enter your username" in response.data.decode()


def test_error_page_in_english(org, login):
    client = login("hq")
    english(client)
    page = client.get("/cases/999999").data.decode()
    assert "This page does not exist or you may not view it" in page
    assert "Back to to-do list" in page


def test_every_declared_label_has_an_english_translation():
    """New processes or settings: mark their labels with N_ (webapp/i18n_labels.py), extract,
    translate. This fails until then, instead of showing Chinese in the English UI."""
    from babel.messages.pofile import read_po

    from webapp import settings, workflows  # noqa: F401  registers the processes
    from webapp.workflows.engine import REGISTRY

    from tests.conftest import ROOT

    with (ROOT / "translations" / "en" / "LC_MESSAGES" / "messages.po").open("rb") as f:
        catalog = read_po(f)
    labels = set()
    for process in REGISTRY.values():
        labels |= {process.label, *process.states.values()}
        labels |= {t.label for t in process.transitions}
        labels |= {t.label for t in process.tasks.values()}
    labels |= {x for spec in settings.SPECS.values() for x in (spec.label, spec.help) if x}
    untranslated = sorted(s for s in labels
                          if catalog.get(s) is None or not catalog.get(s).string
                          or catalog.get(s).fuzzy)
    assert untranslated == []


def test_refusals_in_english(org, login, client):
    """Messages raised by services and the engine are translated when shown, names kept."""
    from tests.complaint_helpers import record
    from tests.routes.test_claim import second_specialist
    from webapp.extensions import db
    from webapp.models import Task
    from webapp.services import tasks

    english(client)
    response = client.post("/login", data={"username": "hq", "password": "wrong"})
    assert "Wrong username or password" in response.data.decode()

    case = register(org)
    version = case.version
    login("hq").post(f"/cases/{case.id}/approve", data={"version": version})
    client.post("/logout")
    manager = login("hq_manager")
    english(manager)
    page = manager.post(f"/cases/{case.id}/approve", data={"version": version},
                        follow_redirects=True).data.decode()
    assert "Already handled by hq名 at " in page and "current state: Approved" in page
    assert "已由" not in page

    complaint = record(org)
    page = manager.post(f"/complaints/{complaint.id}/reply",
                        data={"version": complaint.version, "reply_text": ""},
                        follow_redirects=True).data.decode()
    assert "Please enter the reply given to the customer" in page

    other = register(org, name="另一位")
    task = db.session.scalars(select(Task).where(Task.case_id == other.id)).one()
    tasks.claim(user=second_specialist(org), task=task)
    client.post("/logout")
    hq = login("hq")
    english(hq)
    page = hq.post(f"/tasks/{task.id}/claim", follow_redirects=True).data.decode()
    assert "This task was already claimed by hq2名" in page


def test_invalid_mobile_in_english(org, login):
    client = login("assoc1")
    english(client)
    data = form_fields(member_data(org["assoc1"], mobile="12345"))
    page = client.post("/members/new", data=data).data.decode()
    assert "Please enter a valid mainland China mobile number" in page
    assert "请输入有效的中国大陆手机号码" not in page


def test_every_message_in_the_source_is_translated(tmp_path):
    """Every string marked in code and templates (_, _l, N_, lazy_gettext) has an English
    translation: a new message without one fails here, not in front of an English user."""
    import subprocess
    import sys

    from babel.messages.pofile import read_po

    from tests.conftest import ROOT

    pot = tmp_path / "messages.pot"
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", "extract",
                    "-F", "babel.cfg", "-k", "_l", "-k", "lazy_gettext", "-k", "N_",
                    "-o", str(pot), "."], cwd=ROOT, check=True, capture_output=True)
    with pot.open("rb") as f:
        source = read_po(f)
    with (ROOT / "translations" / "en" / "LC_MESSAGES" / "messages.po").open("rb") as f:
        catalog = read_po(f)
    missing = sorted(m.id for m in source if m.id and (catalog.get(m.id) is None
                                                      or not catalog.get(m.id).string))
    assert missing == []
