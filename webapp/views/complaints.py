"""Complaint pages: list, recording, the complaint with its step forms, PDFs, compliance."""
from datetime import date, datetime, timezone

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from .. import clock, permissions
from ..charts import bar_chart
from ..extensions import db
from ..formatting import TZ
from ..forms import options
from ..forms.complaints import STEP_FIELDS, ComplaintForm, StepForm
from ..models import AuditEvent, Case, Store, Task, parse_id
from ..services import complaint_stats, complaints
from ..services.sales import parse_month
from ..workflows import engine
from .util import get_visible, require, run_step, send_download, tier_arg

bp = Blueprint("complaints", __name__, url_prefix="/complaints")


def _utc(local: datetime | None) -> datetime | None:
    """A datetime-local form value (Shanghai wall time) as UTC."""
    return local.replace(tzinfo=TZ).astimezone(timezone.utc) if local else None


def _stores():
    rows = db.session.scalars(select(Store).where(permissions.store_area_filter(
        current_user, Store.id, Store.area_id)).order_by(Store.code)).all()
    return [(s.id, s.name) for s in rows]


@bp.route("/")
@login_required
def index():
    require("complaint.view")
    state, kind, tier = request.args.get("state", ""), request.args.get("kind", ""), tier_arg()
    rows = complaints.visible_complaints(current_user, state=state, kind=kind, tier=tier)
    return render_template("complaints/index.html", complaints=rows, state=state, kind=kind,
                           tier=tier, now=clock.now())


@bp.route("/new/<any(direct, store):kind>", methods=["GET", "POST"])
@login_required
def new(kind: str):
    require(f"complaint.record_{kind}")
    form = ComplaintForm()
    form.store_id.choices = options([(0, _("请选择"))] + _stores())
    if request.method == "GET" and current_user.store_id:
        form.store_id.data = current_user.store_id
    if kind == "store" and request.method == "GET":
        form.channel.data = "in_store"
    if form.validate_on_submit():
        new_complaint = complaints.NewComplaint(
            kind=kind, channel=form.channel.data, store_id=form.store_id.data,
            customer_name=form.customer_name.data or "", contact=form.contact.data or "",
            product=form.product.data or "", description=form.description.data or "",
            customer_wants=form.customer_wants.data or "", received_at=_utc(form.received_at.data))
        try:
            case = complaints.record(actor=current_user, new=new_complaint)
        except complaints.Invalid as exc:
            for name, message in exc.errors.items():
                getattr(form, name, form.description).errors.append(_(message))
        else:
            flash(_("投诉已受理"), "ok")
            return redirect(url_for("complaints.detail", case_id=case.id))
    status = 422 if request.method == "POST" else 200
    return render_template("complaints/new.html", form=form, kind=kind), status


@bp.route("/<int:case_id>")
@login_required
def detail(case_id: int):
    case = _complaint_case(case_id)
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.case_id == case.id)
                                .order_by(AuditEvent.at, AuditEvent.id)).all()
    form = StepForm()
    form.version.data = case.version
    open_task = db.session.scalars(select(Task).where(Task.case_id == case.id, Task.status == "open")).first()
    return render_template("complaints/detail.html", case=case, c=case.complaint, events=events,
                           process=engine.get_process(case.process), form=form, fields=STEP_FIELDS,
                           actions=engine.allowed_transitions(current_user, case), now=clock.now(),
                           channels=complaints.CHANNELS, consent_how=complaints.CONSENT_HOW,
                           scores=complaints.SURVEY_SCORES,
                           can_reveal=permissions.can(current_user, "complaint.reveal", case),
                           watch=open_task is not None and permissions.can_watch(current_user, open_task),
                           member_visible=bool(case.complaint.member)
                           and permissions.can(current_user, "member.view", case.complaint.member))


@bp.post("/<int:case_id>/<step>")
@login_required
def act(case_id: int, step: str):
    case = _complaint_case(case_id)
    form = StepForm()
    version = parse_id(form.version.data)
    if not form.validate_on_submit() or version is None:
        flash(_("表单内容有误或已过期，请刷新后重试"), "error")
        for name in STEP_FIELDS.get(step, ()):  # the page shows the form empty: say what was wrong
            for error in form[name].errors:
                flash(f"{form[name].label.text}：{error}", "error")
        return redirect(url_for("complaints.detail", case_id=case.id))
    data = {name: getattr(form, name).data for name in STEP_FIELDS.get(step, ()) if name != "comment"}
    for key in ("agreed_reply_at", "consent_at"):
        if key in data:
            data[key] = _utc(data[key])
    return run_step(lambda: complaints.act(actor=current_user, case=case, step=step, version=version,
                                           data=data, comment=form.comment.data or ""),
                    forbidden=engine.NotAllowed, refused=engine.WorkflowError,
                    back=url_for("complaints.detail", case_id=case.id), done=_("操作成功"))


@bp.post("/<int:case_id>/watch/<any(comment, nudge):verb>")
@login_required
def watch(case_id: int, verb: str):
    case = _complaint_case(case_id)
    form = StepForm()
    if not form.validate_on_submit():
        flash(_("表单内容有误或已过期，请刷新后重试"), "error")
        return redirect(url_for("complaints.detail", case_id=case.id))

    def action():
        if verb == "comment":
            complaints.comment(actor=current_user, case=case, text=form.comment.data or "")
        else:
            complaints.nudge(actor=current_user, case=case)

    return run_step(action, refused=complaints.Refused,
                    back=url_for("complaints.detail", case_id=case.id),
                    done=_("已备注") if verb == "comment" else _("已催办处理人"))


@bp.post("/<int:case_id>/reveal")
@login_required
def reveal(case_id: int):
    case = _complaint_case(case_id)
    try:
        value = complaints.reveal_contact(user=current_user, case=case)
    except PermissionError:
        abort(403)
    return jsonify({"field": "contact", "value": value})


@bp.route("/<int:case_id>/form.pdf")
@login_required
def form_pdf(case_id: int):
    from ..services.complaint_forms import complaint_pdf

    case = _complaint_case(case_id)
    return send_download(complaint_pdf(reader=current_user, complaints=[case.complaint]),
                         name=f"投诉处理表-{case.id}.pdf", ascii_name=f"complaint-{case.id}.pdf",
                         mimetype="application/pdf", as_attachment=False)


@bp.post("/batch")
@login_required
def batch():
    require("complaint.stats")
    try:
        month = _month(request.form.get("month", ""))
    except ValueError:
        flash(_("请选择有效的月份"), "error")
        return redirect(url_for("complaints.index"))
    from ..services.printing import start_batch

    job = start_batch(user=current_user, kind="complaint_forms", params={"month": month.isoformat()})
    return redirect(url_for("members.batch", batch_id=job.id))


@bp.route("/compliance")
@login_required
def compliance():
    require("complaint.stats")
    scope, scope_id, month = _scope_args()
    try:
        rows = complaint_stats.compliance(user=current_user, scope=scope, scope_id=scope_id, month=month)
    except complaint_stats.ScopeRefused as exc:
        abort(404, str(exc))
    if request.args.get("format") == "xlsx":
        data = complaint_stats.xlsx(rows, f"投诉处理达标 {month:%Y-%m}")
        return send_download(data, name=f"投诉处理达标-{month:%Y-%m}.xlsx",
                             ascii_name=f"complaint-compliance-{month:%Y-%m}.xlsx",
                             mimetype="application/vnd.openxmlformats-"
                                      "officedocument.spreadsheetml.sheet")
    stores = rows[:-1]
    chart = bar_chart([r.name for r in stores], {
        _("24小时内回复率"): [r.rates["reply"] for r in stores],
        _("48小时内给出方案率"): [r.rates["solution"] for r in stores],
        _("1周内回访率"): [r.rates["revisit"] for r in stores]})
    return render_template("complaints/compliance.html", rows=rows, table=complaint_stats.table(rows),
                           headers=complaint_stats.HEADERS, chart=chart, scope=scope,
                           scope_id=scope_id, month=month, scopes=_scope_choices())


def _scope_args():
    """The compliance page's scope (scope=store&scope_id=3, the page's own two fields) read by
    permissions.parse_scope like every other page, export and the API; outside the user's: 404."""
    kind = request.args.get("scope") or ""
    raw_id = request.args.get("scope_id") or ""
    code = kind if kind in ("", "company") or not raw_id else f"{kind}:{raw_id}"
    if kind in ("store", "area") and not raw_id:
        code = ""  # the user's own store or area
    try:
        scope = permissions.parse_scope(current_user, code)
        month = _month(request.args.get("month") or clock.now().astimezone(TZ).strftime("%Y-%m"))
    except (ValueError, permissions.OutOfScope):
        abort(404)
    return scope.kind, scope.id, month


def _month(raw: str) -> date:
    """'2026-10' as its first day; ValueError otherwise, years outside 2000–2100 included (as for
    sales months): 9999-12 has no next month to end at, 0001-01 no UTC start."""
    ym = parse_month(raw)
    return date(ym // 100, ym % 100, 1)


def _scope_choices():
    """(kind, id, name) of the scopes the user may pick, from permissions.scope_choices."""
    out = []
    for code, name in permissions.scope_choices(current_user):
        kind, _sep, number = code.partition(":")
        out.append((kind, int(number) if number else None, name))
    return out


def _complaint_case(case_id: int) -> Case:
    # complaint.view, not case.view: the administrator, who sees no complaint list, may not
    # open one by its number either (tests/routes/test_authorization_matrix.py)
    case = get_visible(Case, case_id, "complaint.view")
    if not case.process.startswith("complaint") or case.complaint is None:
        abort(404)
    return case
