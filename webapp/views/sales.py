"""Sales pages: recent sales, file import (preview, then confirm), monthly targets, till tokens."""
from io import BytesIO

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from .. import clock, permissions
from ..calendar import YEARS, local_date
from ..extensions import db
from ..forms import options
from ..forms.sales import TargetForm, TokenForm
from ..models import Store
from ..models import ApiToken
from ..services import sales, sales_import
from .util import require

bp = Blueprint("sales", __name__, url_prefix="/sales")


def template_helpers() -> dict:
    """`can(action)` for the sales/analysis sub-navigation, and the import's column names."""
    return {"can": lambda action: permissions.can(current_user, action),
            "column_names": {key: zh for key, zh, _en, _req in sales_import.COLUMNS}}


bp.context_processor(template_helpers)


def _stores(action: str) -> list[Store]:
    return [s for s in db.session.scalars(select(Store).order_by(Store.code))
            if permissions.can(current_user, action, s)]


@bp.route("/")
@login_required
def index():
    require("sales.view")
    return render_template("sales/index.html", sales=sales.recent_sales(user=current_user),
                           can_import=permissions.can(current_user, "sales.import"),
                           columns=sales_import.COLUMNS)


@bp.route("/import", methods=["GET", "POST"])
@login_required
def import_file():
    require("sales.import")
    if request.method == "GET":
        return render_template("sales/import.html", preview=None, columns=sales_import.COLUMNS)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        flash(_("请选择要导入的文件"), "error")
        return render_template("sales/import.html", preview=None, columns=sales_import.COLUMNS), 422
    try:
        token = sales_import.upload(actor=current_user, data=upload.read(), filename=upload.filename)
    except sales_import.ImportFileError as exc:
        flash(str(exc), "error")
        return render_template("sales/import.html", preview=None, columns=sales_import.COLUMNS), 422
    return redirect(url_for("sales.import_preview", token=token), code=303)


@bp.route("/import/<token>")
@login_required
def import_preview(token):
    """The upload's preview once the worker has read it; until then a page that reloads itself."""
    require("sales.import")
    try:
        preview = sales_import.preview(actor=current_user, token=token)
    except sales_import.ImportFileError as exc:
        flash(str(exc), "error")
        # an upload that is not (or no longer) this user's: not found, as any other's object
        status = 404 if isinstance(exc, sales_import.UploadGone) else 422
        return render_template("sales/import.html", preview=None, columns=sales_import.COLUMNS), status
    if preview is None:
        return render_template("sales/import.html", preview=None, reading=True,
                               columns=sales_import.COLUMNS), 202
    status = 200 if preview.checked.ok else 422
    return render_template("sales/import.html", preview=preview, columns=sales_import.COLUMNS), status


@bp.post("/import/confirm")
@login_required
def confirm_import():
    require("sales.import")
    try:
        checked = sales_import.confirm(actor=current_user, token=request.form.get("token", ""))
    except sales_import.ImportFileError as exc:
        flash(str(exc), "error")
        return redirect(url_for("sales.import_file"))
    except sales.SaleError as exc:
        flash(_("文件已不能导入(共 %(n)s 处错误),请重新上传核对", n=len(exc.errors)), "error")
        return redirect(url_for("sales.import_file"))
    flash(_("已导入 %(new)s 笔,%(old)s 笔此前已导入", new=len(checked.new), old=len(checked.existing)),
          "ok")
    return redirect(url_for("sales.index"))


@bp.route("/import/template.csv")
@login_required
def import_template():
    require("sales.import")
    return send_file(BytesIO(sales_import.template_csv()), mimetype="text/csv",
                     as_attachment=True, download_name="sales-import-template.csv")


@bp.route("/targets", methods=["GET", "POST"])
@login_required
def targets():
    require("target.edit")
    stores = _stores("target.edit")
    form = TargetForm()
    form.store_id.choices = options((s.id, f"{s.code} {s.name}") for s in stores)
    year = request.args.get("year", type=int) or local_date(clock.now()).year
    if year not in YEARS:  # the years a target's month can have (sales.parse_month)
        flash(_("年份应在 2000 到 2100 之间,已显示今年"), "error")
        year = local_date(clock.now()).year
    if form.validate_on_submit():
        store = db.session.get(Store, form.store_id.data)
        if store is None or not permissions.can(current_user, "target.edit", store):
            abort(404)
        try:
            sales.set_target(actor=current_user, store=store, ym=sales.parse_month(form.month.data),
                             amount=form.amount.data)
        except ValueError as exc:
            form.amount.errors = [str(exc)]
        else:
            flash(_("已保存 %(store)s %(month)s 的销售目标", store=store.name, month=form.month.data), "ok")
            return redirect(url_for("sales.targets", year=form.month.data[:4]))
    table = sales.targets(store_ids=[s.id for s in stores], year=year)
    status = 422 if request.method == "POST" else 200
    return render_template("sales/targets.html", form=form, stores=stores, year=year,
                           table=table), status


@bp.route("/tokens", methods=["GET", "POST"])
@login_required
def tokens():
    require("api_token.manage")
    form = TokenForm()
    form.store_id.choices = options((s.id, f"{s.code} {s.name}") for s in _stores("api_token.manage"))
    secret = None
    if form.validate_on_submit():
        store = db.session.get(Store, form.store_id.data) or abort(404)
        _token, secret = sales.create_token(actor=current_user, store=store, name=form.name.data)
    status = 422 if request.method == "POST" and secret is None else 200
    return render_template("sales/tokens.html", form=form, tokens=sales.list_tokens(),
                           secret=secret), status


@bp.post("/tokens/<int:token_id>/revoke")
@login_required
def revoke_token(token_id: int):
    require("api_token.manage")
    token = db.session.get(ApiToken, token_id) or abort(404)
    sales.revoke_token(actor=current_user, token=token)
    flash(_("令牌已停用"), "ok")
    return redirect(url_for("sales.tokens"))
