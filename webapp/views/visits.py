"""Visit plan pages (SPEC §3.5): the store's plan and report, recording a visit (phone width),
the visit records, HQ's consolidation and spot-check, the store scorecard."""
from datetime import datetime, timezone

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from .. import clock, permissions
from ..calendar import local_date, parse_day
from ..charts import bar_chart
from ..extensions import db
from ..formatting import TZ
from ..forms.cases import DecisionForm
from ..models import Area, Case, PlanItem, Role, Store, User, VisitRecord, parse_id
from ..periods import Month
from ..services import visit_plan as vp
from ..workflows import engine
from .util import batch_page, get_visible, require, run_step, send_download

bp = Blueprint("visits", __name__, url_prefix="/visits")


def _month(default: Month) -> Month:
    """?month=YYYY-MM, or `default` (with a message when the value was not a month)."""
    raw = request.values.get("month", "")
    if not raw:
        return default
    try:
        return Month.parse(raw)
    except ValueError:
        flash(_("月份格式应为 2026-11"), "error")
        return default


def _store(raw) -> Store:
    """The store a request names, or the user's own; 404 outside their scope."""
    store_id = parse_id(raw) if raw else current_user.store_id
    store = db.session.get(Store, store_id) if store_id else None
    if store is None and not raw:
        first = vp.visible_stores(current_user)
        store = first[0] if first else None
    if store is None or not permissions.in_scope(current_user, store.id, store.area_id):
        abort(404)
    return store


def _local_moment(raw: str) -> datetime | None:
    """A datetime-local value (Shanghai wall time) as UTC, or None."""
    try:
        value = datetime.fromisoformat((raw or "").strip())
    except ValueError:
        return None
    if not 2000 <= value.year <= 2100:
        return None
    return value.replace(tzinfo=TZ).astimezone(timezone.utc)


def _step(back: str, done: str, action, **kwargs):
    """Run one service step and go back: not allowed → 403; refused (VisitError, a workflow
    conflict) → its message; done → `done`. The pages' POST handlers share this."""
    return run_step(lambda: action(**kwargs), forbidden=engine.NotAllowed,
                    refused=(vp.VisitError, engine.WorkflowError), back=back, done=done)


@bp.route("/")
@login_required
def index():
    require("visit.view")
    if current_user.role in (Role.HQ_SPECIALIST, Role.HQ_MANAGER):
        return redirect(url_for("visits.consolidation"))
    return redirect(url_for("visits.plan"))


@bp.route("/plan")
@login_required
def plan():
    """A store's plan for a month (next month by default) and its monthly report."""
    require("visit.view")
    store = _store(request.args.get("store"))
    month = _month(Month.of(clock.now()).next())
    case = vp.plan_case(store_id=store.id, month=month)
    tier = request.args.get("tier", "")
    this_month = month.plus(-1)
    associates = db.session.scalars(select(User).where(
        User.store_id == store.id, User.active.is_(True),
        User.role.in_([Role.ASSOCIATE, Role.STORE_MANAGER])).order_by(User.username)).all()
    return render_template(
        "visits/plan.html", store=store, month=month, case=case, this_month=this_month,
        items=vp.plan_items(case=case, tier=tier) if case else [], tier=tier,
        summary=vp.month_summary(store_id=store.id, month=this_month),
        progress=vp.progress(store_id=store.id, month=this_month),
        actions=engine.allowed_transitions(current_user, case) if case else [],
        can_edit=bool(case) and case.state in vp.EDITABLE and permissions.can(current_user, "visit.plan", case),
        associates=associates, methods=vp.METHODS, form=DecisionForm(),
        stores=vp.visible_stores(current_user), today=local_date(clock.now()))


@bp.post("/plan/<int:case_id>/items")
@login_required
def propose(case_id: int):
    case = get_visible(Case, case_id, "case.view")
    back = url_for("visits.plan", store=case.store_id, month=request.form.get("month"))
    try:
        planned_on = parse_day(request.form.get("planned_on", ""))
    except ValueError:
        planned_on = None
    return _step(back, _("已加入回访计划"), vp.propose_item, actor=current_user, case=case,
                 card_no=request.form.get("card_no", ""), occasion=request.form.get("occasion", ""),
                 method=request.form.get("method", ""),
                 associate_id=parse_id(request.form.get("associate_id")), planned_on=planned_on)


@bp.post("/items/<int:item_id>/delete")
@login_required
def remove(item_id: int):
    item = get_visible(PlanItem, item_id, "visit.plan")
    back = url_for("visits.plan", store=item.store_id, month=Month.from_ym(item.ym).key)
    return _step(back, _("已删除回访项"), vp.remove_item, actor=current_user, item=item)


@bp.post("/plan/<int:case_id>/submit")
@login_required
def submit(case_id: int):
    case = get_visible(Case, case_id, "case.view")
    back = url_for("visits.plan", store=case.store_id, month=request.form.get("month"))
    version = parse_id(request.form.get("version"))
    if case.process != "visit_plan" or version is None:
        abort(404)
    return _step(back, _("月报已提交给片区主管"), vp.submit_report, actor=current_user, case=case,
                 version=version, remarks=request.form.get("remarks", ""))


@bp.route("/record", methods=["GET", "POST"])
@login_required
def record():
    """《客户回访情况登记表》 for one visit, on a phone-width page."""
    require("visit.record")
    item = None
    item_id = parse_id(request.values.get("item"))
    if item_id:
        item = get_visible(PlanItem, item_id, "visit.record")
    if request.method == "POST":
        try:
            vp.record_visit(actor=current_user, card_no=request.form.get("card_no", ""),
                            method=request.form.get("method", ""),
                            visited_at=_local_moment(request.form.get("visited_at", "")),
                            result=request.form.get("result", ""), feedback=request.form.get("feedback", ""),
                            follow_up=request.form.get("follow_up") == "1",
                            plan_item_id=item.id if item else None)
        except engine.NotAllowed:
            abort(403)
        except (vp.VisitError, engine.WorkflowError) as exc:
            flash(str(exc), "error")
            return render_template("visits/record.html", item=item, methods=vp.METHODS,
                                   values=request.form, now=clock.now()), 422
        flash(_("回访已登记"), "ok")
        return redirect(url_for("visits.records"))
    return render_template("visits/record.html", item=item, methods=vp.METHODS, values={},
                           now=clock.now())


@bp.route("/records")
@login_required
def records():
    require("visit.view")
    store = _store(request.args.get("store"))
    month = _month(Month.of(clock.now()))
    method, tier = request.args.get("method", ""), request.args.get("tier", "")
    associate_id = parse_id(request.args.get("associate"))
    rows = vp.visit_records(user=current_user, store_id=store.id, month=month,
                            associate_id=associate_id, method=method, tier=tier)
    associates = db.session.scalars(select(User).where(User.store_id == store.id).order_by(User.username)).all()
    return render_template("visits/records.html", rows=rows, store=store, month=month, method=method,
                           tier=tier, associate_id=associate_id, associates=associates,
                           methods=vp.METHODS, stores=vp.visible_stores(current_user))


@bp.route("/hq")
@login_required
def consolidation():
    """HQ's page: every store's plan for the month, with a bulk archive."""
    require("visit.consolidate")
    month = _month(Month.of(clock.now()).next())
    rows = vp.consolidation(user=current_user, month=month)
    return render_template("visits/hq.html", rows=rows, month=month,
                           counts={s: sum(1 for r in rows if r.state == s) for s in
                                   ("drafting", "reporting", "review", "approved", "archived")})


@bp.post("/hq/archive")
@login_required
def archive():
    require("visit.consolidate")
    month = _month(Month.of(clock.now()).next())
    try:
        done, problems = vp.archive_all(actor=current_user, month=month)
    except vp.VisitError as exc:
        flash(str(exc), "error")
    else:
        flash(_("已归档 %(n)d 份计划", n=done), "ok")
        for problem in problems:
            flash(problem, "error")
    return redirect(url_for("visits.consolidation", month=month.key))


@bp.route("/spot-check", methods=["GET", "POST"])
@login_required
def spot_check():
    """HQ draws a store's sample for a month and records each call back."""
    require("visit.check")
    store = _store(request.values.get("store"))
    month = _month(Month.of(clock.now()))
    if request.method == "POST":
        return run_step(lambda: vp.draw_sample(actor=current_user, store_id=store.id, month=month),
                        refused=vp.VisitError,
                        back=url_for("visits.spot_check", store=store.id, month=month.key))
    sample = [r for r in vp.visit_records(user=current_user, store_id=store.id, month=month)
              if r.sampled_at is not None]
    return render_template("visits/spot_check.html", store=store, month=month, sample=sample,
                           stores=vp.visible_stores(current_user), methods=vp.METHODS)


@bp.route("/case/<int:case_id>")
@login_required
def case_page(case_id: int):
    """Where a visit case's inbox link leads: the plan page, or the visit form of the item."""
    case = get_visible(Case, case_id, "case.view")
    item = vp.item_of_case(case=case)
    if item is not None:
        if case.state == "due" and permissions.can(current_user, "visit.record", item):
            return redirect(url_for("visits.record", item=item.id))
        return redirect(url_for("visits.plan", store=item.store_id, month=Month.from_ym(item.ym).key))
    if case.process == "visit_area_summary":
        return redirect(url_for("visits.area_summary", area=case.area_id, month=case.data["period"]))
    if case.process != "visit_plan":
        abort(404)
    return redirect(url_for("visits.plan", store=case.store_id,
                            month=Month.parse(case.data["period"]).next().key))


@bp.post("/records/<int:record_id>/check")
@login_required
def check(record_id: int):
    record = get_visible(VisitRecord, record_id, "visit.check")
    answer = request.form.get("confirmed", "")
    back = url_for("visits.spot_check", store=record.store_id, month=Month.from_ym(record.ym).key)
    return _step(back, _("抽查结果已保存"), vp.record_check, actor=current_user, record=record,
                 confirmed={"1": True, "0": False}.get(answer), note=request.form.get("note", ""))


@bp.route("/scorecard")
@login_required
def scorecard():
    require("visit.scorecard")
    month = _month(Month.of(clock.now()))
    rows = vp.scorecard(user=current_user, month=month)
    chart = bar_chart([r["code"] for r in rows], {
        _("执行率"): [r["execution"] for r in rows],
        _("抽查确认率"): [r["confirmation"] for r in rows],
        _("按时率"): [r["timeliness"] for r in rows]})
    return render_template("visits/scorecard.html", rows=rows, month=month, chart=chart,
                           can_remark=permissions.can(current_user, "visit.check"))


@bp.get("/scorecard.xlsx")
@login_required
def scorecard_xlsx():
    require("visit.scorecard")
    month = _month(Month.of(clock.now()))
    data = vp.scorecard_xlsx(user=current_user, month=month)
    return send_download(data, name=f"门店回访考核-{month.key}.xlsx",
                         ascii_name=f"visit-scorecard-{month.key}.xlsx",
                         mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


@bp.post("/scorecard/<int:store_id>/remarks")
@login_required
def remarks(store_id: int):
    store = get_visible(Store, store_id, "visit.check")
    month = _month(Month.of(clock.now()))
    return _step(url_for("visits.scorecard", month=month.key), _("评价已保存"), vp.save_remarks,
                 actor=current_user, store_id=store.id, month=month,
                 remarks=request.form.get("remarks", ""))


@bp.route("/area-summary", methods=["GET", "POST"])
@login_required
def area_summary():
    """《分管终端月度客户回访情况总结报告》: the area's figures per store and the supervisor's text."""
    require("visit.scorecard")
    area_id = parse_id(request.values.get("area")) or current_user.area_id
    area = db.session.get(Area, area_id) if area_id else None
    if area is None or not permissions.in_scope(current_user, None, area.id):
        abort(404)
    month = _month(Month.of(clock.now()))
    case = vp.area_summary_case(area_id=area.id, month=month)
    if request.method == "POST":
        version = parse_id(request.form.get("version"))
        if case is None or version is None:
            abort(404)
        return _step(url_for("visits.area_summary", area=area.id, month=month.key),
                     _("总结报告已提交区域经理"), vp.submit_area_summary, actor=current_user,
                     case=case, version=version, text=request.form.get("text", ""))
    return render_template("visits/area_summary.html", area=area, month=month, case=case,
                           rows=vp.area_figures(user=current_user, area_id=area.id, month=month),
                           actions=engine.allowed_transitions(current_user, case) if case else [])


@bp.get("/<any(records, spot_check):form>.pdf")
@login_required
def form_pdf(form: str):
    """One sheet of a store's month on its own: 《客户回访情况登记表》 or the spot-check sheet."""
    from ..services.visit_forms import FORMS, form_pdf as render

    require("visit.view")
    store = _store(request.args.get("store"))
    month = _month(Month.of(clock.now()))
    _template, title, ascii_title = FORMS[form]
    return send_download(render(reader=current_user, store=store, month=month, form=form),
                         name=f"{title}-{store.code}-{month.key}.pdf",
                         ascii_name=f"{ascii_title}-{store.code}-{month.key}.pdf",
                         mimetype="application/pdf", as_attachment=False)


@bp.post("/month-set")
@login_required
def month_set():
    """A store's month as filed (the report with next month's plan, the visit records, the
    spot-check), or every visible store's (no store): a batch the worker renders."""
    from ..services import printing

    require("visit.view")
    store_id = _store(request.form.get("store")).id if request.form.get("store") else None
    month = _month(Month.of(clock.now()))
    return run_step(lambda: printing.start_visit_month_set(user=current_user, month=month,
                                                           store_id=store_id),
                    refused=printing.NothingToPrint, back=url_for("visits.records", month=month.key),
                    then=batch_page)


@bp.get("/plans.xlsx")
@login_required
def plans_xlsx():
    """One store's plan (?store=) or every visible store's (HQ's company-wide download)."""
    require("visit.view")
    month = _month(Month.of(clock.now()).next())
    store = _store(request.args.get("store")) if request.args.get("store") else None
    if store is None and current_user.store_id:
        store = _store(None)
    data = vp.plan_xlsx(user=current_user, month=month, store_id=store.id if store else None)
    suffix = store.code if store else "all"
    return send_download(data, name=f"客户回访计划-{suffix}-{month.key}.xlsx",
                         ascii_name=f"visit-plans-{suffix}-{month.key}.xlsx",
                         mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
