"""JSON API v1: sales from till systems (store token), analyses (logged-in users), OpenAPI document.

Token-authenticated, so exempt from CSRF (registered in webapp/__init__.py); the analyses use the
session cookie of a logged-in user and the same permission checks as the pages.
"""
import hashlib
import json
import re
from decimal import Decimal

from flask import Blueprint, current_app, jsonify, request
from flask_babel import gettext as _
from flask_login import current_user

from .. import permissions, ratelimit
from ..extensions import db
from ..i18n_labels import N_
from .. import openapi as spec
from ..openapi import document
from ..services import analyses, sales

bp = Blueprint("api", __name__, url_prefix="/api/v1")
MAX_BATCH = 1000
SALE_FIELDS = ("store_code", "sale_no", "sold_at", "amount", "items", "member_card",
               "member_mobile", "associate", "return_of", "category")


def _error(status: int, message: str, **extra):
    return jsonify({"error": message, **extra}), status


@bp.get("/openapi.json")
def openapi():
    return jsonify(document())


@bp.before_request
def _limits():
    """The till API's own body limit: a batch of 1,000 sales is well under it."""
    request.max_content_length = current_app.config["API_MAX_CONTENT_LENGTH"]


@bp.post("/sales")
def post_sales():
    store = sales.token_store(_bearer())
    if store is None:
        return _error(401, _("令牌无效或已停用"))
    per_minute = current_app.config["API_RATE_PER_MINUTE"]
    token_key = hashlib.sha256(_bearer().encode()).hexdigest()[:24]
    if ratelimit.hit("till", token_key, window=60) > per_minute:
        response = _error(429, _("请求过于频繁，请稍后再试"))
        return response[0], 429, {"Retry-After": str(ratelimit.retry_after(60))}
    try:
        body = json.loads(request.get_data() or b"null", parse_float=Decimal)
    except (ValueError, RecursionError):  # not JSON (nor UTF-8), or nested deeper than Python reads
        return _error(400, _("请求体不是有效的 JSON"))
    try:
        items = _batch(body)
    except (ValueError, TypeError) as exc:
        return _error(422, str(exc))
    shape = [e for number, item in enumerate(body["sales"]) for e in _item_errors(number, item)]
    if shape:  # the document's types and patterns; the other checks still report the rest
        errors = shape + [e for e in _row_errors(sales.check(items, store=store).errors)
                          if (e["index"], e["field"]) not in {(s["index"], s["field"]) for s in shape}]
        return _error(422, _("数据有误,未写入任何记录"), created=0,
                      errors=sorted(errors, key=lambda e: e["index"]))
    try:
        checked = sales.record(rows=items, store=store, source="api")
    except sales.SaleError as exc:
        return _error(422, str(exc), created=0, errors=_row_errors(exc.errors))
    results = sorted(({"index": s.line - 1, "sale_no": s.sale_no,
                       "status": "existing" if s.existing else "created"}
                      for s in checked.new + checked.existing), key=lambda r: r["index"])
    return jsonify({"created": len(checked.new), "existing": len(checked.existing),
                    "results": results})


def _row_errors(errors) -> list[dict]:
    return [{"index": e.line - 1, "field": e.field, "message": e.message} for e in errors]


def _bearer() -> str:
    header = request.headers.get("Authorization", "")
    return header[7:].strip() if header.lower().startswith("bearer ") else ""


def _batch(body) -> list[dict]:
    """The batch's items as plain dicts of the known fields, numbered from 1."""
    if not isinstance(body, dict) or not isinstance(body.get("sales"), list):
        raise ValueError(_("请求体应为 {\"sales\": [...]}"))
    items = body["sales"]
    if not items:
        raise ValueError(_("sales 不能为空"))
    if len(items) > MAX_BATCH:
        raise ValueError(_("每次最多提交 %(n)s 笔销售", n=MAX_BATCH))
    rows = []
    for number, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            raise ValueError(_("第 %(n)s 笔不是对象", n=number))
        row = {key: _text(item.get(key)) for key in SALE_FIELDS}
        if isinstance(item.get("items"), Decimal) and _whole(item["items"]):
            row["items"] = str(int(item["items"]))  # 2.0 is the integer 2 in JSON
        row["_line"] = number
        rows.append(row)
    return rows


def _text(value):
    """JSON scalars as text for the shared row checks (numbers keep their exact digits)."""
    return None if value is None else str(value)


# What breaks the document's Sale schema, per field (tests/sales/test_api_schemathesis.py checks
# that a request the document calls valid never gets one of these).
SHAPE_MESSAGES = {
    "missing": N_("缺少必填字段"),
    "sale_no": N_("单号应为1至40个字符的文本，不含首尾空格和控制字符"),
    "sold_at": N_("时间应为 ISO 8601 文本，如 2026-10-05T14:30:00+08:00"),
    "amount": N_("金额应为最多两位小数的数字或文本，绝对值不超过一千万"),
    "items": N_("件数应为不为0的整数，绝对值不超过十万"),
    "text": N_("应为不超过40个字符的文本，不含控制字符"),
}
SCHEMA_MESSAGES = frozenset(SHAPE_MESSAGES.values())


def _item_errors(index: int, item: dict) -> list[dict]:
    """What in one item breaks the OpenAPI document's Sale schema (webapp/openapi.py)."""
    problems = []

    def bad(name, key):
        problems.append({"index": index, "field": name, "message": _(SHAPE_MESSAGES[key])})

    for name in ("sale_no", "sold_at", "amount", "items"):
        if name not in item:
            bad(name, "missing")
    sale_no, sold_at = item.get("sale_no"), item.get("sold_at")
    if "sale_no" in item and not (isinstance(sale_no, str) and len(sale_no) <= spec.MAX_TEXT
                                  and re.fullmatch(spec.SALE_NO_PATTERN, sale_no)):
        bad("sale_no", "sale_no")
    if "sold_at" in item and not (isinstance(sold_at, str) and re.fullmatch(spec.SOLD_AT_PATTERN, sold_at)):
        bad("sold_at", "sold_at")
    if "amount" in item and not _amount_ok(item["amount"]):
        bad("amount", "amount")
    if "items" in item and not _whole(item["items"]):
        bad("items", "items")
    for name in spec.OPTIONAL_TEXT:
        value = item.get(name)
        if value is not None and not (isinstance(value, str) and len(value) <= spec.MAX_TEXT
                                      and re.fullmatch(spec.TEXT_PATTERN, value)):
            bad(name, "text")
    return problems


def _amount_ok(value) -> bool:
    if isinstance(value, str):
        return bool(re.fullmatch(spec.AMOUNT_PATTERN, value))
    return isinstance(value, (int, Decimal)) and not isinstance(value, bool) and (
        Decimal(value).is_finite() and abs(value) <= spec.MAX_AMOUNT)


def _whole(value) -> bool:
    """A JSON integer (2.0 is one too, as JSON Schema counts), not 0, within the limit."""
    if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
        return False
    value = Decimal(value)
    return value.is_finite() and value == value.to_integral_value() and 0 < abs(value) <= spec.MAX_ITEMS


@bp.get("/analyses/<kind>")
def analysis(kind: str):
    if not current_user.is_authenticated:
        return _error(401, _("请先登录"))
    if kind not in analyses.KINDS:
        return _error(404, _("没有这种分析"))
    if not permissions.can(current_user, "analysis.view"):
        return _error(403, _("您没有权限查看分析"))
    try:
        report = analyses.run(user=current_user, kind=kind, scope=request.args.get("scope", ""),
                              period=request.args.get("period", ""))
    except analyses.OutOfScope:
        return _error(404, _("该范围不存在或您无权查看"))
    except ValueError as exc:
        return _error(400, str(exc))
    return jsonify(report.as_json())
