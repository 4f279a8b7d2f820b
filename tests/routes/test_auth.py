"""Login, throttling, first-login password change, deactivated accounts, CSRF on the login form."""
import re
from datetime import timedelta

from sqlalchemy import select

from webapp import clock
from webapp.extensions import db
from webapp.models import LoginAttempt, User

LOCKED = "登录失败次数过多,账户已临时锁定,请稍后再试"


def html(response) -> str:
    return response.get_data(as_text=True)


def attempts(username: str) -> list[bool]:
    return db.session.scalars(select(LoginAttempt.ok).where(LoginAttempt.username == username)
                              .order_by(LoginAttempt.id)).all()


def test_login_and_logout(org, client):
    response = client.post("/login", data={"username": "hq", "password": "pw"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/")
    assert client.get("/").status_code == 200
    client.post("/logout")
    response = client.get("/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert attempts("hq") == [True]


def test_wrong_password_is_refused_in_chinese(org, client):
    response = client.post("/login", data={"username": "hq", "password": "nope"})
    assert response.status_code == 401 and "用户名或密码错误" in html(response)
    response = client.post("/login", data={"username": "nobody", "password": "pw"})
    assert response.status_code == 401 and "用户名或密码错误" in html(response)
    assert attempts("hq") == [False] and attempts("nobody") == [False]


def test_empty_login_form_is_explained(org, client):
    page = html(client.post("/login", data={"username": "", "password": ""}))
    assert "请输入用户名" in page and "请输入密码" in page


def test_must_change_password_is_forced_until_done(org, client):
    user = org["manager1"]
    user.must_change_password = True
    db.session.commit()
    response = client.post("/login", data={"username": "manager1", "password": "pw"})
    assert response.headers["Location"].endswith("/password")
    for url in ("/", "/members", "/notifications"):
        response = client.get(url)
        assert response.status_code == 302 and response.headers["Location"].endswith("/password"), url
    page = html(client.get("/password"))
    assert "首次登录请先设置您自己的密码" in page
    response = client.post("/password", data={"current": "pw", "password": "short", "confirm": "short"})
    assert "密码至少10位" in html(response)
    response = client.post("/password", data={"current": "pw", "password": "long-enough-1",
                                              "confirm": "different"})
    assert "两次输入的密码不一致" in html(response)
    assert db.session.get(User, user.id).must_change_password is True
    response = client.post("/password", data={"current": "pw", "password": "long-enough-1",
                                              "confirm": "long-enough-1"})
    assert response.status_code == 302
    assert client.get("/").status_code == 200


def test_deactivated_user_cannot_log_in_and_loses_their_session(org, client, login):
    login("assoc1")
    assert client.get("/").status_code == 200
    user = org["assoc1"]
    user.active = False
    db.session.commit()
    response = client.get("/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    response = client.post("/login", data={"username": "assoc1", "password": "pw"})
    assert response.status_code == 401 and "用户名或密码错误" in html(response)


def test_login_without_csrf_token_gets_the_expired_page_message(app, org, client):
    saved = app.config["WTF_CSRF_ENABLED"]
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        response = client.post("/login", data={"username": "hq", "password": "pw"})
        assert response.status_code == 400 and "页面已过期" in html(response)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"',
                          html(client.get("/login"))).group(1)
        response = client.post("/login", data={"username": "hq", "password": "pw",
                                                "csrf_token": token})
        assert response.status_code == 302
    finally:
        app.config["WTF_CSRF_ENABLED"] = saved


def test_login_page_sends_a_logged_in_user_to_their_inbox(org, login):
    client = login("hq")
    response = client.get("/login")
    assert response.status_code == 302 and response.location.endswith("/")


def test_language_switch_returns_only_to_a_page_of_this_site(org, login):
    client = login("hq")
    back = client.get("/lang/en", headers={"Referer": "http://localhost/members?q=1"})
    assert back.location == "/members?q=1"
    for referer in ("https://evil.example/phish", "//evil.example/", "http://localhost.evil/",
                    "/\t/evil.example/", "javascript:alert(1)"):
        response = client.get("/lang/zh_CN", headers={"Referer": referer})
        assert response.status_code == 302 and response.location == "/", referer


def test_next_after_an_action_stays_on_this_site(org, login):
    from tests.factories import register

    case = register(org)
    client = login("hq")
    for target in ("/\t/evil.example/", "/\\evil.example/", "//evil.example/",
                   "https://evil.example/", "/members\r\nSet-Cookie: x=1", " /x"):
        response = client.post("/cases/bulk-approve", data={"next": target})
        assert response.status_code == 302, target
        assert response.location == "/", target
    response = client.post(f"/cases/{case.id}/approve",
                           data={"version": case.version, "next": "/registrations/review?day=x"})
    assert response.location == "/registrations/review?day=x"
