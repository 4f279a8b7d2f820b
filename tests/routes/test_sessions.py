"""Sessions: cookie flags, lifetime and idle timeout, logout and password change end every other
session (a replayed cookie gets the login page), the current password and the policy."""
import time_machine

from webapp.extensions import db
from webapp.models import User


def _fresh():
    """The tests share one app context, so `g` (where Flask-Login keeps the request's user) would
    carry the last request's user into the next; a real request starts without one."""
    from flask import g

    g.pop("_login_user", None)


def _replay(app, cookie: str):
    other = app.test_client()
    other.set_cookie("session", cookie)
    _fresh()
    return other.get("/")


def test_cookie_flags(app, org, client):
    response = client.post("/login", data={"username": "assoc1", "password": "pw"})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert app.config["SESSION_COOKIE_SECURE"] is False  # plain http outside production
    import config
    assert config.Config.SESSION_COOKIE_SAMESITE == "Lax"


def test_logout_ends_every_copy_of_the_session(app, org, login):
    client = login("assoc1")
    stolen = client.get_cookie("session").value
    assert _replay(app, stolen).status_code == 200
    _fresh()
    client.post("/logout")
    replayed = _replay(app, stolen)
    assert replayed.status_code == 302 and "/login" in replayed.headers["Location"]


def test_password_change_needs_the_current_one_and_ends_other_sessions(app, org, login):
    client = login("assoc1")
    elsewhere = app.test_client()
    assert elsewhere.post("/login", data={"username": "assoc1", "password": "pw"}).status_code == 302
    wrong = client.post("/password", data={"current": "nope", "password": "Blue-Harbour-42",
                                           "confirm": "Blue-Harbour-42"})
    assert wrong.status_code == 422 and "当前密码不正确" in wrong.get_data(as_text=True), wrong.headers.get("Location")
    for weak, message in (("password123", "太常见"), ("1234567890", "太常见"), ("assoc1-assoc1", "用户名")):
        response = client.post("/password", data={"current": "pw", "password": weak, "confirm": weak})
        assert response.status_code == 422 and message in response.get_data(as_text=True), weak
    assert db.session.get(User, org["assoc1"].id).check_password("pw")
    ok = client.post("/password", data={"current": "pw", "password": "Blue-Harbour-42",
                                        "confirm": "Blue-Harbour-42"})
    assert ok.status_code == 302
    _fresh()
    assert client.get("/").status_code == 200  # this session goes on
    _fresh()
    assert elsewhere.get("/").status_code == 302  # the other one ended


def test_idle_and_absolute_timeouts(app, org, client):
    saved = app.config["SESSION_HOURS"], app.config["SESSION_IDLE_MINUTES"]
    app.config["SESSION_HOURS"], app.config["SESSION_IDLE_MINUTES"] = 12, 120
    try:
        with time_machine.travel("2026-11-29 01:00:00+00:00", tick=False) as clock:
            client.post("/login", data={"username": "assoc1", "password": "pw"})
            for _ in range(6):  # busy: a request every 110 minutes keeps the login alive...
                clock.shift(110 * 60)
                assert client.get("/").status_code == 200
            clock.shift(110 * 60)  # ...but not past 12 hours
            assert client.get("/").status_code == 302
            client.post("/login", data={"username": "assoc1", "password": "pw"})
            clock.shift(121 * 60)  # idle too long
            response = client.get("/")
            assert response.status_code == 302 and "/login" in response.headers["Location"]
    finally:
        app.config["SESSION_HOURS"], app.config["SESSION_IDLE_MINUTES"] = saved


def test_only_demo_users_keep_demo_and_only_outside_production(app, org, client):
    user = org["assoc1"]
    user.set_password("demo")
    db.session.commit()
    response = client.post("/login", data={"username": "assoc1", "password": "demo"})
    assert response.headers["Location"].endswith("/password")  # not a demo user: must change
    client.post("/logout")
    demo = User(username="associate", display_name="演示", role=user.role, store_id=user.store_id)
    demo.set_password("demo")
    db.session.add(demo)
    db.session.commit()
    response = client.post("/login", data={"username": "associate", "password": "demo"})
    assert response.headers["Location"].endswith("/")  # the demo's own user, in a demo
    client.post("/logout")
    app.config["PRODUCTION"] = True
    try:
        response = client.post("/login", data={"username": "associate", "password": "demo"})
    finally:
        app.config["PRODUCTION"] = False
    assert response.headers["Location"].endswith("/password")
