"""Registration through HTTP: validation, duplicates, scoping, reveal, one-click and bulk actions."""
import pytest
from sqlalchemy import func, select

from tests.factories import form_fields, member_data, register
from webapp.extensions import db
from webapp.models import AuditEvent, Case, Member

MANDATORY = {"name": "请填写姓名", "mobile": "请填写手机号码", "gender": "请选择性别",
             "birth_date": "请填写出生日期", "associate_id": "请选择分管导购",
             "applied_on": "请填写申请日期"}


def members_count():
    return db.session.scalar(select(func.count(Member.id)))


def test_associate_registers_a_member(org, login):
    client = login("assoc1")
    response = client.post("/members/new", data=form_fields(member_data(org["assoc1"], name="赵敏")))
    assert response.status_code == 302
    member = db.session.scalars(select(Member)).one()
    assert member.name == "赵敏" and member.store_id == org.stores[0].id
    page = client.get(response.headers["Location"]).data.decode()
    assert "赵敏" in page and member.card_no in page


@pytest.mark.parametrize("field,message", MANDATORY.items())
def test_each_missing_mandatory_field_is_refused_and_nothing_saved(org, login, field, message):
    client = login("assoc1")
    data = form_fields(member_data(org["assoc1"]))
    data[field] = ""
    response = client.post("/members/new", data=data)
    assert response.status_code == 422
    assert message in response.data.decode()
    assert members_count() == 0


@pytest.mark.parametrize("field,value,message", [
    ("mobile", "1234", "请输入有效的中国大陆手机号码"), ("email", "not-an-email", "邮箱格式不正确"),
    ("birth_date", "2030-01-01", "出生日期应早于申请日期"), ("birth_date", "1990-13-40", "日期格式不正确"),
])
def test_invalid_values_are_refused(org, login, field, value, message):
    client = login("assoc1")
    data = form_fields(member_data(org["assoc1"]))
    data[field] = value
    response = client.post("/members/new", data=data)
    assert response.status_code == 422 and members_count() == 0
    assert message in response.data.decode()


def test_existing_mobile_links_to_that_member(org, login):
    first = register(org, mobile="13800001111")
    client = login("assoc1b")
    data = form_fields(member_data(org["assoc1b"], mobile="13800001111"))
    response = client.post("/members/new", data=data)
    assert response.status_code == 409
    assert f"/members/{first.member_id}" in response.data.decode()
    assert members_count() == 1


@pytest.mark.parametrize("username,status", [
    ("assoc1", 200), ("manager1", 200), ("supervisor1", 200), ("hq", 200),
    ("assoc3", 404), ("manager3", 404), ("supervisor2", 404), ("admin", 404)])
def test_member_page_is_scoped(org, login, username, status):
    case = register(org)
    client = login(username)
    assert client.get(f"/members/{case.member_id}").status_code == status
    assert client.get(f"/cases/{case.id}").status_code == (404 if username in (
        "assoc3", "manager3", "supervisor2") else 200)


def test_member_list_shows_masked_mobile_only(org, login):
    register(org, mobile="13812345678")
    page = login("hq").get("/members").data.decode()
    assert "138****5678" in page and "13812345678" not in page


def test_reveal_is_logged_and_refused_to_supervisors(org, login, client):
    case = register(org, mobile="13812345678")
    response = login("assoc1").post(f"/members/{case.member_id}/reveal/mobile")
    assert response.json["value"] == "13812345678"
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "reveal")).all()
    assert [(e.actor_id, e.data["field"]) for e in events] == [(org["assoc1"].id, "mobile")]
    client.post("/logout")
    assert login("supervisor1").post(f"/members/{case.member_id}/reveal/mobile").status_code == 403


def test_hq_sends_back_and_store_sees_it_in_its_inbox(org, login, client):
    case = register(org, name="孙悟空")
    hq = login("hq")
    assert "孙悟空" in hq.get("/").data.decode()
    response = hq.post(f"/cases/{case.id}/send_back", data={"version": case.version,
                                                              "comment": "缺少家庭地址"})
    assert response.status_code == 302
    client.post("/logout")
    for username in ("assoc1", "manager1"):
        page = login(username).get("/").data.decode()
        assert "孙悟空" in page and "补全会员资料" in page, username
        assert "批量通过所选" not in page, username  # nothing here the store may approve
        client.post("/logout")
    assert "孙悟空" not in login("assoc3").get("/").data.decode()


def test_second_approval_reads_already_handled(org, login, client):
    case = register(org)
    version = case.version
    login("hq").post(f"/cases/{case.id}/approve", data={"version": version})
    client.post("/logout")
    response = login("hq_manager").post(f"/cases/{case.id}/approve", data={"version": version},
                                        follow_redirects=True)
    assert "已由hq名于" in response.data.decode()


def test_bulk_approve_from_the_inbox(org, login):
    cases = [register(org, name=f"批量{i}") for i in range(3)]
    items = [f"{c.id}:{c.version}" for c in cases]
    page = login("hq").get("/").data.decode()
    assert "批量通过所选" in page and all(f'value="{item}"' in page for item in items)
    response = login("hq").post("/cases/bulk-approve", data={"item": items}, follow_redirects=True)
    assert "已批量通过 3 项" in response.data.decode()
    states = db.session.scalars(select(Case.state)).all()
    assert states == ["approved"] * 3


def test_store_cannot_approve_its_own_registration(org, login):
    case = register(org)
    response = login("manager1").post(f"/cases/{case.id}/approve", data={"version": case.version})
    assert response.status_code == 403
    db.session.refresh(case)
    assert case.state == "review"


def test_member_page_masks_address_and_email_until_revealed(org, login):
    case = register(org, address="上海市静安区愚园路88号", email="wang.xiaoming@example.com")
    page = login("assoc1").get(f"/members/{case.member_id}").data.decode()
    assert "上海市***" in page and "愚园路" not in page
    assert "w***" in page and "example.com" not in page


def test_mobile_of_another_stores_member_names_the_store_not_the_member(org, login):
    first = register(org, "assoc3", mobile="13800002222", name="钱多多")
    client = login("assoc1")
    response = client.post("/members/new", data=form_fields(member_data(org["assoc1"],
                                                                         mobile="13800002222")))
    page = response.data.decode()
    assert response.status_code == 409
    assert "该手机号已登记为会员（所属门店：3号店），如有疑问请联系该门店。" in page
    assert f"/members/{first.member_id}" not in page  # a 404 for this user: no link
    assert "钱多多" not in page and first.member.card_no not in page
    assert members_count() == 1


def send_back(org, case, comment="缺少家庭地址,请补全"):
    from webapp.services.cases import fire

    fire(actor=org["hq"], case=case, transition="send_back", version=case.version,
         comment=comment)
    return case


@pytest.mark.parametrize("username", ["hq", "hq_manager", "admin", "supervisor1",
                                      "area_manager1", "assoc3"])
def test_completion_form_is_only_for_the_store_that_completes_it(org, login, username):
    case = send_back(org, register(org, mobile="13812345678", address="上海市静安区愚园路88号"))
    client = login(username)
    for method in ("GET", "POST"):
        response = client.open(f"/registrations/{case.id}/complete", method=method,
                               data=form_fields(member_data(org["assoc1"])))
        assert response.status_code == 404, method
        page = response.data.decode()
        assert "13812345678" not in page and "愚园路" not in page and "1988-05-17" not in page
    assert not db.session.scalars(select(AuditEvent).where(AuditEvent.action == "reveal")).all()
    db.session.refresh(case)
    assert case.state == "returned"


def test_completion_form_shows_hq_comment_first_and_logs_the_reveal(org, login):
    case = send_back(org, register(org, mobile="13812345678"), comment="请补全家庭住址")
    page = login("manager1").get(f"/registrations/{case.id}/complete").data.decode()
    assert "总部退回意见" in page and "请补全家庭住址" in page
    assert page.index("请补全家庭住址") < page.index('name="name"')  # above the form
    assert 'value="13812345678"' in page
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "reveal")).all()
    assert [(e.actor_id, e.object_id, e.data["purpose"]) for e in events] == [
        (org["manager1"].id, case.member_id, "complete")]


def test_completion_form_after_resubmission_goes_back_to_the_case(org, login):
    case = register(org)
    client = login("assoc1")
    response = client.get(f"/registrations/{case.id}/complete")  # in HQ review, not sent back
    assert response.status_code == 302 and response.location.endswith(f"/cases/{case.id}")


def test_completion_without_optional_choices_is_saved(org, login):
    case = send_back(org, register(org))
    data = form_fields(member_data(org["assoc1"], address="北京市东城区1号"))
    data["version"] = str(case.version)
    del data["occupation"], data["heard_from"]
    response = login("assoc1").post(f"/registrations/{case.id}/complete", data=data)
    assert response.status_code == 302
    db.session.refresh(case)
    assert case.state == "review" and case.member.occupation == "" and case.member.heard_from == ""


@pytest.mark.parametrize("field", ["name", "address", "preferences", "comment"])
def test_a_nul_byte_in_the_form_is_refused_and_nothing_saved(org, login, field):
    data = form_fields(member_data(org["assoc1"]))
    data[field] = "王\x00小明"
    response = login("assoc1").post("/members/new", data=data)
    assert response.status_code == 400 and "控制字符" in response.data.decode()
    assert members_count() == 0


def test_a_nul_byte_in_the_search_is_refused(org, login):
    register(org)
    response = login("hq").get("/members?q=%00138")
    assert response.status_code == 400 and "控制字符" in response.data.decode()
