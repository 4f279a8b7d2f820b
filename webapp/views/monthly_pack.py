"""The monthly analysis pack: review (数据审核) and the archived pages, PDF and workbook (存档备查)."""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from .. import clock
from ..calendar import local_date
from ..i18n_labels import Refusal
from ..permissions import OutOfScope, can, default_scope_code, scope_choices
from ..services import analyses, monthly_pack, printing
from .util import batch_page, require, run_step, send_download

bp = Blueprint("pack", __name__, url_prefix="/pack")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _period(raw: str) -> str:
    """A month 'YYYY-MM'; anything else is a 404 (the links are made by the app)."""
    try:
        period = analyses.parse_period(raw)
    except ValueError:
        abort(404)
    if not period.month:
        abort(404)
    return period.code


@bp.route("/")
@login_required
def index():
    require("analysis.view")
    today = local_date(clock.now())
    last = f"{today.year - 1}-12" if today.month == 1 else f"{today.year}-{today.month - 1:02d}"
    return redirect(url_for("pack.month", period=last))


@bp.route("/<period>")
@login_required
def month(period: str):
    require("analysis.view")
    period = _period(period)
    scope = request.args.get("scope") or default_scope_code(current_user)
    may_review = can(current_user, "analysis.review")
    try:
        data = monthly_pack.page(user=current_user, period=period, scope=scope)
    except OutOfScope:
        abort(404)
    except ValueError as exc:
        flash(str(exc), "error")
        return redirect(url_for("pack.month", period=period))
    return render_template("analyses/pack.html", period=period, scope=scope, data=data,
                           scopes=scope_choices(current_user),
                           versions=monthly_pack.versions(period=period), may_review=may_review,
                           review_job=monthly_pack.last_review(period=period) if may_review else None)


@bp.post("/<period>/review")
@login_required
def review(period: str):
    """Ask for the month's review: a worker computes and files it (17–34 s at 1 M members);
    the status page shows it running, then the reviewed month."""
    require("analysis.review")
    period = _period(period)
    scope = request.form.get("scope") or None
    try:
        job, created = monthly_pack.request_review(actor=current_user, period=period,
                                                   comment=request.form.get("comment") or "")
    except Refusal as exc:  # monthly_pack.Refused, or the queue away
        flash(str(exc), "error")
        return redirect(url_for("pack.month", period=period, scope=scope))
    if not created:
        flash(_("%(period)s 的审核已在进行中（%(name)s 提交），未重复提交",
                period=period, name=job.requested_by.display_name), "ok")
    return redirect(url_for("pack.review_status", period=period, scope=scope))


@bp.get("/<period>/review")
@login_required
def review_status(period: str):
    """The month's latest review request: 审核中… (the page reloads itself), its failure with
    the reason and a button to ask again, or, once done, the reviewed month."""
    require("analysis.review")
    period = _period(period)
    scope = request.args.get("scope") or None
    status = monthly_pack.review_status(period=period)
    if status is None:
        return redirect(url_for("pack.month", period=period, scope=scope))
    if status["job"].status == "done":
        flash(_("已审核 %(period)s 的月度分析（第%(v)s版），数据已存档", period=period,
                v=status["job"].params.get("version")), "ok")
        return redirect(url_for("pack.month", period=period, scope=scope))
    return render_template("analyses/pack_review.html", period=period, scope=scope, **status)


def _snapshots(period: str):
    require("analysis.view")
    snapshots = monthly_pack.pack(user=current_user, period=_period(period))
    if not snapshots:
        abort(404)
    return snapshots


@bp.post("/<period>/pack.pdf")
@login_required
def pack_pdf(period: str):
    """The archived month as one PDF: a filing batch (minutes for 221 scopes), with progress."""
    require("analysis.view")
    period = _period(period)
    return run_step(lambda: printing.start_analysis_pack(user=current_user, period=period),
                    refused=printing.NothingToPrint, back=url_for("pack.month", period=period),
                    then=batch_page)


@bp.route("/<period>/pack.xlsx")
@login_required
def pack_xlsx(period: str):
    data = monthly_pack.pack_xlsx(_snapshots(period))
    return send_download(data, name=_("月度会员分析-%(p)s.xlsx", p=period),
                         ascii_name=f"analysis-pack-{period}.xlsx", mimetype=XLSX)
