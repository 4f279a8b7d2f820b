"""Member pages: list, registration form, detail, reveal, completion after send-back, PDFs."""
import os
from datetime import date
from types import SimpleNamespace

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from .. import clock, permissions
from ..calendar import local_date, parse_day
from ..extensions import db
from ..forms import options
from ..forms.registration import MAX_ANNIVERSARIES, RegistrationForm
from ..i18n_labels import Refusal
from ..models import BatchJob, Case, Member, Role, User, parse_id
from ..models.members import VALIDITY_LABELS
from ..services import members as member_service
from ..services import batch_jobs, member_upkeep, printing, registration, sending, tiers
from ..workflows import engine
from .util import batch_page, get_visible, page_arg, require, run_step, send_download

bp = Blueprint("members", __name__)


def _associates(store_id: int):
    users = db.session.scalars(select(User).where(
        User.store_id == store_id, User.active.is_(True),
        User.role.in_([Role.ASSOCIATE, Role.STORE_MANAGER])).order_by(User.display_name)).all()
    return [(u.id, u.display_name) for u in users]


@bp.route("/members")
@login_required
def index():
    require("member.view")
    q, tier, status = (request.args.get(k, "") for k in ("q", "tier", "status"))
    rows = member_service.search(current_user, q=q, tier=tier, status=status)
    return render_template("members.html", members=rows, q=q, tier=tier, status=status,
                           validity_labels=VALIDITY_LABELS, today=local_date(clock.now()))


@bp.route("/members/new", methods=["GET", "POST"])
@login_required
def new():
    require("member.create")
    form = RegistrationForm()
    form.associate_id.choices = options(_associates(current_user.store_id))
    if request.method == "GET":
        form.associate_id.data = current_user.id
        form.applied_on.data = local_date(clock.now())
    if form.validate_on_submit():
        try:
            case = registration.register(actor=current_user, store=current_user.store,
                                         data=form.member_data())
        except registration.DuplicateMember as exc:
            return render_template("member_form.html", form=form,
                                   duplicate=_duplicate(exc)), 409
        flash(_("已提交总部审核,临时卡号 %(card_no)s", card_no=case.member.card_no), "ok")
        return redirect(url_for("members.detail", member_id=case.member_id))
    status = 422 if request.method == "POST" else 200
    return render_template("member_form.html", form=form, duplicate=None), status


@bp.route("/members/<int:member_id>")
@login_required
def detail(member_id: int):
    member = get_visible(Member, member_id, "member.view")
    case = member_service.registration_case(member)
    return render_template("member.html", member=member, case=case,
                           occupations=member_service.OCCUPATION,
                           heard_from=member_service.HEARD_FROM,
                           can_reveal=permissions.can(current_user, "member.reveal", member),
                           can_print=permissions.can(current_user, "member.print", member),
                           validity_labels=VALIDITY_LABELS, today=local_date(clock.now()),
                           can_opt_out=permissions.can(current_user, "member.sms_opt_out", member),
                           tier_history=tiers.history(member),
                           can_change_tier=(permissions.can(current_user, "tier.change", member)
                                            and tiers.tier_settable(member)),
                           associates=(_associates(member.store_id) if permissions.can(
                               current_user, "member.reassign", member) else None),
                           can_flag_mobile=permissions.can(current_user, "member.mobile_status",
                                                           member))


@bp.post("/members/<int:member_id>/sms-opt-out")
@login_required
def sms_opt_out(member_id: int):
    member = get_visible(Member, member_id, "member.sms_opt_out")
    opted_out = request.form.get("opt_out") == "1"
    sending.set_opt_out(actor=current_user, member=member, opted_out=opted_out)
    flash(_("已标记为不接收营销短信。") if opted_out else _("已恢复接收营销短信。"), "ok")
    return redirect(url_for(".detail", member_id=member.id))


@bp.post("/members/<int:member_id>/associate")
@login_required
def reassign(member_id: int):
    member = get_visible(Member, member_id, "member.view")
    associate_id = parse_id(request.form.get("associate_id"))
    return run_step(lambda: member_upkeep.reassign(actor=current_user, member=member,
                                                   associate_id=associate_id),
                    refused=member_upkeep.UpkeepRefused,
                    back=url_for("members.detail", member_id=member.id), done=_("已更换分管导购"))


@bp.post("/members/<int:member_id>/mobile-status")
@login_required
def mobile_status(member_id: int):
    member = get_visible(Member, member_id, "member.view")
    dead = request.form.get("dead") == "1"
    return run_step(lambda: member_upkeep.set_mobile_dead(actor=current_user, member=member, dead=dead),
                    refused=member_upkeep.UpkeepRefused,
                    back=url_for("members.detail", member_id=member.id), done=_("已更新号码状态"))


@bp.route("/members/roster.xlsx")
@login_required
def roster():
    require("member.roster")
    try:
        data = member_upkeep.roster_xlsx(actor=current_user)
    except member_upkeep.UpkeepRefused:
        abort(403)
    day = local_date(clock.now()).isoformat()
    return send_download(data, name=f"{current_user.store.name}客户资料册-{day}.xlsx",
                         ascii_name=f"member-roster-{day}.xlsx",
                         mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


@bp.post("/members/<int:member_id>/reveal/<field>")
@login_required
def reveal(member_id: int, field: str):
    member = get_visible(Member, member_id, "member.view")
    try:
        value = member_service.reveal(user=current_user, member=member, field=field)
    except PermissionError:
        abort(403)
    return jsonify({"field": field, "value": value})


@bp.route("/registrations/<int:case_id>/complete", methods=["GET", "POST"])
@login_required
def complete(case_id: int):
    case = get_visible(Case, case_id, "case.view")
    if case.process != "registration":
        abort(404)
    if request.method == "GET":
        try:  # the form holds the full personal data: only for who may complete it, logged
            member = member_service.open_for_completion(user=current_user, case=case)
        except PermissionError:
            return _not_completable(case)
        form = RegistrationForm(obj=_form_obj(member))
        if len(form.anniversaries) < MAX_ANNIVERSARIES:
            form.anniversaries.append_entry()  # a blank row to add one more
        form.version.data = case.version
    else:
        if not any(t.name == "resubmit" for t in engine.allowed_transitions(current_user, case)):
            return _not_completable(case)
        form = RegistrationForm()
    form.associate_id.choices = options(_associates(case.member.store_id))
    if form.validate_on_submit():
        try:
            registration.complete(actor=current_user, case=case, data=form.member_data(),
                                  version=int(form.version.data or 0),
                                  comment=form.comment.data or "")
        except registration.DuplicateMember as exc:
            return _completion_page(case, form, duplicate=_duplicate(exc)), 409
        except engine.NotAllowed:
            abort(403)
        except engine.WorkflowError as exc:
            flash(str(exc), "error")
            return redirect(url_for("cases.detail", case_id=case.id))
        flash(_("资料已补全,重新提交总部审核"), "ok")
        return redirect(url_for("cases.detail", case_id=case.id))
    return _completion_page(case, form), 422 if request.method == "POST" else 200


def _completion_page(case: Case, form: RegistrationForm, duplicate=None):
    return render_template("member_form.html", form=form, duplicate=duplicate, case=case,
                           sent_back=registration.last_send_back(case))


def _not_completable(case: Case):
    """Who may never complete it gets a 404 (the form holds personal data); the store, once it
    resubmitted, goes back to the case."""
    if permissions.can(current_user, "member.create", case):
        flash(_("该登记当前无需补全"), "error")
        return redirect(url_for("cases.detail", case_id=case.id))
    abort(404)


def _duplicate(exc: registration.DuplicateMember) -> dict:
    """What the form says of a mobile already registered: a link only where the user may look."""
    member = db.session.get(Member, exc.member_id)
    visible = member is not None and permissions.can(current_user, "member.view", member)
    return {"message": str(exc), "member_id": exc.member_id if visible else None}


def _form_obj(member: Member):
    class Obj:
        pass

    obj = Obj()
    for key in ("name", "mobile", "gender", "associate_id", "applied_on", "address",
                "work_address", "email", "occupation", "preferences", "heard_from", "pref_sizes",
                "pref_styles", "pref_colours"):
        setattr(obj, key, getattr(member, key))
    obj.birth_date = date.fromisoformat(member.birth_date) if member.birth_date else None
    obj.anniversaries = [SimpleNamespace(name=a.name, day=f"{a.month_day // 100:02d}-{a.month_day % 100:02d}")
                         for a in member.anniversaries]
    return obj


@bp.route("/members/<int:member_id>/application.pdf")
@login_required
def application_pdf(member_id: int):
    member = get_visible(Member, member_id, "member.print")
    return send_download(printing.member_form_pdf(member, reader=current_user),
                         name=f"入会申请表-{member.card_no}.pdf",
                         ascii_name=f"application-{member.card_no}.pdf", mimetype="application/pdf",
                         as_attachment=request.args.get("download") == "1")


@bp.route("/registrations/review")
@login_required
def review():
    """Today's new members (or another day's, or all pending), for HQ to review one by one or
    in bulk."""
    require("registration.review")
    today = local_date(clock.now())
    day = today
    if request.args.get("all") == "1":
        day = None
    elif request.args.get("day"):
        try:
            day = parse_day(request.args["day"])
        except ValueError:
            flash(_("请选择有效的日期"), "error")
    page = page_arg()
    rows = registration.pending_review(current_user, day=day, limit=100, offset=(page - 1) * 100)
    counts = {"today": registration.pending_count(current_user, day=today),
              "all": registration.pending_count(current_user)}
    counts["shown"] = counts["all"] if day is None else (
        counts["today"] if day == today else registration.pending_count(current_user, day=day))
    return render_template("review.html", rows=rows, day=day, today=today, counts=counts, page=page,
                           occupations=member_service.OCCUPATION, now=clock.now())


@bp.route("/registrations/print", methods=["GET", "POST"])
@login_required
def print_day():
    require("batch.print")
    if request.method == "POST":
        try:
            day = parse_day(request.form.get("day", ""))
        except ValueError:
            flash(_("请选择有效的日期"), "error")
            return redirect(url_for("members.print_day"))
        try:
            batch = printing.start_day_batch(user=current_user, day=day)
        except printing.NothingToPrint as exc:
            flash(str(exc), "error")
            return render_template("print_day.html", today=day), 422
        return redirect(url_for("members.batch", batch_id=batch.id))
    today = local_date(clock.now())
    return render_template("print_day.html", today=today)


def _own_batch(batch_id: int) -> BatchJob:
    """The user's own batch; anyone else's, like a missing one, is a 404."""
    job = db.session.get(BatchJob, batch_id)
    if job is None or job.requested_by_id != current_user.id:
        abort(404)
    return job


@bp.route("/batches/<int:batch_id>")
@login_required
def batch(batch_id: int):
    """The batch's progress (the page reloads itself while it runs), its download, or why it
    failed with a button to render it again."""
    status = batch_jobs.status(_own_batch(batch_id))
    job = status["job"]
    if request.args.get("format") == "json":
        return jsonify({"status": status["state"], "done": job.done, "total": job.total})
    return render_template("batch.html", **status)


@bp.post("/batches/<int:batch_id>/retry")
@login_required
def batch_retry(batch_id: int):
    """重新生成: a failed batch asked again as a new one (the permission checked again)."""
    return run_step(lambda: printing.retry_batch(user=current_user, batch=_own_batch(batch_id)),
                    refused=Refusal, back=url_for("members.batch", batch_id=batch_id),
                    then=batch_page)


@bp.route("/batches/<int:batch_id>/download")
@login_required
def batch_download(batch_id: int):
    job = _own_batch(batch_id)
    if job.status != "done" or not job.file_path or not os.path.isfile(job.file_path):
        abort(404)  # not yet, or cleaned up, or on another host
    name, ascii_name = printing.download_names(job)
    return send_download(job.file_path, name=name, ascii_name=ascii_name, mimetype="application/pdf")
