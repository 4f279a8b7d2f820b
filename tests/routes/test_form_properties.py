"""Property-based: every form and the till API, fed what hypothesis makes of their fields.

For each form the fields are drawn from a mix of valid values, the edges a user can reach (empty,
too long, dates at the calendar's ends, numbers beyond any column, control characters, other
scripts) and arbitrary text, and posted through the real view to the service behind it. Whatever
comes in: never a server error, and a refused input writes nothing (every table's row count is the
same after it). Accepted inputs may write; they are counted too, so the run shows both paths
were taken. Bounded by the `crm` hypothesis profile (tests/conftest.py): derandomised, a few
dozen examples per form.
"""
from __future__ import annotations

import csv
import io
import json
from datetime import date

import pytest
from hypothesis import given, strategies as st
from sqlalchemy import func, select

from webapp.extensions import db

pytestmark = pytest.mark.filterwarnings("ignore::hypothesis.errors.NonInteractiveExampleWarning")

EDGES = ("", " ", "0", "-1", "99999999999999999999", "1e999", "²", "' OR 1=1 --", "长" * 300,
         "x\x00y", "\u202e", "9999-12-31", "0001-01-01", "2026-02-30", "<script>", "%ff")


def anything(*valid):
    """A field's value: one of its valid values, an edge, or any text."""
    return st.one_of(st.sampled_from(valid) if valid else st.nothing(), st.sampled_from(EDGES),
                     st.text(max_size=40))


def mobiles():
    return st.one_of(st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True), anything("13800138000"))


def days():
    return st.one_of(st.dates(date(1900, 1, 1), date(2030, 12, 31)).map(date.isoformat), anything())


def _counts() -> dict:
    return {t.name: db.session.execute(select(func.count()).select_from(t)).scalar()
            for t in db.metadata.sorted_tables}


class Outcomes:
    """Counts accepted and refused examples, and checks a refusal changed nothing."""

    def __init__(self):
        self.accepted = self.refused = 0

    def check(self, response, before: dict, accepted: bool, what) -> None:
        assert response.status_code < 500, (response.status_code, what)
        db.session.expire_all()
        if accepted:
            self.accepted += 1
            return
        self.refused += 1
        after = _counts()
        changed = {t: (before[t], after[t]) for t in before if before[t] != after[t]}
        # a refused login-like throttle or audit row would be a write: none is expected here
        assert not changed, f"refused input wrote {changed}: {what!r}"


def _post(client, url, data, **kwargs):
    return client.post(url, data=data, **kwargs)


def test_registration_form(org, login):
    client = login("assoc1")
    outcomes = Outcomes()
    associate = org["assoc1"].id

    @given(st.fixed_dictionaries({
        "name": anything("王小明", "李娜"), "mobile": mobiles(), "gender": anything("M", "F"),
        "birth_date": days(), "associate_id": anything(str(associate)), "applied_on": days(),
        "address": anything("上海市南京西路1号"), "work_address": anything(),
        "email": anything("a@example.com"), "occupation": anything("teacher", "other"),
        "anniversary": days(), "preferences": anything("L码"), "heard_from": anything("friend")}))
    def example(form):
        before = _counts()
        response = _post(client, "/members/new", form)
        outcomes.check(response, before, response.status_code == 302, form)

    example()
    assert outcomes.refused


def test_complaint_form(org, login):
    client = login("assoc1")
    outcomes = Outcomes()

    @given(st.fixed_dictionaries({
        "channel": anything("phone", "store"), "contact": st.one_of(mobiles(), anything("a@b.cn")),
        "customer_name": anything("赵先生"), "store_id": anything(str(org.stores[0].id)),
        "product": anything("衬衫"), "description": anything("衬衫洗后掉色"),
        "customer_wants": anything("退货"),
        "received_at": st.one_of(st.just("2026-11-18T09:00"), anything("2026-11-17T10:00"))}))
    def example(form):
        before = _counts()
        response = _post(client, "/complaints/new/store", form)
        outcomes.check(response, before, response.status_code == 302, form)

    example()
    assert outcomes.refused


def test_member_completion_form(org, login):
    """The member's data as the store completes it after HQ sent the registration back."""
    from tests.factories import register
    from webapp.services import cases

    case = register(org)
    cases.fire(actor=org["hq"], case=case, transition="send_back", version=case.version,
               comment="请补全地址")
    client = login("assoc1")
    outcomes = Outcomes()
    associate = org["assoc1"].id

    @given(st.fixed_dictionaries({
        "name": anything("王小明"), "mobile": mobiles(), "gender": anything("M", "F"),
        "birth_date": days(), "associate_id": anything(str(associate)), "applied_on": days(),
        "address": anything("上海市南京西路1号"), "email": anything("a@example.com"),
        "occupation": anything("teacher"), "heard_from": anything("friend"),
        "comment": anything("已补全"), "version": anything("0", "1", "2")}))
    def example(form):
        before = _counts()
        response = _post(client, f"/registrations/{case.id}/complete", form)
        outcomes.check(response, before, response.status_code == 302 and "/complete"
                       not in response.location, form)

    example()
    assert outcomes.refused


def test_settings_form(org, login):
    from webapp import settings

    client = login("admin")
    outcomes = Outcomes()
    keys = sorted(settings.SPECS)

    @given(st.dictionaries(st.sampled_from(keys), anything("1", "30", "hours:4", "eod:1", "day:5",
                                                          "on", "青松服饰"), max_size=6))
    def example(form):
        before = _counts()
        response = _post(client, "/admin/settings", form)
        changed = response.status_code == 302
        outcomes.check(response, before, changed, form)

    example()
    assert outcomes.refused


SALE_FIELDS = ("store_code", "sale_no", "sold_at", "member_card", "member_mobile", "amount",
               "items", "associate", "return_of")


def sale_rows(store_code: str):
    row = st.fixed_dictionaries({
        "store_code": anything(store_code), "sale_no": anything("N1", "N2", "N3"),
        "sold_at": anything("2026-11-10 10:00", "2026-11-17T10:00:00+08:00"),
        "member_card": anything(), "member_mobile": st.one_of(mobiles(), st.just("")),
        "amount": anything("100", "88.50", "-20"), "items": anything("1", "3"),
        "associate": anything(), "return_of": anything("")})
    return st.lists(row, min_size=1, max_size=4)


def test_sales_import_rows(org, login):
    """The CSV a store uploads: any rows, through preview and confirm."""
    client = login("manager1")
    outcomes = Outcomes()
    headings = ["门店编码", "销售单号", "销售时间", "会员卡号", "会员手机", "金额", "件数", "导购",
                "原单号"]

    @given(sale_rows(org.stores[0].code))
    def example(rows):
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(headings)
        writer.writerows([[r[f] for f in SALE_FIELDS] for r in rows])
        before = _counts()
        data = {"file": (io.BytesIO(out.getvalue().encode("utf-8", "surrogatepass")), "s.csv")}
        response = client.post("/sales/import", data=data, content_type="multipart/form-data")
        assert response.status_code < 500, rows
        page = response.get_data(as_text=True)
        token = page.split('name="token" value="')[1].split('"')[0] if 'name="token"' in page else None
        if token:
            response = client.post("/sales/import/confirm", data={"token": token})
        outcomes.check(response, before, token is not None and response.status_code == 302
                       and "/sales" in response.location, rows)

    example()
    assert outcomes.refused


def test_till_api_payload(app, org):
    """The till's JSON: any batch of sales, any shape around it."""
    from webapp.services import sales

    _token, secret = sales.create_token(actor=org["admin"], store=org.stores[0], name="收银机1")
    client = app.test_client()
    outcomes = Outcomes()
    scalar = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False),
                       st.text(max_size=20))
    shapes = st.one_of(
        st.fixed_dictionaries({"sales": sale_rows(org.stores[0].code)}),
        st.fixed_dictionaries({"sales": st.lists(st.dictionaries(st.sampled_from(SALE_FIELDS),
                                                                 scalar), max_size=3)}),
        st.recursive(scalar, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                     st.dictionaries(st.text(max_size=8), inner,
                                                                     max_size=3)), max_leaves=8))

    @given(shapes)
    def example(body):
        before = _counts()
        response = client.post("/api/v1/sales", data=json.dumps(body), content_type="application/json",
                               headers={"Authorization": f"Bearer {secret}"})
        outcomes.check(response, before, response.status_code < 300, body)

    example()
    assert outcomes.refused
