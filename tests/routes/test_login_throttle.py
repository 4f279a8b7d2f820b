"""Failed logins slow the guesser down, never lock the real user out; one message, one timing."""
import statistics
import time

import time_machine
from sqlalchemy import select

from webapp.extensions import db
from webapp.models import LoginAttempt

WRONG = "用户名或密码错误"


def _login(client, username, password, ip="10.0.0.1"):
    return client.post("/login", data={"username": username, "password": password},
                       environ_base={"REMOTE_ADDR": ip})


def test_failures_from_one_address_bring_growing_delays_not_a_lock(org, client):
    with time_machine.travel("2026-11-29 02:00:00+00:00", tick=False) as clock:
        for _ in range(5):
            assert WRONG in _login(client, "assoc1", "wrong").get_data(as_text=True)
        slowed = _login(client, "assoc1", "pw")  # even the right password waits its turn
        assert slowed.status_code == 401 and "2秒后再试" in slowed.get_data(as_text=True)
        clock.shift(2)
        assert WRONG in _login(client, "assoc1", "wrong").get_data(as_text=True)
        assert "4秒后再试" in _login(client, "assoc1", "pw").get_data(as_text=True)  # growing
        clock.shift(4)
        assert _login(client, "assoc1", "pw").status_code == 302  # no 15-minute lock


def test_an_attacker_elsewhere_costs_the_real_user_a_minute_at_most(org, client):
    with time_machine.travel("2026-11-29 02:00:00+00:00", tick=False) as clock:
        for i in range(40):  # from many addresses, against one account
            _login(client, "assoc1", "guess", ip=f"198.51.100.{i % 8}")
        clock.shift(60)
        assert _login(client, "assoc1", "pw", ip="10.0.0.1").status_code == 302
        # and another account was never slowed
        assert _login(client, "assoc1b", "pw", ip="198.51.100.1").status_code == 302


def test_unknown_names_and_wrong_passwords_read_and_take_the_same(org, client):
    def timed(username):
        started = time.perf_counter()
        response = _login(client, username, "wrong-password", ip=f"10.1.{len(username)}.1")
        return time.perf_counter() - started, response.get_data(as_text=True)

    user = org["assoc1"]  # the factories' cheap test hash would make a real user the fast one
    user.set_password("pw")
    db.session.commit()
    # taking turns, so that a change in the machine's load falls on both sides alike
    pairs = [(timed("assoc1"), timed("nobody-here")) for _ in range(5)]  # 5: below the throttle
    known, unknown = [k for k, _ in pairs], [u for _, u in pairs]
    assert all(WRONG in body for _, body in known + unknown)
    ratio = statistics.median(t for t, _ in unknown) / statistics.median(t for t, _ in known)
    # before the fix 20 ms against 210 ms (10×); the bounds leave room for a loaded machine
    assert 1 / 3 < ratio < 3, ratio


def test_forwarded_for_is_believed_only_from_the_proxy(app, org, client):
    saved = app.config["FORWARDED_ALLOW_IPS"]
    try:
        app.config["FORWARDED_ALLOW_IPS"] = "10.9.9.9"
        client.post("/login", data={"username": "x1", "password": "y"},
                    headers={"X-Forwarded-For": "203.0.113.7"}, environ_base={"REMOTE_ADDR": "10.9.9.9"})
        client.post("/login", data={"username": "x2", "password": "y"},
                    headers={"X-Forwarded-For": "203.0.113.8"}, environ_base={"REMOTE_ADDR": "10.5.5.5"})
    finally:
        app.config["FORWARDED_ALLOW_IPS"] = saved
    ips = dict(db.session.execute(select(LoginAttempt.username, LoginAttempt.ip)).all())
    assert ips == {"x1": "203.0.113.7", "x2": "10.5.5.5"}
