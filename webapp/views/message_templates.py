"""The administrator's message templates: list, edit with a live preview, version history."""
from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..services import message_templates as service
from ..services.admin import Invalid
from .util import require

bp = Blueprint("message_templates", __name__, url_prefix="/admin/templates")


@bp.before_request
@login_required
def _admin_only():
    require("admin.manage")


@bp.route("/")
def index():
    return render_template("admin/templates.html", rows=service.template_rows())


def _detail(key: str):
    try:
        return service.template_detail(key=key)
    except LookupError:
        abort(404)


@bp.route("/<key>", methods=["GET", "POST"])
def edit(key: str):
    row, versions, names = _detail(key)
    text, card_no, errors, preview = row.text, request.values.get("card_no", ""), {}, None
    status = 200
    if request.method == "POST":
        text = request.form.get("body", "")
        if request.form.get("action") == "save":
            try:
                version = service.save_template(actor=current_user, key=key, text=text)
            except Invalid as exc:
                errors, status = exc.errors, 422
            else:
                flash(_("已保存为第 %(n)s 版，此后发出的消息使用新内容。", n=version.version), "ok")
                return redirect(url_for(".edit", key=key))
    if not errors:
        preview = service.preview(key=key, text=text, card_no=card_no)
        errors = preview.errors
    return render_template("admin/template_form.html", row=row, versions=versions, names=names,
                           text=text, card_no=card_no, errors=errors, preview=preview), status


@bp.route("/<key>/preview", methods=["POST"])
def preview(key: str):
    """The live preview as the administrator types (JSON for the page's script)."""
    _detail(key)
    result = service.preview(key=key, text=request.form.get("body", ""),
                             card_no=request.form.get("card_no", ""))
    return jsonify(text=result.text, length=result.length, segments=result.segments,
                   member=result.member, errors=result.errors)
