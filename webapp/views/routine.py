"""The weekly routine's pages (SPEC §3.8): the week's page for the store manager (Monday plan,
Friday check, Saturday visits against the plan, Sunday report) and the associate's Friday check
on a phone."""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from .. import clock
from ..calendar import local_date
from ..extensions import db
from ..i18n_labels import Refusal
from ..models import Case, RoutineQuestion
from ..services import routine
from ..workflows import engine
from .util import get_visible, run_step

bp = Blueprint("routine", __name__, url_prefix="/routine")


def _case(case_id: int) -> Case:
    case = get_visible(Case, case_id, "case.view")
    if case.process != "weekly_routine":
        abort(404)
    return case


def _week(case: Case) -> str:
    return url_for("routine.week", case_id=case.id)


def _version() -> int:
    try:
        return int(request.form.get("version", ""))
    except ValueError:
        return -1


def _do(case: Case, change, done: str):
    return run_step(change, refused=Refusal, back=_week(case), done=done)


@bp.route("")
@login_required
def current():
    """This week's routine of the user's store."""
    if current_user.store_id is None:
        abort(404)
    case = routine.week_case(store_id=current_user.store_id, day=local_date(clock.now()))
    if case is None:
        flash(_("本周例行工作尚未开始"), "error")
        return redirect(url_for("inbox.index"))
    return redirect(_week(case))


@bp.route("/<int:case_id>")
@login_required
def week(case_id: int):
    case = _case(case_id)
    try:
        data = routine.page(actor=current_user, case=case)
    except Refusal:
        abort(404)
    return render_template("routine/week.html", **data,
                           actions=engine.allowed_transitions(current_user, case),
                           state_label=engine.state_label(case.state, case.process),
                           prompt=routine.prompt)


@bp.post("/<int:case_id>/plan")
@login_required
def plan(case_id: int):
    case = _case(case_id)
    form = request.form
    return _do(case, lambda: routine.set_plan(
        actor=current_user, case=case, version=_version(),
        methods={t: form.get(f"method_{t}", "") for t in routine.TIERS},
        profiles={k[len("profiles_"):]: v for k, v in form.items() if k.startswith("profiles_")},
        visits={k[len("visits_"):]: v for k, v in form.items() if k.startswith("visits_")},
        note=form.get("note", "")), _("本周计划已制订"))


@bp.post("/<int:case_id>/check")
@login_required
def start_check(case_id: int):
    case = _case(case_id)
    return _do(case, lambda: routine.start_check(actor=current_user, case=case), _("已出题"))


@bp.post("/<int:case_id>/<any(finish_check, finish_review):step>")
@login_required
def step(case_id: int, step: str):
    case = _case(case_id)
    return _do(case, lambda: routine.fire_step(actor=current_user, case=case, version=_version(),
                                               transition=step), _("操作成功"))


@bp.post("/<int:case_id>/report")
@login_required
def report(case_id: int):
    case = _case(case_id)
    return _do(case, lambda: routine.submit_report(
        actor=current_user, case=case, version=_version(), text=request.form.get("text", ""),
        best_advisor_id=request.form.get("best_advisor_id")), _("周报已提交"))


@bp.post("/questions/<int:question_id>/judge")
@login_required
def judge(question_id: int):
    question = db.session.get(RoutineQuestion, question_id)
    if question is None:
        abort(404)
    case = _case(question.case_id)
    return _do(case, lambda: routine.judge(actor=current_user, question=question,
                                           correct=request.form.get("correct") == "1"),
               _("已评判"))


@bp.route("/check/<int:case_id>", methods=["GET", "POST"])
@login_required
def check(case_id: int):
    """The associate's Friday check (phone width): answer, then see the score."""
    case = _case(case_id)
    try:  # the store's own staff only: anyone else, whatever the method, finds nothing here
        questions = routine.my_questions(actor=current_user, case=case)
    except Refusal:
        abort(404)
    if request.method == "POST":
        answers = {k[2:]: v for k, v in request.form.items() if k.startswith("q_")}
        return run_step(lambda: routine.answer_check(actor=current_user, case=case, answers=answers),
                        refused=Refusal, back=url_for("routine.check", case_id=case.id),
                        done=_("已提交，得分见下方"))
    return render_template("routine/check.html", case=case, questions=questions,
                           result=routine.result_of(questions), prompt=routine.prompt)
