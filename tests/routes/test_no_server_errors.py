"""No request ends in a 500: every URL rule of the app, for several roles, with hostile input.

The house rule: bad input gets a clear message in the user's language and changes nothing; no
request ends in a 500. This module walks `app.url_map` — so a new route is probed without anyone
remembering to — and sends each rule a table of bad values: ids that do not exist or overflow the
database, made-up transitions and steps, garbage query strings, empty and garbage forms, forms
valid but for dates and amounts at the edge of the calendar, forged uploads and JSON bodies; and,
with CSRF switched on as in production, posts without a token. Real data (a member under review,
a complaint, batches, a till token) lets the probes with real ids reach the code behind the
look-ups. Nothing is mocked: the tables below are the test.
"""
from __future__ import annotations

import itertools
import re
from contextlib import contextmanager
from io import BytesIO
from pathlib import Path
from urllib.parse import quote

import flask
import pytest
from sqlalchemy import func, select
from werkzeug.routing import IntegerConverter

from tests.complaint_helpers import record
from tests.factories import make_org, register
from webapp.extensions import db
from webapp.models import BatchJob, Task
from webapp.services import analyses, sales
from webapp.workflows import engine

HUGE = "99999999999999999999"  # beyond 64 bits: a Python int, an overflow in the database
BAD_IDS = ("0", HUGE)  # no such row; beyond any id column
BAD_WORDS = (quote("nonexistent_transition' OR 1=1 --"), "%ff", "x" * 3000)  # %ff: not UTF-8
LONG = "长" * 5000

# Query strings, sent raw (so "%ff" reaches the app undecoded), to the rules whose view reads the
# query string. Each sets the parameters the pages read to one kind of garbage; where a page
# checks one parameter before another (the scope before the period, say), the later variants
# leave the first one empty or valid so that the garbage in the second is read too.
QUERIES = (
    "scope=store:abc&scope_id=x&page=-1&year=-1&period=2026-13&month=2026-00&day=2026-13-45"
    "&store_id=x&format=xyz&q=%27+OR+1%3D1+--&state=x&kind=x&role=x&active=x&tier=x&status=x",
    f"scope=store:{HUGE}&scope_id={HUGE}&page={HUGE}&year={HUGE}&store_id={HUGE}&day={HUGE}",
    f"scope=&period={HUGE}&month={HUGE}&day=0001-01-01&q={LONG[:1000]}&state={LONG[:200]}"
    f"&kind={LONG[:200]}&tier={LONG[:200]}&role={LONG[:200]}&format={LONG[:200]}",
    "scope=area:²&scope_id=²&page=²&year=²&store_id=²"  # "²".isdigit(), but int() refuses it
    "&day=%ff&q=%ff&format=%ff&state=%ff&download=%ff&active=%ff&role=%ff&all=%ff",
    "period=²&month=²&format=json",
    "period=0001-01&month=9999-12&year=9999&day=9999-12-31&format=xlsx",
    "period=2100&month=0001-01&year=1&scope=store:1&scope_id=1&download=1",
    # a NUL and other control characters (PostgreSQL refuses a NUL in a string)
    "q=%00&day=2026-11-30%00&month=2026-11%00&period=2026-10%00&scope=company%00&state=%01"
    "&kind=%1b&status=%7f&page=1%00&next=%0d%0a/x",
)

# The form fields the pages read, and the garbage posted in them (to the rules whose view reads
# the form). No "confirm": a garbage new password matching it would be accepted, and a
# mismatch is already bad input.
FIELDS = ("version", "comment", "next", "item", "day", "month", "token", "name", "code", "area_id",
          "store_id", "role", "active", "username", "amount", "display_name", "channel",
          "contact", "customer_name", "product", "description", "customer_wants", "received_at",
          "reply_text", "agreed_reply_at", "solution_text", "consent_by", "consent_how",
          "consent_at", "revisit_note", "survey_score", "survey_comment", "mobile", "gender",
          "birth_date", "applied_on", "associate_id", "anniversaries-0-name", "anniversaries-0-day", "email", "address",
          "occupation", "heard_from")
GARBAGE_FORMS = (
    {},
    {**{f: "' OR 1=1 --" for f in FIELDS}, "version": "²", "item": "²:²", "store_id": "²",
     "area_id": "²", "associate_id": "²", "survey_score": "²"},
    {**{f: HUGE for f in FIELDS}, "item": f"{HUGE}:{HUGE}", "password": HUGE},
    {**{f: LONG[:200] for f in FIELDS}, "comment": LONG, "description": LONG, "password": LONG},
    ("application/x-www-form-urlencoded",  # not UTF-8
     b"version=%ff&comment=%ff&day=%ff&month=%ff&token=%ff&name=%ff&item=%ff&q=%ff"),
    ("application/json", b'[1, {"version": [1], "comment": {"a": 1}}]'),  # Flask-WTF reads JSON
    {**{f: "x\x00y" for f in FIELDS}, "password": "\x00"},  # a NUL in every field
    {f: "\x01\x1b\x7f" for f in FIELDS},  # other control characters
    # `next` that a header cannot carry, or that a browser resolves off-site
    {"version": "1", "item": "1:1", "comment": "x", "next": "/members\r\nSet-Cookie: a=b"},
    {"version": "1", "item": "1:1", "comment": "x", "next": "/\t/evil.example/"},
)


def _nearly_valid_forms(real):
    """Two forms valid but for their dates and amounts (the last and the first day a date field
    can hold), so that those reach the code behind the validators."""
    valid = {"version": "1", "comment": "x", "item": f"{real['case_id'][0]}:1", "name": "x",
             "code": "X9", "area_id": str(real["area_id"][0]), "store_id": str(real["store_id"][0]),
             "role": "associate", "username": "probe", "display_name": "x", "channel": "phone",
             "contact": "13900002222", "description": "x", "reply_text": "x",
             "solution_text": "x", "consent_by": "x", "consent_how": "phone", "revisit_note": "x",
             "survey_score": "5", "mobile": "13900003333", "gender": "M",
             "associate_id": str(real["user_id"][0]), "address": "x", "occupation": "other",
             "heard_from": "other", "token": "x"}
    return tuple(
        {**valid, **{f: moment for f in ("received_at", "agreed_reply_at", "consent_at")},
         **{f: day for f in ("day", "birth_date", "applied_on", "anniversaries-0-day")},
         "month": day[:7], "amount": amount}
        for moment, day, amount in (("9999-12-31T23:59", "9999-12-31", "1e999999"),
                                    ("0001-01-01T00:00", "0001-01-01", "-0.001"))) + (
        # valid, but without the optional choices (occupation, heard_from) a browser always sends
        {**{k: v for k, v in valid.items() if k not in ("occupation", "heard_from")},
         "birth_date": "1990-01-01", "applied_on": "2026-11-20", "day": "2026-11-20",
         "month": "2026-11", "received_at": "2026-11-20T10:00", "amount": "1"},)


# Bodies other than a form, for the endpoints that read them.
UPLOADS = (("sales.xlsx", b"PK\x03\x04garbage"), ("sales.csv", b"\xff\xfe\x00,,,\n\x00\"\n"),
           ("sales.csv", "门店编码,销售单号\nS1,\n".encode("gbk")), ("", b""),
           ("sales.csv", "门店编码,销售单号,销售时间,金额,件数\nS1,N\x001,2026-10-05 10:00,1,1\n"
            .encode()))  # a NUL in a cell
API_BODIES = (
    b"", b"not json", b"[" * 100000 + b"]" * 100000, b'{"sales": "x"}', b'{"sales": [1, []]}',
    b'{"sales": [{"amount": 1e999999, "sold_at": 5, "items": 1e400}]}',
    b'{"sales": [{"sold_at": "9999-12-31T23:59:59+14:00", "amount": "99999999999999999999",'
    b' "sale_no": "' + b"x" * 3000 + b'", "store_code": "S1", "items": 99999999999999999999}]}',
    b'{"sales": [{"sold_at": "0001-01-01T00:00:00-14:00", "amount": "-0", "items": -1,'
    b' "sale_no": "N1", "member_mobile": "\\ud800", "return_of": "' + HUGE.encode() + b'"}]}',
    b'{"sales": [{"store_code": "S1", "sale_no": "N\\u00001", "sold_at": "2026-10-05T10:00:00+08:00",'
    b' "amount": "1", "items": 1, "member_card": "\\u0000"}]}',  # a NUL in a string
)

# Who probes, in which language (a translation can break a message that the Chinese renders).
ROLES = ((None, "zh_CN"), ("assoc1", "en"), ("manager1", "zh_CN"), ("supervisor1", "en"),
         ("hq", "zh_CN"), ("admin", "en"))
CSRF_MESSAGE = {"zh_CN": "安全令牌无效", "en": "invalid security token"}

def _world(app, username, lang):
    """Real values for the path arguments, by name, from data built for them; the till secret.
    Built in an app context of its own, closed before the probes: each request then has its own,
    as in production (a shared one would carry the locale and the user over in `g`)."""
    with app.app_context():
        org = make_org()
        case = register(org)
        complaint = record(org)
        task = db.session.scalars(select(Task).where(Task.case_id == case.id)).first()
        token, secret = sales.create_token(actor=org["admin"], store=org.stores[0], name="收银机1")
        batches = []
        if username:  # a batch is its requester's only: one queued, one done with its file
            pdf = Path(app.instance_path) / "batches" / f"probe-{username}.pdf"
            pdf.parent.mkdir(exist_ok=True)
            pdf.write_bytes(b"%PDF-1.4\n%%EOF\n")
            batches = [BatchJob(kind="application_forms", requested_by_id=org[username].id,
                                params={"day": "2026-11-20"}, total=1, status=status,
                                file_path=path)
                       for status, path in (("queued", None), ("done", str(pdf)))]
            db.session.add_all(batches)
            db.session.commit()
        real = {"case_id": [case.id, complaint.id], "member_id": [case.member_id],
                "task_id": [task.id], "token_id": [token.id], "batch_id": [b.id for b in batches],
                "user_id": [org["assoc1b"].id], "store_id": [org.stores[0].id],
                "area_id": [org.areas[0].id], "transition": ["approve", "send_back"],
                "step": ["escalate", "consent", "survey"], "field": ["mobile"],
                "code": sorted(("en", "zh_CN"), key=lambda code: code == lang),  # own one last
                "name": list(engine.REGISTRY), "kind": list(analyses.KINDS)}
        db.session.remove()
    return real, secret


def _urls(rule, real):
    """The rule filled with real values (each used at least once), then with each argument in
    turn made bad."""
    args = sorted(rule.arguments)
    values = {a: sorted(getattr(rule._converters[a], "items", ())) or real.get(a, []) for a in args}
    good = []
    if all(values.values()):  # an anonymous user has no batch
        longest = max((len(v) for v in values.values()), default=1)
        good = [{a: str(values[a][i % len(values[a])]) for a in args} for i in range(longest)]
    bad = [{**{a: str(values[a][0]) if values[a] else "1" for a in args}, arg: value}
           for arg in args for value in (
               BAD_IDS if isinstance(rule._converters[arg], IntegerConverter) else BAD_WORDS)]
    return [_fill(rule, v) for v in good], [_fill(rule, v) for v in bad]


def _fill(rule, values):
    """The URL with the values as they are (not quoted: "%ff" must reach the app raw)."""
    return re.sub(r"<(?:[^<>]*:)?(\w+)>", lambda m: values[m.group(1)], rule.rule)


def _probes(app, real, secret):
    """(rule, plain requests, other requests by what they need the view to read), for every rule
    but the static files, logout last. A request is (method, url, test-client keywords)."""
    rules = sorted((r for r in app.url_map.iter_rules() if r.endpoint != "static"),
                   key=lambda r: (r.endpoint == "auth.logout", r.rule))
    for rule in rules:
        methods = sorted(rule.methods & {"GET", "POST"})
        good, bad = _urls(rule, real)
        plain = [(method, url, {}) for url in good for method in methods]
        rest = {"path": [(method, url, {}) for url in bad for method in methods],
                "args": [], "form": [], "body": []}
        if rule.rule.endswith(".pdf"):
            # A real PDF takes WeasyPrint a while (seconds for the first); what a user can get
            # wrong here (id, scope, period) is probed in its path and on the HTML page.
            yield rule, rest["path"], {**rest, "path": []}
            continue
        if good and "GET" in methods:  # the queries shared out among the rule's URLs
            rest["args"] = [("GET", f"{good[i % len(good)]}?{query}", {})
                            for i, query in enumerate(QUERIES)]
        if good and "POST" in methods:  # so is the garbage; each URL gets the nearly valid
            posts = [(good[i % len(good)], form) for i, form in enumerate(GARBAGE_FORMS)]
            posts += [(url, form) for url in good for form in _nearly_valid_forms(real)]
            rest["form"] = [("POST", url, {"data": form} if isinstance(form, dict) else
                             {"content_type": form[0], "data": form[1]}) for url, form in posts]
        if rule.endpoint == "sales.import_file":
            rest["body"] = [("POST", good[0], {"data": {"file": (BytesIO(data), name)}})
                            for name, data in UPLOADS]
        if rule.endpoint == "api.post_sales":
            rest["body"] = [("POST", good[0], {"data": body, "content_type": "application/json",
                                               "headers": {"Authorization": f"Bearer {auth}"}})
                            for body, auth in itertools.product(API_BODIES, (secret, "%ff"))]
        yield rule, plain, rest


@contextmanager
def _reads(app):
    """What each request's view read: werkzeug parses the query string and the form once, on
    first use, and keeps them on the request ("args", "form" in its __dict__)."""
    seen = []

    def finished(sender, response, **extra):
        seen.append({key for key in ("args", "form") if key in flask.request.__dict__})

    flask.request_finished.connect(finished, app)
    try:
        yield seen
    finally:
        flask.request_finished.disconnect(finished, app)


def _send(client, method, url, kwargs):
    """(response, None) when the app answered without a server error, else (None, what)."""
    try:
        response = client.open(url, method=method, **kwargs)
    except Exception as exc:  # noqa: BLE001 — TESTING propagates it; list every one
        return None, f"raised {type(exc).__name__}: {exc}"[:300]
    cookie = client.get_cookie("session")
    if cookie and len(cookie.value) > 2000:
        # A browser shows the flashed messages on the next page, which we do not always fetch:
        # drop them, or the session cookie grows with every probe.
        with client.session_transaction() as session:
            session.pop("_flashes", None)
    if response.status_code >= 500 and not (url.startswith("/healthz")
                                            and response.status_code == 503):
        return None, f"answered {response.status_code}"  # /healthz: 503 means "no worker"
    return response, None


def _refused(response) -> bool:
    """The role may not use this URL at all (login_required, require): its input is not read."""
    return response.status_code in (401, 403) or (
        response.status_code == 302 and response.location.startswith("/login"))


def _start(app, client, login, username, lang):
    real, secret = _world(app, username, lang)
    if username:
        login(username)
    client.get(f"/lang/{lang}")
    return real, secret


@pytest.mark.slow  # every rule, six roles: half a minute; `make test` runs it, test-fast not
@pytest.mark.parametrize("username,lang", ROLES, ids=lambda v: v or "anonymous")
def test_no_request_ends_in_a_server_error(app, client, login, username, lang):
    """Plain requests first; if the role is let in, the bad paths, then the garbage queries and
    forms if the view reads a query string or a form at all (seen on the plain requests)."""
    real, secret = _start(app, client, login, username, lang)
    failures = []

    def send(method, url, kwargs):
        response, problem = _send(client, method, url, kwargs)
        if problem:
            failures.append(f"{method} {url[:120]} {problem}")
        return response

    with _reads(app) as reads:
        for _rule, plain, rest in _probes(app, real, secret):
            del reads[:]
            responses = [send(*request) for request in plain]
            if any(r is not None and _refused(r) for r in responses):
                continue
            read = set().union(*reads)
            for kind in ("path", "args", "form", "body"):
                if kind in ("path", "body") or kind in read:
                    for request in rest[kind]:
                        send(*request)
    assert not failures, f"{len(failures)} probes failed:\n" + "\n".join(failures[:80])


def test_a_wrong_method_is_a_405_page(app, client, login):
    """Every rule asked with a method it does not take, logged out and in: 405, in words."""
    real, _secret = _start(app, client, login, None, "zh_CN")
    routes = app.url_map.bind("localhost")
    for logged_in in (False, True):
        if logged_in:
            login("manager1")
        for rule in app.url_map.iter_rules():
            good, bad = _urls(rule, real)
            url, method = (good or bad)[0], "POST" if "POST" not in rule.methods else "PUT"
            if routes.test(url, method):  # another rule's: POST /complaints/1/form.pdf is a step
                continue
            response = client.open(url, method=method)
            assert response.status_code == 405 and response.headers.get("Allow"), rule.rule
            text = response.get_json()["error"] if response.is_json else response.data.decode()
            assert "不支持的操作" in text, rule.rule  # JSON under /api/, a page elsewhere


def _row_counts(app):
    with app.app_context():
        return {t.name: db.session.execute(select(func.count()).select_from(t)).scalar()
                for t in db.metadata.sorted_tables}


@pytest.mark.parametrize("username,lang", ((None, "zh_CN"), ("hq", "zh_CN"), ("admin", "en")),
                         ids=lambda v: v or "anonymous")
def test_a_post_without_csrf_token_is_refused_with_a_message(app, client, login, username, lang):
    """As configured for production (TestConfig turns CSRF off unless TEST_CSRF=1): every form
    post without a token is a 400 that says why, and changes nothing; the till API needs none."""
    real, _secret = _start(app, client, login, username, lang)
    before = _row_counts(app)
    enabled = app.config["WTF_CSRF_ENABLED"]
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        for rule in app.url_map.iter_rules():
            if "POST" not in rule.methods:
                continue
            for url in _urls(rule, real)[0]:
                response, problem = _send(client, "POST", url, {"data": GARBAGE_FORMS[1]})
                assert problem is None, f"POST {url} {problem}"
                if rule.endpoint.startswith("api."):
                    assert response.status_code == 401, url
                else:
                    assert response.status_code == 400, url
                    assert CSRF_MESSAGE[lang] in response.data.decode(), url
    finally:
        app.config["WTF_CSRF_ENABLED"] = enabled
    assert _row_counts(app) == before


def test_print_day_refuses_a_day_out_of_range(org, login):
    client = login("hq")
    for day in ("9999-12-31", "0001-01-01"):
        response = client.post("/registrations/print", data={"day": day})
        assert response.status_code == 302 and response.location.endswith("/registrations/print")


def test_review_list_refuses_a_day_out_of_range(org, login):
    response = login("hq").get("/registrations/review?day=0001-01-01")
    assert response.status_code == 200 and "请选择有效的日期" in response.data.decode()


def test_a_batch_whose_file_is_gone_is_a_404(org, login):
    batch = BatchJob(kind="application_forms", requested_by_id=org["hq"].id, total=1,
                     params={"day": "2026-11-20"}, status="done", file_path="/nonexistent.pdf")
    db.session.add(batch)
    db.session.commit()
    assert login("hq").get(f"/batches/{batch.id}/download").status_code == 404
