"""The OpenAPI 3.1 document of /api/v1, served as JSON at /api/v1/openapi.json."""
from __future__ import annotations

from .services.analyses import PERIOD_PATTERN, SCOPE_PATTERN

_ERROR = {"type": "object", "properties": {"error": {"type": "string"}}, "required": ["error"]}

# Patterns in the common subset of ECMA 262 (JSON Schema) and Python `re`; views/api.py checks each
# item against these same constants, so the document and the server agree (tests/sales/
# test_api_schemathesis.py). No control characters (C0, DEL, C1, BOM) in any text.
_CTRL = "\\u0000-\\u001f\\u007f-\\u009f\\ufeff"
TEXT_PATTERN = f"^[^{_CTRL}]*$"
SALE_NO_PATTERN = f"^[^\\s{_CTRL}]([^{_CTRL}]*[^\\s{_CTRL}])?$"  # no blank, no outer spaces
SOLD_AT_PATTERN = ("^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\\.[0-9]{1,6})?)?"
                   "(Z|[+-][0-9]{2}:[0-9]{2})?$")
AMOUNT_PATTERN = "^-?[0-9]{1,8}(\\.[0-9]{1,2})?$"
MAX_AMOUNT = 10_000_000  # yuan on one ticket (services/sales.py MAX_AMOUNT_FEN)
MAX_ITEMS = 100_000
MAX_TEXT = 40
OPTIONAL_TEXT = ("member_card", "member_mobile", "associate", "return_of", "store_code", "category")

_SALE = {
    "type": "object",
    "required": ["sale_no", "sold_at", "amount", "items"],
    "properties": {
        "sale_no": {"type": "string", "minLength": 1, "maxLength": MAX_TEXT, "pattern": SALE_NO_PATTERN,
                    "description": "Ticket number, unique per store; re-sending it is harmless."},
        "sold_at": {"type": "string", "pattern": SOLD_AT_PATTERN,
                    "examples": ["2026-10-05T14:30:00+08:00", "2026-10-05 14:30"],
                    "description": "ISO 8601; without an offset the time is Asia/Shanghai."},
        "amount": {"anyOf": [{"type": "string", "pattern": AMOUNT_PATTERN},
                             {"type": "number", "minimum": -MAX_AMOUNT, "maximum": MAX_AMOUNT}],
                   "examples": ["399.00"],
                   "description": "Yuan with at most two decimals (a string avoids binary floats); "
                                  "more than 0 on a sale. A return's amount may be given positive "
                                  "or negative, but not 0."},
        "items": {"type": "integer", "minimum": -MAX_ITEMS, "maximum": MAX_ITEMS, "not": {"const": 0},
                  "description": "Number of items on the ticket, at least 1 (a return's may be "
                                 "given negative)."},
        "member_card": {"type": ["string", "null"], "maxLength": MAX_TEXT, "pattern": TEXT_PATTERN,
                        "description": "Member card number (optional)."},
        "member_mobile": {"type": ["string", "null"], "maxLength": MAX_TEXT, "pattern": TEXT_PATTERN,
                          "description": "Member mobile (optional; matched by a keyed hash)."},
        "associate": {"type": ["string", "null"], "maxLength": MAX_TEXT, "pattern": TEXT_PATTERN,
                      "description": "Username of the associate (optional)."},
        "return_of": {"type": ["string", "null"], "maxLength": MAX_TEXT, "pattern": TEXT_PATTERN,
                      "description": "For a return: the sale number it reverses (same store)."},
        "store_code": {"type": ["string", "null"], "maxLength": MAX_TEXT, "pattern": TEXT_PATTERN,
                       "description": "Optional; when given it must be the token's own store."},
        "category": {"type": ["string", "null"], "maxLength": MAX_TEXT, "pattern": TEXT_PATTERN,
                     "examples": ["丝光棉T恤"],
                     "description": "What was bought, as the till names it (optional): the day-3 "
                                    "call names it and gives its care advice."},
    },
}

_FIGURE = {"type": "object", "properties": {
    "no": {"type": "string"}, "key": {"type": "string"}, "label": {"type": "string"},
    "formula": {"type": "string"}, "inputs": {"type": "string"},
    "value": {"type": ["string", "null"], "description": "Decimal as text; null when undefined."},
    "display": {"type": "string"}, "unit": {"enum": ["%", "yuan", "ratio", "count"]},
    "reason": {"type": "string", "description": "Why there is no value (e.g. no sales last year)."}}}


def _analysis_path(kind: str, summary: str) -> dict:
    return {"get": {
        "summary": summary, "tags": ["analyses"], "security": [{"session": []}],
        "parameters": [
            {"name": "scope", "in": "query", "schema": {"type": "string", "pattern": SCOPE_PATTERN},
             "description": "store:<id>, area:<id> or company; default: the user's own scope.",
             "examples": {"store": {"value": "store:1"}, "company": {"value": "company"}}},
            {"name": "period", "in": "query", "schema": {"type": "string", "pattern": PERIOD_PATTERN},
             "description": "YYYY-MM (a month) or YYYY (a year); default: last month."}],
        "responses": {
            "200": {"description": f"The {kind} analysis", "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/Analysis"}}}},
            "400": {"description": "Malformed scope or period", "content": {
                "application/json": {"schema": _ERROR}}},
            "401": {"description": "Not logged in"},
            "403": {"description": "The role may not read analyses"},
            "404": {"description": "The scope does not exist or is outside the user's"}}}}


_DATE = {"type": "string", "format": "date"}
_TIME = {"type": "string", "format": "date-time"}
_EVENT_DATA = {
    "member.approved": ("HQ approved a new member's registration (the card is now valid).", {
        "member_id": {"type": "integer"}, "card_no": {"type": "string"},
        "store_id": {"type": "integer"}, "store_code": {"type": ["string", "null"]},
        "card_expires_on": _DATE, "approved_at": _TIME}),
    "complaint.filed": ("A complaint was recorded (no contact details or text are sent).", {
        "complaint_id": {"type": "integer"}, "case_id": {"type": "integer"},
        "kind": {"enum": ["direct", "store"]}, "channel": {"type": "string"},
        "store_id": {"type": "integer"}, "store_code": {"type": "string"},
        "member_id": {"type": ["integer", "null"]}, "received_at": _TIME, "reply_due_at": _TIME}),
    "card.renewed": ("A member's card was renewed, by the waiver (fee 0) or with the fee paid.", {
        "member_id": {"type": "integer"}, "card_no": {"type": "string"},
        "store_id": {"type": "integer"}, "kind": {"enum": ["waiver", "payment"]},
        "card_expires_on": _DATE, "old_expires_on": _DATE,
        "fee_yuan": {"type": "string", "description": "Decimal yuan as text."}}),
}
_WEBHOOK_HEADERS = [
    {"name": "X-CRM-Event", "in": "header", "required": True, "schema": {"type": "string"}},
    {"name": "X-CRM-Delivery", "in": "header", "required": True, "schema": {"type": "string"},
     "description": "Stable across retries of one delivery: drop a duplicate by it."},
    {"name": "X-CRM-Timestamp", "in": "header", "required": True, "schema": {"type": "string"},
     "description": "Unix seconds when this attempt was signed; refuse one more than 5 minutes away."},
    {"name": "X-CRM-Signature", "in": "header", "required": True,
     "schema": {"type": "string", "pattern": "^sha256=[0-9a-f]{64}$"},
     "description": "sha256= + hex HMAC-SHA256 with the webhook's secret over "
                    "`<X-CRM-Timestamp>.<raw request body>`; compare in constant time."}]


def _webhook(event: str) -> dict:
    summary, data = _EVENT_DATA[event]
    return {"post": {
        "summary": f"{event}: {summary}", "tags": ["webhooks"], "parameters": _WEBHOOK_HEADERS,
        "requestBody": {"required": True, "content": {"application/json": {"schema": {
            "type": "object", "required": ["event", "occurred_at", "data"], "properties": {
                "event": {"const": event}, "occurred_at": _TIME,
                "data": {"type": "object", "properties": data}}}}}},
        "responses": {
            "2XX": {"description": "Received; not sent again."},
            "5XX": {"description": "Sent again later (after 1, 5, 15, 60 minutes; 5 attempts in "
                                   "all), as is a 429, a timeout (5 s) or a network error."},
            "4XX": {"description": "Any other answer: the delivery is marked failed (the "
                                   "administrator may send it again)."}}}}


def document() -> dict:
    """The API description (kept beside the routes in webapp/views/api.py)."""
    return {
        "openapi": "3.1.0",
        "info": {"title": "门店客户关系工作台 API", "version": "1",
                 "description": "Sales from till systems and the four member analyses (seed 004 §5)."},
        "servers": [{"url": "/api/v1"}],
        "paths": {
            "/sales": {"post": {
                "summary": "Record a batch of till sales (idempotent on the sale number)",
                "tags": ["sales"], "security": [{"tillToken": []}],
                "requestBody": {"required": True, "content": {"application/json": {"schema": {
                    "type": "object", "required": ["sales"], "properties": {"sales": {
                        "type": "array", "minItems": 1, "maxItems": 1000,
                        "items": {"$ref": "#/components/schemas/Sale"}}}}}}},
                "responses": {
                    "200": {"description": "All written (or already there)", "content": {
                        "application/json": {"schema": {"type": "object", "properties": {
                            "created": {"type": "integer"}, "existing": {"type": "integer"},
                            "results": {"type": "array", "items": {"type": "object", "properties": {
                                "index": {"type": "integer"}, "sale_no": {"type": "string"},
                                "status": {"enum": ["created", "existing"]}}}}}}}}},
                    "400": {"description": "Body is not JSON"},
                    "401": {"description": "Missing, unknown or revoked token"},
                    "413": {"description": "Body larger than the API's limit (API_MAX_BODY_KB, 1 MB)"},
                    "429": {"description": "More than API_RATE_PER_MINUTE requests this minute with "
                                           "this token; Retry-After says when to try again"},
                    "422": {"description": "Errors per item; nothing was written", "content": {
                        "application/json": {"schema": {"type": "object", "properties": {
                            "error": {"type": "string"}, "created": {"const": 0},
                            "errors": {"type": "array", "items": {"type": "object", "properties": {
                                "index": {"type": "integer"}, "field": {"type": "string"},
                                "message": {"type": "string"}}}}}}}}}}}},
            "/analyses/consumption": _analysis_path("consumption", "4.1 会员消费水平分析"),
            "/analyses/demographics": _analysis_path("demographics", "4.2 消费会员性别年龄分析"),
            "/analyses/spending-power": _analysis_path("spending-power", "4.3 会员消费力分析"),
            "/analyses/churn": _analysis_path("churn", "4.4 会员流失分析"),
        },
        # Outgoing webhooks (issue 15): what this system posts to the URLs an administrator
        # configures (系统管理 → 对外推送), one signed JSON post per event.
        "webhooks": {event: _webhook(event) for event in _EVENT_DATA},
        "components": {
            "securitySchemes": {
                "tillToken": {"type": "http", "scheme": "bearer",
                              "description": "A store's till token, created by an administrator."},
                "session": {"type": "apiKey", "in": "cookie", "name": "session",
                            "description": "A logged-in user's session; same permissions as the pages."}},
            "schemas": {
                "Sale": _SALE,
                "Analysis": {"type": "object", "properties": {
                    "kind": {"type": "string"}, "title": {"type": "string"},
                    "scope": {"type": "object"}, "period": {"type": "object"},
                    "inputs": {"type": "array", "items": {"type": "object"}},
                    "figures": {"type": "array", "items": _FIGURE},
                    "chart": {"type": "object"}, "trend": {"type": "array"},
                    "notes": {"type": "array", "items": {"type": "string"}}}}}},
    }
