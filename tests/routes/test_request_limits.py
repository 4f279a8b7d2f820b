"""Bodies have a size limit, the till API a rate per token, and unknown methods a 405."""
import pytest
import time_machine

from tests.sales.test_api import _item, _post, _token


@pytest.mark.parametrize("path", ["/login", "/", "/no-such-page", "/api/v1/sales"])
@pytest.mark.parametrize("method", ["TRACE", "PROPFIND", "FOO"])
def test_trace_and_unknown_methods_are_405(app, client, path, method):
    response = client.open(path, method=method)
    assert response.status_code == 405 and "Allow" in response.headers
    assert "TRACE" not in response.headers["Allow"]


def test_the_till_api_refuses_a_body_over_its_limit(app, client, org):
    secret = _token(org)
    big = b'{"sales": [' + b'{"x": "' + b"a" * (app.config["API_MAX_CONTENT_LENGTH"] + 10) + b'"}]}'
    response = client.post("/api/v1/sales", data=big, content_type="application/json",
                           headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 413 and "error" in response.get_json()


def test_a_page_refuses_a_body_over_the_upload_limit(app, org, login):
    client = login("hq")
    saved = app.config["MAX_CONTENT_LENGTH"]
    app.config["MAX_CONTENT_LENGTH"] = 10_000
    try:
        response = client.post("/login", data={"username": "x" * 20_000, "password": "y"})
    finally:
        app.config["MAX_CONTENT_LENGTH"] = saved
    assert response.status_code == 413 and "提交的内容过大" in response.get_data(as_text=True)


def test_the_till_api_is_rate_limited_per_token(app, client, org):
    first, second = _token(org), _token(org, 1)
    saved = app.config["API_RATE_PER_MINUTE"]
    app.config["API_RATE_PER_MINUTE"] = 3
    try:
        with time_machine.travel("2026-11-29 10:00:05+00:00", tick=False):
            codes = [_post(client, first, [_item(f"N{i}")]) for i in range(5)]
            other = _post(client, second, [_item("M1")]).status_code  # another till is not slowed
        with time_machine.travel("2026-11-29 10:01:01+00:00", tick=False):
            next_minute = _post(client, first, [_item("N9")]).status_code
    finally:
        app.config["API_RATE_PER_MINUTE"] = saved
    assert [c.status_code for c in codes] == [200, 200, 200, 429, 429]
    assert codes[3].headers["Retry-After"] == "55" and "频繁" in codes[3].get_json()["error"]
    assert other == 200 and next_minute == 200
