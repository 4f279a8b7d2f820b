"""Till API: token per store, idempotent on the sale number, all-or-nothing batches, OpenAPI."""
from sqlalchemy import func, select

from tests.sales.builders import bulk_members, sale
from webapp.extensions import db
from webapp.models import Sale
from webapp.services import sales


def _token(org, store_ix=0):
    return sales.create_token(actor=org["admin"], store=org.stores[store_ix], name="收银机1")[1]


def _post(client, secret, items):
    return client.post("/api/v1/sales", json={"sales": items},
                       headers={"Authorization": f"Bearer {secret}"})


def _count():
    return db.session.scalar(select(func.count()).select_from(Sale))


def _item(no, amount="199.00", **kw):
    data = {"sale_no": no, "sold_at": "2026-10-05T14:30:00+08:00", "amount": amount, "items": 1}
    data.update(kw)
    return data


def test_post_is_idempotent_on_the_sale_number(org, client):
    (m1,) = bulk_members(org.stores[0], 1)
    secret = _token(org)
    items = [_item("T1", member_card=m1["card_no"]), _item("T2", member_mobile=m1["mobile"])]
    first = _post(client, secret, items)
    assert first.status_code == 200, first.get_json()
    assert first.get_json()["created"] == 2
    again = _post(client, secret, items + [_item("T3")])
    body = again.get_json()
    assert (body["created"], body["existing"]) == (1, 2)
    assert [r["status"] for r in body["results"]] == ["existing", "existing", "created"]
    assert _count() == 3
    assert db.session.scalar(select(Sale.member_id).where(Sale.sale_no == "T2")) == m1["id"]


def test_json_numbers_are_read_exactly(org, client):
    response = _post(client, _token(org), [_item("N1", amount=0.1), _item("N2", amount=19999.99)])
    assert response.status_code == 200
    assert sorted(db.session.scalars(select(Sale.amount_fen))) == [10, 1999999]


def test_errors_per_item_and_nothing_written(org, client):
    response = _post(client, _token(org), [_item("E1"), _item("E2", amount="x"),
                                           _item("E3", member_card="NOPE"), _item("E1")])
    assert response.status_code == 422
    errors = response.get_json()["errors"]
    assert [(e["index"], e["field"]) for e in errors] == [(1, "amount"), (2, "member_card"),
                                                         (3, "sale_no")]
    assert _count() == 0


def test_a_token_for_store_1_cannot_post_for_store_2(org, client):
    secret = _token(org, 0)
    response = _post(client, secret, [_item("X1", store_code="S2")])
    assert response.status_code == 422
    assert "S1" in response.get_json()["errors"][0]["message"]
    assert _count() == 0
    ok = _post(client, secret, [_item("X1", store_code="S1"), _item("X2")])
    assert ok.status_code == 200
    assert set(db.session.scalars(select(Sale.store_id))) == {org.stores[0].id}


def test_same_number_at_two_stores_is_two_sales(org, client):
    assert _post(client, _token(org, 0), [_item("SAME")]).status_code == 200
    assert _post(client, _token(org, 1), [_item("SAME")]).status_code == 200
    assert _count() == 2


def test_authentication_and_batch_limits(org, client):
    assert client.post("/api/v1/sales", json={"sales": [_item("A")]}).status_code == 401
    assert _post(client, "crm_s1_wrong", [_item("A")]).status_code == 401
    token, secret = sales.create_token(actor=org["admin"], store=org.stores[0], name="old")
    sales.revoke_token(actor=org["admin"], token=token)
    assert _post(client, secret, [_item("A")]).status_code == 401
    secret = _token(org)
    too_many = [_item(f"B{i}") for i in range(1001)]
    response = _post(client, secret, too_many)
    assert response.status_code == 422 and "1000" in response.get_json()["error"]
    assert client.post("/api/v1/sales", data="{nope", content_type="application/json",
                       headers={"Authorization": f"Bearer {secret}"}).status_code == 400
    assert _post(client, secret, [1, 2]).status_code == 422
    full = _post(client, secret, [_item(f"C{i}") for i in range(1000)])
    assert full.status_code == 200 and full.get_json()["created"] == 1000


def test_api_is_csrf_exempt(org, client, app):
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        assert _post(client, _token(org), [_item("CS1")]).status_code == 200
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


def test_returns_through_the_api(org, client):
    secret = _token(org)
    _post(client, secret, [_item("O1", amount="300")])
    response = _post(client, secret, [_item("O1-R", amount="-300", return_of="O1")])
    assert response.status_code == 200
    ret = db.session.scalar(select(Sale).where(Sale.sale_no == "O1-R"))
    assert (ret.amount_fen, ret.ticket_delta, ret.return_of_id is not None) == (-30000, -1, True)


def test_openapi_document_describes_sales_and_analyses(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    assert doc["openapi"].startswith("3.")
    assert "post" in doc["paths"]["/sales"]
    for kind in ("consumption", "demographics", "spending-power", "churn"):
        assert "get" in doc["paths"][f"/analyses/{kind}"]
    assert doc["paths"]["/sales"]["post"]["requestBody"]["content"]["application/json"][
        "schema"]["properties"]["sales"]["maxItems"] == 1000


def test_admin_creates_and_revokes_tokens_on_the_page(org, login):
    client = login("admin")
    page = client.post("/sales/tokens", data={"store_id": org.stores[0].id, "name": "收银机"})
    assert page.status_code == 200
    secret = page.data.decode().split('<code id="secret">')[1].split("<")[0]
    assert sales.token_store(secret).id == org.stores[0].id
    assert login("hq").get("/sales/tokens").status_code == 403


def test_fields_of_the_wrong_type_are_refused_per_item(org, client):
    secret = _token(org)
    for bad in ({"sale_no": {"a": 1}}, {"sale_no": ["A"]}, {"sale_no": 12}, {"sale_no": " "},
                {"items": 0}, {"items": "2"}, {"items": 1.5}, {"amount": [1]},
                {"sold_at": 20261005}, {"member_card": {"x": 1}}):
        response = _post(client, secret, [_item("W1", **{"sale_no": "W1", **bad})])
        assert response.status_code == 422, bad
        assert [e["field"] for e in response.get_json()["errors"]] == list(bad), bad
    response = _post(client, secret, [{"sale_no": "W2", "amount": "1"}])
    assert sorted(e["field"] for e in response.get_json()["errors"]) == ["items", "sold_at"]
    assert _count() == 0
    assert _post(client, secret, [_item("W3", items=2.0)]).status_code == 200  # JSON's integer 2


def test_the_document_states_what_the_server_checks(client):
    sale = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]["Sale"]
    assert sale["properties"]["sale_no"]["minLength"] == 1 and "pattern" in sale["properties"]["sale_no"]
    assert sale["properties"]["items"]["not"] == {"const": 0}
    params = client.get("/api/v1/openapi.json").get_json()["paths"]["/analyses/churn"]["get"]["parameters"]
    assert all("pattern" in p["schema"] for p in params)


def test_api_errors_are_json_and_405_names_the_allowed_methods(org, client):
    for method in ("TRACE", "PATCH", "DELETE", "PUT"):
        response = client.open("/api/v1/sales", method=method, json={"sales": []})
        assert response.status_code == 405 and response.is_json, method
        assert response.headers["Allow"] == "OPTIONS, POST" and response.get_json()["error"]
    missing = client.get("/api/v1/nothing-here")
    assert missing.status_code == 404 and missing.is_json
    assert client.get("/no-such-page").content_type.startswith("text/html")


def test_the_item_category_is_optional_and_described(org, client):
    secret = _token(org)
    response = _post(client, secret, [_item("C1", category="真丝衬衫"), _item("C2")])
    assert response.status_code == 200, response.get_json()
    assert dict(db.session.execute(select(Sale.sale_no, Sale.category)).all()) == {
        "C1": "真丝衬衫", "C2": None}
    bad = _post(client, secret, [_item("C3", category="x" * 41)])
    assert bad.status_code == 422 and _count() == 2
    schema = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]["Sale"]
    assert "category" in schema["properties"]
