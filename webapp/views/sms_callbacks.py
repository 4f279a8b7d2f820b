"""The SMS providers' callbacks: delivery receipts and members' replies, on signed URLs."""
import hmac

from flask import Blueprint, abort, jsonify, request

from .. import sms
from ..services import sending

bp = Blueprint("sms_callbacks", __name__, url_prefix="/sms")
PROVIDERS = ("aliyun", "tencent")


def _reports(provider: str, kind: str, token: str) -> list:
    if provider not in PROVIDERS or not hmac.compare_digest(token, sms.callback_token(provider, kind)):
        abort(404)  # an unsigned URL does not exist
    data = request.get_json(silent=True)
    if isinstance(data, dict):
        data = [data]
    if not isinstance(data, list) or len(data) > 1000:
        abort(400)
    return data


@bp.route("/receipts/<provider>/<token>", methods=["POST"])
def receipts(provider: str, token: str):
    sending.record_receipts(provider=provider, reports=_reports(provider, "receipts", token))
    return _ok(provider)


@bp.route("/uplink/<provider>/<token>", methods=["POST"])
def uplink(provider: str, token: str):
    sending.record_uplinks(replies=_reports(provider, "uplink", token))
    return _ok(provider)


def _ok(provider: str):
    """The answer each provider expects, or it pushes the same reports again."""
    if provider == "aliyun":
        return jsonify(code=0, msg="成功")
    return jsonify(result=0, errmsg="OK")
