"""Case pages: detail with timeline and action buttons, firing transitions, process diagrams."""
import functools

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale, gettext
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from .. import permissions
from ..extensions import db
from ..forms.cases import DecisionForm
from ..forms.registration import RegistrationForm
from ..models import AuditEvent, Case, Member, parse_id
from ..outbox import script_text
from ..services import care as care_service
from ..services import cases as case_service
from ..services import members as member_service
from ..workflows import engine
from ..workflows.diagram import process_svg
from .util import get_visible, local_next

bp = Blueprint("cases", __name__)

# What the case page shows of the case besides its own columns, read in the case's statement:
# its store, its member with the member's store, associate and anniversaries (each was a
# statement of its own, loaded lazily while the template ran; the member is read anyway to
# ask whether the user may see it).
PAGE_LOADS = (joinedload(Case.store),
              joinedload(Case.member).options(joinedload(Member.store), joinedload(Member.associate),
                                              joinedload(Member.anniversaries)))


@functools.lru_cache(maxsize=8)
def _field_labels(locale: str) -> dict:
    """The registration form's field labels by field name (the timeline names changed fields),
    per language: building the form for them was ~0.7 ms a page."""
    return {f.name: f.label.text for f in RegistrationForm(meta={"csrf": False}, formdata=None)}


@bp.route("/cases/<int:case_id>")
@login_required
def detail(case_id: int):
    case = get_visible(Case, case_id, "case.view", options=PAGE_LOADS)
    if case.process.startswith("complaint"):
        return redirect(url_for("complaints.detail", case_id=case.id))
    if case.process in ("visit_plan", "visit_item", "visit_area_summary") and not request.args.get("timeline"):
        return redirect(url_for("visits.case_page", case_id=case.id))
    if case.process == "weekly_routine" and not request.args.get("timeline"):
        return redirect(url_for("routine.week", case_id=case.id))
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.case_id == case.id)
                                .order_by(AuditEvent.at, AuditEvent.id)).all()
    fields = _field_labels(str(get_locale()))
    member = case.member if case.member and permissions.can(current_user, "member.view",
                                                             case.member) else None
    spec = engine.get_process(case.process).tasks.get(case.state)
    script = (script_text(spec.script, case.member, case.data) if spec and spec.script and member and
              case.closed_at is None else None)
    tier = request.args.get("tier") if request.args.get("tier") in ("A", "B", "C") else None
    care = (care_service.batch_view(actor=current_user, case=case, tier=tier)
            if case.process == "care_batch" else None)
    return render_template("case.html", case=case, events=events, form=DecisionForm(), fields=fields,
                           script=script, care=care,
                           process=engine.get_process(case.process),
                           actions=engine.allowed_transitions(current_user, case),
                           chosen=request.args.get("act", ""), member=member,
                           occupations=member_service.OCCUPATION,
                           heard_from=member_service.HEARD_FROM,
                           can_reveal=bool(member) and permissions.can(current_user, "member.reveal",
                                                                       member))


@bp.post("/cases/<int:case_id>/<transition>")
@login_required
def fire(case_id: int, transition: str):
    case = get_visible(Case, case_id, "case.view")
    form = DecisionForm()
    version = parse_id(form.version.data)
    if not form.validate_on_submit() or version is None:
        flash(gettext("表单已过期,请刷新后重试"), "error")
        return redirect(url_for("cases.detail", case_id=case.id))
    try:
        case_service.fire(actor=current_user, case=case, transition=transition,
                          version=version, comment=form.comment.data or "")
    except engine.NotAllowed:
        abort(403)
    except engine.WorkflowError as exc:
        flash(str(exc), "error")
        return redirect(url_for("cases.detail", case_id=case.id))
    flash(gettext("操作成功"), "ok")
    return redirect(local_next(url_for("cases.detail", case_id=case_id)))


@bp.post("/cases/bulk-approve")
@login_required
def bulk_approve():
    pairs = []
    for raw in request.form.getlist("item"):
        case_id, _, version = (parse_id(part) for part in raw.partition(":"))
        if case_id and version:
            pairs.append((case_id, version))
    back = local_next(url_for("inbox.index"))
    if not pairs:
        flash(gettext("请先勾选要批量通过的事项"), "error")
        return redirect(back)
    done, problems = case_service.bulk_fire(actor=current_user, transition="approve", items=pairs)
    flash(gettext("已批量通过 %(n)s 项", n=done), "ok")
    for problem in problems:
        flash(problem, "error")
    return redirect(back)


@bp.route("/processes/")
@login_required
def processes():
    return render_template("processes.html", processes=list(engine.REGISTRY.values()))


@bp.route("/processes/<name>")
@login_required
def process(name: str):
    if name not in engine.REGISTRY:
        abort(404)
    return render_template("process.html", process=engine.get_process(name))


@bp.route("/processes/<name>.svg")
@login_required
def process_diagram(name: str):
    if name not in engine.REGISTRY:
        abort(404)
    return Response(process_svg(engine.get_process(name)), mimetype="image/svg+xml")
