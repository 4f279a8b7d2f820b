"""JSON API v1: sales from till systems (store token), analyses (logged-in users), OpenAPI document.

Token-authenticated, so exempt from CSRF (registered in webapp/__init__.py); the analyses use the
session cookie of a logged-in user and the same permission checks as the pages.
"""
import json
from decimal import Decimal

from flask import Blueprint, jsonify, request
from flask_babel import gettext as _
from flask_login import current_user

from .. import permissions
from ..extensions import db
from ..openapi import document
from ..services import analyses, sales

bp = Blueprint("api", __name__, url_prefix="/api/v1")
MAX_BATCH = 1000
SALE_FIELDS = ("store_code", "sale_no", "sold_at", "amount", "items", "member_card",
               "member_mobile", "associate", "return_of")


def _error(status: int, message: str, **extra):
    return jsonify({"error": message, **extra}), status


@bp.get("/openapi.json")
def openapi():
    return jsonify(document())


@bp.post("/sales")
def post_sales():
    store = sales.token_store(_bearer())
    if store is None:
        return _error(401, _("令牌无效或已停用"))
    try:
        body = json.loads(request.get_data() or b"null", parse_float=Decimal)
    except (ValueError, RecursionError):  # not JSON (nor UTF-8), or nested deeper than Python reads
        db.session.rollback()
        return _error(400, _("请求体不是有效的 JSON"))
    try:
        items = _batch(body)
    except (ValueError, TypeError) as exc:
        db.session.rollback()
        return _error(422, str(exc))
    try:
        checked = sales.record(rows=items, store=store, source="api")
    except sales.SaleError as exc:
        db.session.rollback()
        return _error(422, str(exc), created=0, errors=[
            {"index": e.line - 1, "field": e.field, "message": e.message} for e in exc.errors])
    results = sorted(({"index": s.line - 1, "sale_no": s.sale_no,
                       "status": "existing" if s.existing else "created"}
                      for s in checked.new + checked.existing), key=lambda r: r["index"])
    return jsonify({"created": len(checked.new), "existing": len(checked.existing),
                    "results": results})


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
        row["_line"] = number
        rows.append(row)
    return rows


def _text(value):
    """JSON scalars as text for the shared row checks (numbers keep their exact digits)."""
    if value is None or isinstance(value, (dict, list, bool)):
        return None if value is None else json.dumps(value)
    return str(value)


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
