"""The API and its OpenAPI document agree: schemathesis generates requests (valid and invalid) from
/api/v1/openapi.json and runs them against the app (WSGI, no server) with a till token and a
logged-in HQ session; a bounded number of examples keeps the run well under a minute."""
import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from webapp.services import sales
from webapp.views import api

CREDENTIALS: dict = {}
# A schema-valid batch may still be refused with 422 for what no schema can know (an unknown card or
# store, a return of a missing sale, a repeated number); `no_schema_error_on_valid_data` below checks
# that such a 422 never names a type, pattern or missing field, which the document does promise.
CONFIG = schemathesis.config.SchemathesisConfig.from_dict({"checks": {"positive_data_acceptance": {
    "expected-statuses": ["2xx", "401", "403", "404", "409", "422"]}}})


@schemathesis.check
def no_schema_error_on_valid_data(ctx, response, case):
    """A request the document calls valid is never refused for its shape."""
    if case.meta is None or not case.meta.generation.mode.is_positive or response.status_code != 422:
        return None
    body = response.json()
    shape = [e for e in body.get("errors", []) if e["message"] in api.SCHEMA_MESSAGES] or (
        [body] if not body.get("errors") else [])
    assert not shape, f"schema-valid request refused for its shape: {shape}"
    return None


@schemathesis.auth(refresh_interval=None)
class TillTokenAndSession:
    """The till token on /sales, the session cookie on the analyses; left off when a case tests
    a request without them (schemathesis then expects the 401)."""

    def get(self, case, context):
        return CREDENTIALS

    def set(self, case, data, context):
        if case.path == "/sales":
            case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data['token']}"}
        else:
            case.cookies = {**(case.cookies or {}), "session": data["session"]}


@pytest.fixture
def api_schema(app):
    """The document as the app serves it, with credentials for this test's organisation.

    The organisation is made in an app context closed before any request: requests must not
    share one (Flask-Login keeps the user in `g`, which would let a request without the cookie
    pass as logged in)."""
    from tests.factories import make_org
    from webapp.extensions import db

    with app.app_context():
        org = make_org()
        CREDENTIALS["token"] = sales.create_token(actor=org["admin"], store=org.stores[0],
                                                  name="schemathesis")[1]
        db.session.remove()
    client = app.test_client()
    client.post("/login", data={"username": "hq", "password": "pw"})
    CREDENTIALS["session"] = client.get_cookie("session").value
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app, config=CONFIG)


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), database=None,
          derandomize=True)  # the same cases every run: a failure is a finding, never luck
def test_the_api_keeps_to_its_openapi_document(case):
    case.call_and_validate()


def test_the_document_covers_every_api_route(app):
    """What the test above fuzzes is the whole API: every /api/v1 rule (but the document itself)
    is an operation of the document, so a route added without its description fails here."""
    from webapp import openapi

    document = openapi.document()
    base = document["servers"][0]["url"]
    adapter = app.url_map.bind("localhost")
    described = set()
    for path, operations in document["paths"].items():
        for method in operations:
            endpoint, _args = adapter.match(base + path, method=method.upper())
            described.add((endpoint, method.upper()))
    routes = {(rule.endpoint, method) for rule in app.url_map.iter_rules()
              if rule.rule.startswith(base) and rule.endpoint != "api.openapi"
              for method in rule.methods - {"HEAD", "OPTIONS"}}
    assert routes == described, f"not described: {routes - described}"
