"""The month's 《xx月到期会员名单》: the list (filters, xlsx, A4 PDF), the figures, and
"will renew and pay" recorded from a call."""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from .. import clock, permissions, settings
from ..calendar import local_date
from ..extensions import db
from ..models import Area, Case, Store, parse_id
from ..periods import Month
from ..services import expiry
from ..workflows import engine
from ..workflows.expiry import expiry_call
from .util import get_visible, require, send_download

bp = Blueprint("expiry", __name__, url_prefix="/expiry")


def _filters():
    default = Month.of(local_date(clock.now())).next()
    month = expiry.parse_month(request.args.get("month", ""), default)
    state = request.args.get("state", "")
    return month, parse_id(request.args.get("store")), parse_id(request.args.get("area")), state


def _tier(values) -> str:
    tier = values.get("tier", "")
    return tier if tier in expiry.TIERS else ""


def _title(month: Month) -> str:
    return _("《%(m)02d月到期会员名单》", m=month.first_day.month) + f" {month.key}"


def _rows():
    try:
        month, store_id, area_id, state = _filters()
    except expiry.RenewalError as exc:
        flash(str(exc), "error")
        month, store_id, area_id, state = Month.of(local_date(clock.now())).next(), None, None, ""
    rows = expiry.list_rows(user=current_user, month=month, store_id=store_id, area_id=area_id,
                            state=state, tier=_tier(request.args))
    return month, store_id, area_id, state, rows


@bp.route("/")
@login_required
def index():
    require("expiry.view")
    month, store_id, area_id, state, rows = _rows()
    stores = db.session.scalars(select(Store).where(permissions.store_area_filter(
        current_user, Store.id, Store.area_id)).order_by(Store.code)).all()
    areas = db.session.scalars(select(Area).where(permissions.store_area_filter(
        current_user, None, Area.id)).order_by(Area.id)).all()
    return render_template("expiry/index.html", month=month, store_id=store_id, area_id=area_id,
                           state=state, rows=rows, states=expiry_call.states, stores=stores,
                           tier=_tier(request.args),
                           areas=areas, title=_title(month),
                           figures=expiry.figures(user=current_user, month=month),
                           can_renew=permissions.can(current_user, "expiry.renew"))


@bp.route("/list.xlsx")
@login_required
def xlsx():
    require("expiry.view")
    month, _s, _a, _st, rows = _rows()
    headers = [_("卡号"), _("姓名"), _("手机"), _("级别"), _("门店"), _("到期日"), _("状态")]
    labels = {k: _(v) for k, v in expiry_call.states.items()}
    data = expiry.list_xlsx(rows, title=_title(month), headers=headers, state_labels=labels)
    return send_download(data, name=f"{_title(month)}.xlsx", ascii_name=f"expiry-{month.key}.xlsx",
                         mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


@bp.post("/list/print")
@login_required
def print_list():
    """The list as filtered, for filing: an A4 PDF batch the worker renders (progress, then the
    download on the batch page)."""
    from ..services import printing

    require("expiry.view")
    try:
        month = expiry.parse_month(request.form.get("month", ""),
                                   Month.of(local_date(clock.now())).next())
        batch = printing.start_expiry_list(
            user=current_user, month=month, store_id=parse_id(request.form.get("store")),
            area_id=parse_id(request.form.get("area")), state=request.form.get("state", ""),
            tier=_tier(request.form), printed=local_date(clock.now()))
    except (expiry.RenewalError, printing.NothingToPrint) as exc:
        flash(str(exc), "error")
        return redirect(url_for("expiry.index", **{k: v for k, v in request.form.items()
                                                   if k in ("month", "store", "area", "state", "tier")}))
    return redirect(url_for("members.batch", batch_id=batch.id))


@bp.route("/cases/<int:case_id>/renew", methods=["GET", "POST"])
@login_required
def renew(case_id: int):
    require("expiry.renew")
    case = get_visible(Case, case_id, "case.view")
    if case.process != "expiry_call":
        abort(404)
    stores = db.session.scalars(select(Store).order_by(Store.code)).all()
    fee, store_id = str(settings.get_int("renewal_fee_yuan")), case.store_id
    if request.method == "POST":
        fee, store_id = request.form.get("fee", ""), parse_id(request.form.get("store_id"))
        try:
            expiry.renew_paid(actor=current_user, case_id=case.id,
                              version=parse_id(request.form.get("version")) or 0, fee=fee,
                              store_id=store_id)
        except engine.NotAllowed:
            abort(403)
        except (engine.WorkflowError, expiry.RenewalError) as exc:
            flash(str(exc), "error")
            return render_template("expiry/renew.html", case=case, stores=stores, fee=fee,
                                   store_id=store_id), 422
        flash(_("已续卡，新的有效期至 %(d)s", d=case.member.card_expires_on), "ok")
        return redirect(url_for("members.detail", member_id=case.member_id))
    return render_template("expiry/renew.html", case=case, stores=stores, fee=fee, store_id=store_id)
