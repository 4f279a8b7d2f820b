"""Care batch review (SPEC §3.4): the store manager removes a line, changes a method, adds a
member; approving is the case page's one-click button."""
from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user, login_required

from ..calendar import parse_day
from ..models import Case
from ..i18n_labels import Refusal
from ..services import care as care_service
from ..services import printing, routine
from .util import batch_page, get_visible, require, run_step

bp = Blueprint("care", __name__)


def _lines(case_id: int) -> str:
    return url_for("cases.detail", case_id=case_id) + "#care-lines"


def _do(case_id: int, change) -> object:
    return run_step(change, refused=care_service.CareRefusal, back=_lines(case_id),
                    done=gettext("操作成功"))


@bp.post("/care/<int:case_id>/lines/<int:line_id>/remove")
@login_required
def remove(case_id: int, line_id: int):
    get_visible(Case, case_id, "case.view")
    return _do(case_id, lambda: care_service.remove_line(actor=current_user, line_id=line_id))


@bp.post("/care/<int:case_id>/lines/<int:line_id>/method")
@login_required
def method(case_id: int, line_id: int):
    get_visible(Case, case_id, "case.view")
    chosen = request.form.get("method", "")
    return _do(case_id, lambda: care_service.change_method(actor=current_user, line_id=line_id,
                                                           method=chosen))


@bp.post("/care/<int:case_id>/add")
@login_required
def add(case_id: int):
    get_visible(Case, case_id, "case.view")
    card_no = (request.form.get("card_no") or "")[:20]
    if not card_no.strip():
        flash(gettext("请输入会员卡号"), "error")
        return redirect(_lines(case_id))
    return _do(case_id, lambda: care_service.add_member(actor=current_user, case_id=case_id,
                                                        card_no=card_no))





@bp.route("/care/profiles")
@login_required
def profiles():
    """The shop-floor sheet on a phone: today's calls, visits and follow-ups with their scripts,
    today's member profiles to memorise and yesterday's to review."""
    try:
        sheet = routine.daily_sheet(actor=current_user)
    except Refusal:
        abort(403)
    return render_template("care_profiles.html", today=sheet["profiles"], **sheet)


@bp.route("/care/sheet.pdf")
@login_required
def sheet():
    """The associate's shop-floor sheet of today: one A4 PDF."""
    try:
        data = routine.daily_sheet_pdf(actor=current_user)
    except Refusal:
        abort(403)
    return Response(data, mimetype="application/pdf",
                    headers={"Content-Disposition": "inline; filename=daily-sheet.pdf"})


@bp.post("/care/sheets")
@login_required
def store_sheets():
    """The store manager prints every associate's sheet of a day as one batch."""
    require("care.store_sheets")
    try:
        day = parse_day(request.form.get("day", ""))
    except ValueError:
        flash(gettext("请选择有效的日期"), "error")
        return redirect(url_for("care.profiles"))
    return run_step(lambda: printing.start_store_sheets(user=current_user, day=day), refused=Refusal,
                    back=url_for("care.profiles"), then=batch_page)
