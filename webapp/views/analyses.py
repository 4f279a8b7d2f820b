"""Analysis pages: the seed's four tables with a chart, as a page, an A4 PDF and an xlsx."""

from flask import Blueprint, abort, flash, render_template, request
from flask_babel import gettext as _
from flask_login import current_user, login_required

from .. import clock
from ..calendar import local_date
from ..services import analyses, analysis_exports
from .sales import template_helpers
from .util import require, send_download

bp = Blueprint("analyses", __name__, url_prefix="/analyses")
bp.context_processor(template_helpers)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _report(kind: str):
    """The report for the query string, or None with the reason flashed (never a 500)."""
    require("analysis.view")
    if kind not in analyses.KINDS:
        abort(404)
    try:
        return analyses.run(user=current_user, kind=kind, scope=request.args.get("scope", ""),
                            period=request.args.get("period", ""))
    except analyses.OutOfScope:
        abort(404)
    except ValueError as exc:
        flash(str(exc), "error")
        return None


@bp.route("/")
@bp.route("/<kind>")
@login_required
def page(kind: str = "consumption"):
    report = _report(kind)
    return render_template("analyses/report.html", kind=kind, kinds=analyses.KINDS, report=report,
                           svg=analysis_exports.chart_svg(report) if report else None,
                           scopes=analyses.scope_choices(current_user),
                           scope=request.args.get("scope") or analyses.default_scope_code(current_user),
                           period=request.args.get("period") or analyses.parse_period("").code,
                           years=_years(report), h=analysis_exports.headings()), 200 if report else 400


def _years(report) -> list[int]:
    """The year picker: this year and the nine before, and the shown report's year if older."""
    this_year = local_date(clock.now()).year
    years = list(range(this_year, this_year - 10, -1))
    if report is not None and report.period.year not in years:
        years.append(report.period.year)
    return years


@bp.route("/<kind>.pdf")
@login_required
def pdf(kind: str):
    report = _report(kind) or abort(400)
    return send_download(analysis_exports.pdf(report), name=analysis_exports.filename(report, "pdf"),
                         ascii_name=analysis_exports.ascii_filename(report, "pdf"),
                         mimetype="application/pdf",
                         as_attachment=request.args.get("download") == "1")


@bp.route("/<kind>.xlsx")
@login_required
def xlsx(kind: str):
    report = _report(kind) or abort(400)
    return send_download(analysis_exports.xlsx(report), name=analysis_exports.filename(report, "xlsx"),
                         ascii_name=analysis_exports.ascii_filename(report, "xlsx"), mimetype=XLSX)


@bp.app_template_global()
def analysis_title(kind: str) -> str:
    return _(analyses.KINDS[kind])
