"""The administration area through HTTP: access, areas, stores, users, settings, CSRF."""
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.factories import register
from webapp import clock, settings
from webapp.extensions import db
from webapp.models import Area, AuditEvent, Role, Setting, Store, Task, User
from webapp.workflows import engine

NON_ADMINS = ["assoc1", "manager1", "supervisor1", "area_manager1", "hq", "hq_manager"]


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def html(response) -> str:
    return response.get_data(as_text=True)


def admin_urls(org) -> list[str]:
    store, user = org.stores[0], org["assoc1"]
    return ["/admin/", "/admin/areas", "/admin/stores", f"/admin/stores/{store.id}",
            "/admin/users", "/admin/users/new", f"/admin/users/{user.id}",
            f"/admin/users/{user.id}/issued", "/admin/settings"]


def logout(client):
    client.post("/logout")


def settings_form(**changes) -> dict:
    """The settings form as the browser posts it with every value at its default."""
    data = {}
    for key, spec in settings.SPECS.items():
        if spec.kind == "bool":
            if spec.default == "1":
                data[key] = "y"
        else:
            data[key] = spec.default
    for key, value in changes.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return data


# ---------------------------------------------------------------- access

@pytest.mark.parametrize("username", NON_ADMINS)
def test_non_admins_get_403_on_every_admin_page(org, login, username):
    client = login(username)
    for url in admin_urls(org):
        assert client.get(url).status_code == 403, url
    for url, data in [("/admin/areas", {"name": "三区"}),
                      ("/admin/stores", {"code": "S9", "name": "9号店", "area_id": org.areas[0].id}),
                      ("/admin/users/new", {"username": "x1", "display_name": "x", "role": "admin"}),
                      (f"/admin/users/{org['assoc1b'].id}/deactivate", {}),
                      ("/admin/settings", settings_form(brand_name="坏人"))]:
        assert client.post(url, data=data).status_code == 403, url
    assert (count(Area), count(Store), count(User), count(Setting)) == (2, 4, 11, 0)
    assert org["assoc1b"].active


def test_anonymous_is_sent_to_login(org, client):
    response = client.get("/admin/users")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_every_admin_page_renders_for_the_admin(org, login):
    client = login("admin")
    for url in admin_urls(org):
        response = client.get(url)
        assert response.status_code == 200, url
        assert "系统管理" in html(response)
    assert client.get("/admin/stores/9999").status_code == 404
    assert client.get("/admin/users/9999").status_code == 404


def test_overview_counts(org, login):
    page = html(login("admin").get("/admin/"))
    assert re.search(r"<td>门店</td><td>4</td>", page)
    assert re.search(r"<td>启用的账户</td><td>11</td>", page)


# ---------------------------------------------------------------- areas and stores

def test_create_and_rename_area(org, login):
    client = login("admin")
    response = client.post("/admin/areas", data={"name": " 三区 "}, follow_redirects=True)
    assert "已新增区域“三区”" in html(response)
    area = db.session.scalars(select(Area).where(Area.name == "三区")).one()
    response = client.post(f"/admin/areas/{area.id}", data={f"a{area.id}-name": "华东三区"},
                           follow_redirects=True)
    assert "区域已改名为“华东三区”" in html(response)
    assert db.session.get(Area, area.id).name == "华东三区"
    actions = db.session.scalars(select(AuditEvent.action).where(AuditEvent.object_type == "area")).all()
    assert actions == ["area_created", "area_renamed"]


def test_duplicate_area_name_is_refused(org, login):
    client = login("admin")
    response = client.post("/admin/areas", data={"name": "一区"})
    assert response.status_code == 422 and "区域“一区”已存在" in html(response)
    second = org.areas[1]
    response = client.post(f"/admin/areas/{second.id}", data={f"a{second.id}-name": "一区"})
    assert response.status_code == 422 and "区域“一区”已存在" in html(response)
    assert count(Area) == 2 and db.session.get(Area, second.id).name == "二区"
    response = client.post("/admin/areas", data={"name": "  "})
    assert response.status_code == 422 and "请填写区域名称" in html(response)


def test_create_store_and_list_it_with_its_area(org, login):
    client = login("admin")
    response = client.post("/admin/stores", data={"code": "S5", "name": "5号店",
                                                  "area_id": org.areas[1].id})
    assert response.status_code == 302
    page = html(client.get("/admin/stores"))
    assert re.search(r"<td>S5</td><td>5号店</td><td>二区</td>", page)


def test_duplicate_store_code_is_refused_and_nothing_saved(org, login):
    client = login("admin")
    response = client.post("/admin/stores", data={"code": "S1", "name": "新店",
                                                  "area_id": org.areas[1].id})
    assert response.status_code == 422
    assert "门店编码“S1”已被“1号店”使用" in html(response)
    assert count(Store) == 4
    assert not db.session.scalars(select(Store).where(Store.name == "新店")).first()
    # Case does not make a different code.
    assert client.post("/admin/stores", data={"code": "s1", "name": "新店",
                                              "area_id": org.areas[1].id}).status_code == 422
    assert count(Store) == 4


def test_store_form_requires_every_field(org, login):
    response = login("admin").post("/admin/stores", data={"code": "", "name": "", "area_id": ""})
    assert response.status_code == 422
    page = html(response)
    assert "请填写门店编码" in page and "请填写门店名称" in page and "请选择所属区域" in page
    assert count(Store) == 4


def test_edit_store(org, login):
    client = login("admin")
    store = org.stores[1]
    response = client.post(f"/admin/stores/{store.id}", data={"code": "S3", "name": "二号店",
                                                              "area_id": org.areas[1].id})
    assert response.status_code == 422 and "门店编码“S3”已被“3号店”使用" in html(response)
    assert db.session.get(Store, store.id).name == "2号店"
    response = client.post(f"/admin/stores/{store.id}", data={"code": "S2A", "name": "二号店",
                                                              "area_id": org.areas[1].id})
    assert response.status_code == 302
    store = db.session.get(Store, store.id)
    assert (store.code, store.name, store.area_id) == ("S2A", "二号店", org.areas[1].id)
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "store_updated")).one()
    assert event.data["old"]["code"] == "S2" and event.data["new"]["code"] == "S2A"


# ---------------------------------------------------------------- users

def new_user_form(org, **changes) -> dict:
    data = {"username": "assoc9", "display_name": "新导购", "role": "associate",
            "store_id": org.stores[1].id, "area_id": "", "password": ""}
    data.update(changes)
    return data


def test_new_user_logs_in_with_one_time_password_and_must_set_their_own(org, client, login):
    login("admin")
    response = client.post("/admin/users/new", data=new_user_form(org))
    assert response.status_code == 302
    cookie = client.get_cookie("session").value
    issued = client.get(response.headers["Location"])
    assert issued.headers["Cache-Control"] == "no-store"
    password = re.search(r'id="one-time-password"[^>]*>([^<]+)<', html(issued)).group(1)
    assert len(password) >= 8
    # the admin's cookie (signed, not encrypted) never carried it: it waited on the server
    serializer = client.application.session_interface.get_signing_serializer(client.application)
    assert password not in str(serializer.loads(cookie))
    again = html(client.get(response.headers["Location"]))
    assert password not in again and "已经显示过了" in again
    user = db.session.scalars(select(User).where(User.username == "assoc9")).one()
    assert (user.role, user.store_id, user.area_id, user.must_change_password) == (
        Role.ASSOCIATE, org.stores[1].id, None, True)
    assert password not in str(db.session.scalars(select(AuditEvent.data)).all())
    logout(client)

    response = client.post("/login", data={"username": "assoc9", "password": password})
    assert response.status_code == 302 and response.headers["Location"].endswith("/password")
    forced = client.get("/")
    assert forced.status_code == 302 and forced.headers["Location"].endswith("/password")
    response = client.post("/password", data={"current": password, "password": "my-own-secret",
                                              "confirm": "my-own-secret"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/")
    inbox = client.get("/")
    assert inbox.status_code == 200 and "我的待办" in html(inbox)
    assert db.session.get(User, user.id).must_change_password is False
    logout(client)
    assert client.post("/login", data={"username": "assoc9", "password": password}).status_code == 401
    login("assoc9", "my-own-secret")


def test_admin_may_type_the_initial_password(org, client, login):
    login("admin")
    response = client.post("/admin/users/new", data=new_user_form(
        org, username="hq2", role="hq_specialist", store_id="", password="initial-123"))
    assert response.status_code == 302
    assert "initial-123" in html(client.get(response.headers["Location"]))
    logout(client)
    response = client.post("/login", data={"username": "hq2", "password": "initial-123"})
    assert response.headers["Location"].endswith("/password")


@pytest.mark.parametrize("changes,message", [
    ({"store_id": ""}, "导购和店长必须选择所属门店"),
    ({"area_id": "AREA"}, "门店人员的区域由门店决定"),
    ({"role": "area_supervisor", "store_id": ""}, "片区主管和区域经理必须选择所属区域"),
    ({"role": "area_manager", "area_id": "AREA"}, "只有导购和店长需要选择门店"),
    ({"role": "hq_manager"}, "只有导购和店长需要选择门店"),
    ({"role": "admin", "store_id": "", "area_id": "AREA"}, "总部人员和管理员不属于某个区域"),
    ({"role": ""}, "请选择角色"),
    ({"role": "boss"}, "请选择角色"),
    ({"username": "assoc1"}, "用户名“assoc1”已被使用"),
    ({"username": "ASSOC1"}, "用户名“ASSOC1”已被使用"),
    ({"username": "王 五"}, "用户名为2至60位英文字母、数字或 . _ -"),
    ({"display_name": " "}, "请填写姓名"),
    ({"password": "short"}, "初始密码至少8位"),
])
def test_invalid_new_user_is_refused_with_nothing_written(org, login, changes, message):
    changes = {k: (org.areas[0].id if v == "AREA" else v) for k, v in changes.items()}
    response = login("admin").post("/admin/users/new", data=new_user_form(org, **changes))
    assert response.status_code == 422
    assert message in html(response)
    assert count(User) == 11 and count(AuditEvent) == 0


def test_area_user_gets_the_area(org, login):
    response = login("admin").post("/admin/users/new", data=new_user_form(
        org, username="sup3", role="area_supervisor", store_id="", area_id=org.areas[1].id))
    assert response.status_code == 302
    user = db.session.scalars(select(User).where(User.username == "sup3")).one()
    assert (user.role, user.store_id, user.area_id) == (Role.AREA_SUPERVISOR, None, org.areas[1].id)


def listed(page: str) -> set[str]:
    return set(re.findall(r'<tr id="user-\d+"[^>]*>\s*<td><a [^>]*>([^<]+)</a>', page))


def test_user_list_filters(org, login):
    client = login("admin")
    assert len(listed(html(client.get("/admin/users")))) == 11
    page = html(client.get("/admin/users", query_string={"role": "associate"}))
    assert listed(page) == {"assoc1", "assoc1b", "assoc3"}
    page = html(client.get("/admin/users", query_string={"store_id": org.stores[2].id}))
    assert listed(page) == {"assoc3", "manager3"}
    user = org["assoc1b"]
    user.active = False
    db.session.commit()
    page = html(client.get("/admin/users", query_string={"active": "0"}))
    assert listed(page) == {"assoc1b"}
    page = html(client.get("/admin/users", query_string={"active": "1", "role": "associate"}))
    assert listed(page) == {"assoc1", "assoc3"}


def send_back_to_assoc1(org):
    """A registration sent back by HQ: its completion task is assigned to assoc1."""
    case = register(org)
    engine.fire(case, "send_back", org["hq"], version=case.version, comment="缺地址")
    db.session.commit()
    task = db.session.scalars(select(Task).where(Task.case_id == case.id, Task.status == "open")).one()
    assert task.assignee_id == org["assoc1"].id
    return case, task


def test_edit_user_scope_returns_their_open_tasks(org, login):
    case, task = send_back_to_assoc1(org)
    user = org["assoc1"]
    response = login("admin").post(f"/admin/users/{user.id}", data={
        "display_name": "调店导购", "role": "associate", "store_id": org.stores[2].id, "area_id": ""},
        follow_redirects=True)
    assert "1 项待办已退回角色收件箱" in html(response)
    user = db.session.get(User, user.id)
    assert (user.display_name, user.store_id) == ("调店导购", org.stores[2].id)
    task = db.session.get(Task, task.id)
    assert task.assignee_id is None and task.status == "open"


def test_edit_user_validation_and_own_role(org, login):
    client = login("admin")
    user = org["assoc1"]
    response = client.post(f"/admin/users/{user.id}", data={
        "display_name": "x", "role": "store_manager", "store_id": "", "area_id": ""})
    assert response.status_code == 422 and "导购和店长必须选择所属门店" in html(response)
    assert db.session.get(User, user.id).role == Role.ASSOCIATE
    me = org["admin"]
    response = client.post(f"/admin/users/{me.id}", data={
        "display_name": "管理员", "role": "hq_manager", "store_id": "", "area_id": ""})
    assert response.status_code == 422 and "不能修改自己的角色" in html(response)
    assert db.session.get(User, me.id).role == Role.ADMIN


def test_reset_password_unlocks_and_forces_a_new_one(org, client, login):
    user = org["manager1"]
    user.locked_until = clock.now() + timedelta(minutes=10)
    db.session.commit()
    login("admin")
    assert "已锁定" in html(client.get("/admin/users"))
    response = client.post(f"/admin/users/{user.id}/password", data={"password": "short"})
    assert response.status_code == 422 and "初始密码至少8位" in html(response)
    response = client.post(f"/admin/users/{user.id}/password", data={"password": ""})
    assert response.status_code == 302
    password = re.search(r'id="one-time-password"[^>]*>([^<]+)<',
                         html(client.get(response.headers["Location"]))).group(1)
    user = db.session.get(User, user.id)
    assert user.must_change_password and user.locked_until is None
    logout(client)
    response = client.post("/login", data={"username": "manager1", "password": password})
    assert response.headers["Location"].endswith("/password")


def test_deactivate_hands_open_tasks_back_to_the_role_inbox(org, client, login):
    case, task = send_back_to_assoc1(org)
    login("admin")
    response = client.post(f"/admin/users/{org['assoc1'].id}/deactivate", follow_redirects=True)
    assert "已停用 assoc1,1 项未完成的待办已退回角色收件箱" in html(response)
    task = db.session.get(Task, task.id)
    assert task.assignee_id is None and task.status == "open"
    assert db.session.get(User, org["assoc1"].id).active is False
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "deactivate")).one()
    assert event.actor_id == org["admin"].id and event.data == {"tasks_returned": 1}
    logout(client)

    login("assoc1b")
    assert case.title in html(client.get("/"))
    logout(client)
    response = client.post("/login", data={"username": "assoc1", "password": "pw"})
    assert response.status_code == 401 and "用户名或密码错误" in html(response)

    login("admin")
    assert client.post(f"/admin/users/{org['assoc1'].id}/reactivate").status_code == 302
    logout(client)
    login("assoc1")


def test_admin_cannot_deactivate_themself(org, login):
    me = org["admin"]
    response = login("admin").post(f"/admin/users/{me.id}/deactivate")
    assert response.status_code == 422 and "不能停用自己的账户" in html(response)
    assert db.session.get(User, me.id).active is True
    assert count(AuditEvent) == 0


# ---------------------------------------------------------------- settings

def test_settings_page_shows_values_help_and_rule_description(org, login):
    page = html(login("admin").get("/admin/settings"))
    for spec in settings.SPECS.values():
        assert spec.label in page
    assert "每行一个日期,如 2031-01-01" in page
    assert "次个工作日结束前" in page  # eod:1 with working days on


def test_valid_settings_change_persists_and_is_audited(org, login):
    client = login("admin")
    response = client.post("/admin/settings", data=settings_form(
        brand_name=" 新品牌 ", formal_points_threshold="0800", registration_review_due=" hours:24 ",
        extra_holidays="2031-01-02\n\n2031-01-01\n2031-01-02", working_days=None),
        follow_redirects=True)
    assert response.status_code == 200 and "已保存 5 项设置" in html(response)
    assert settings.get("brand_name") == "新品牌"
    assert settings.get("formal_points_threshold") == "800"
    assert settings.get("registration_review_due") == "hours:24"
    assert settings.get("extra_holidays") == "2031-01-01\n2031-01-02"
    assert settings.get_bool("working_days") is False
    assert "24小时内" in html(response)
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.object_type == "setting")
                                .order_by(AuditEvent.id)).all()
    assert {e.data["key"]: (e.data["old"], e.data["new"]) for e in events} == {
        "brand_name": ("XX男装", "新品牌"), "formal_points_threshold": ("1000", "800"),
        "registration_review_due": ("eod:1", "hours:24"),
        "extra_holidays": ("", "2031-01-01\n2031-01-02"), "working_days": ("1", "0")}
    assert all(e.action == "setting_changed" and e.actor_id == org["admin"].id for e in events)
    # Posting the same values again changes nothing and writes no audit.
    response = client.post("/admin/settings", data=settings_form(
        brand_name="新品牌", formal_points_threshold="800", registration_review_due="hours:24",
        extra_holidays="2031-01-01\n2031-01-02", working_days=None), follow_redirects=True)
    assert "设置没有变化" in html(response)
    assert count(AuditEvent) == 5


@pytest.mark.parametrize("key,value,message", [
    ("registration_review_due", "eod:x", "期限规则格式不正确"),
    ("registration_completion_due", "dom:32", "期限规则格式不正确"),
    ("cashback_points", "-5", "请输入不小于0的整数"),
    ("cashback_points", "1.5", "请输入不小于0的整数"),
    ("hotline", "   ", "此项不能为空"),
    ("company_name", "公" * 101, "不能超过100个字"),
    ("extra_workdays", "2031-01-01\n2031-02-30", "第2行“2031-02-30”不是有效日期"),
    ("extra_holidays", "2031/01/01", "第1行“2031/01/01”不是有效日期"),
])
def test_invalid_setting_is_refused_and_nothing_changes(org, login, key, value, message):
    response = login("admin").post("/admin/settings", data=settings_form(
        brand_name="会被丢弃的新品牌", **{key: value}))
    assert response.status_code == 422
    page = html(response)
    assert message in page and "所有设置均未保存" in page
    assert re.search(rf'id="setting-{key}" class="has-error"', page)
    assert count(Setting) == 0 and count(AuditEvent) == 0
    assert settings.get("brand_name") == "XX男装"


# ---------------------------------------------------------------- CSRF

def test_post_without_csrf_token_gets_the_expired_page_message(app, org, login):
    client = login("admin")
    saved = app.config["WTF_CSRF_ENABLED"]
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        response = client.post("/admin/areas", data={"name": "三区"})
        assert response.status_code == 400
        assert "页面已过期" in html(response)
        assert count(Area) == 2
        # With the token from the page the same request goes through.
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"',
                          html(client.get("/admin/areas"))).group(1)
        response = client.post("/admin/areas", data={"name": "三区", "csrf_token": token})
        assert response.status_code == 302 and count(Area) == 3
    finally:
        app.config["WTF_CSRF_ENABLED"] = saved


def test_a_setting_changed_elsewhere_is_seen_by_the_next_transaction(org, app):
    """Settings are read once per transaction (webapp/settings.py): a change by another session
    (the admin page, in another process) shows after this transaction ends, and this session's
    own change at once."""
    assert settings.get("brand_name") == settings.SPECS["brand_name"].default
    other = db.session.session_factory()  # a second session, as another request would have
    other.add(Setting(key="brand_name", value="别处改的"))
    other.commit()
    other.close()
    db.session.commit()
    assert settings.get("brand_name") == "别处改的"
    settings.put("brand_name", "本处改的")
    assert settings.get("brand_name") == "本处改的"
