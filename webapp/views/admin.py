"""Administration: areas, stores, users, settings (administrator only).

Routes stay thin: parse the form, call services/admin.py (which validates, audits and commits),
flash, redirect. A refused request re-renders its form with the messages and status 422.
"""
from functools import wraps

from flask import (Blueprint, abort, flash, make_response, redirect, render_template, request,
                   session, url_for)
from flask_babel import gettext as _
from flask_login import current_user, login_required

from .. import clock
from ..extensions import db
from ..forms.admin import (ROLE_LABELS, ActionForm, AreaForm, HolidayYearForm, PasswordResetForm,
                           StoreForm, UserCreateForm, UserEditForm, UserFilterForm, settings_form)
from ..models import Area, Store, User
from ..services import accounts
from ..services import admin as service
from .util import require

bp = Blueprint("admin", __name__, url_prefix="/admin")

_ISSUED = "admin_issued_ticket"  # names the one-time password held server-side (never the password)


def guarded(action: str):
    """Logged in, and the role may do `action` (else 403)."""
    def decorate(view):
        @wraps(view)
        @login_required
        def wrapper(*args, **kwargs):
            require(action)
            return view(*args, **kwargs)
        return wrapper
    return decorate


def _get(model, object_id: int):
    obj = db.session.get(model, object_id)
    if obj is None:
        abort(404)
    return obj


def _apply(form, errors: dict) -> None:
    """Put the service's messages on the form's fields ("" or unknown field: form-level)."""
    for name, message in errors.items():
        field = form._fields.get(name) if name else None
        if field is None:
            form.form_errors.append(message)
        else:
            field.errors = list(field.errors) + [message]


@bp.context_processor
def _labels():
    return {"role_labels": ROLE_LABELS}


# ---------------------------------------------------------------- overview

@bp.route("/")
@guarded("admin.manage")
def index():
    return render_template("admin/index.html", counts=service.overview())


# ---------------------------------------------------------------- areas

def _areas_page(form, status=200, failed=None):
    """The area list; each row has its own rename form (the failed one keeps its input)."""
    rows = service.list_areas()
    renames = {a.id: AreaForm(prefix=f"a{a.id}", formdata=None, obj=a) for a, _n, _u in rows}
    renames.update(failed or {})
    return render_template("admin/areas.html", form=form, areas=rows, renames=renames), status


@bp.route("/areas", methods=["GET", "POST"])
@guarded("admin.manage")
def areas():
    form = AreaForm()
    if form.validate_on_submit():
        try:
            area = service.create_area(actor=current_user, name=form.name.data)
        except service.Invalid as exc:
            _apply(form, exc.errors)
        else:
            flash(_("已新增区域“%(name)s”", name=area.name), "ok")
            return redirect(url_for("admin.areas"))
    return _areas_page(form, 422 if form.is_submitted() else 200)


@bp.post("/areas/<int:area_id>")
@guarded("admin.manage")
def rename_area(area_id: int):
    area = _get(Area, area_id)
    form = AreaForm(prefix=f"a{area.id}")
    if form.validate_on_submit():
        try:
            service.rename_area(actor=current_user, area=area, name=form.name.data)
        except service.Invalid as exc:
            _apply(form, exc.errors)
        else:
            flash(_("区域已改名为“%(name)s”", name=area.name), "ok")
            return redirect(url_for("admin.areas"))
    return _areas_page(AreaForm(formdata=None), 422, {area.id: form})


# ---------------------------------------------------------------- stores

@bp.route("/stores", methods=["GET", "POST"])
@guarded("admin.manage")
def stores():
    form = StoreForm()
    if form.validate_on_submit():
        try:
            store = service.create_store(actor=current_user, code=form.code.data,
                                         name=form.name.data, area_id=form.area_id.data,
                                         particulars=form.particulars())
        except service.Invalid as exc:
            _apply(form, exc.errors)
        else:
            flash(_("已新增门店 %(code)s %(name)s", code=store.code, name=store.name), "ok")
            return redirect(url_for("admin.stores"))
    return render_template("admin/stores.html", form=form, stores=service.list_stores()), (
        422 if form.is_submitted() else 200)


@bp.route("/stores/<int:store_id>", methods=["GET", "POST"])
@guarded("admin.manage")
def edit_store(store_id: int):
    store = _get(Store, store_id)
    form = StoreForm(obj=store)
    if form.validate_on_submit():
        try:
            service.update_store(actor=current_user, store=store, code=form.code.data,
                                 name=form.name.data, area_id=form.area_id.data,
                                 particulars=form.particulars())
        except service.Invalid as exc:
            _apply(form, exc.errors)
        else:
            flash(_("门店资料已保存"), "ok")
            return redirect(url_for("admin.stores"))
    return render_template("admin/store_form.html", form=form, store=store), (
        422 if form.is_submitted() else 200)


# ---------------------------------------------------------------- users

@bp.route("/users")
@guarded("admin.manage")
def users():
    filters = UserFilterForm(request.args)
    rows = service.list_users(role=filters.role.data or "", store_id=filters.store_id.data,
                              active=filters.active.data or "")
    return render_template("admin/users.html", filters=filters, users=rows, action=ActionForm(),
                           now=clock.now())


@bp.route("/users/new", methods=["GET", "POST"])
@guarded("admin.manage")
def new_user():
    form = UserCreateForm()
    if form.validate_on_submit():
        try:
            user, password = service.create_user(actor=current_user, **form.user_data())
        except service.Invalid as exc:
            _apply(form, exc.errors)
        else:
            session[_ISSUED] = accounts.hold_issued_password(user_id=user.id, password=password)
            flash(_("已创建账户 %(name)s", name=user.username), "ok")
            return redirect(url_for("admin.issued", user_id=user.id))
    return render_template("admin/user_form.html", form=form, user=None), (
        422 if form.is_submitted() else 200)


def _user_page(user, form=None, reset=None, status=200):
    form = form or UserEditForm(obj=user, role=user.role.value, formdata=None)
    return render_template("admin/user_form.html", user=user, form=form,
                           reset=reset or PasswordResetForm(formdata=None),
                           action=ActionForm()), status


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@guarded("admin.manage")
def edit_user(user_id: int):
    user = _get(User, user_id)
    if request.method == "GET":
        return _user_page(user)
    form = UserEditForm()
    if form.validate_on_submit():
        try:
            handed = service.update_user(actor=current_user, user=user, **form.scope_data())
        except service.Invalid as exc:
            _apply(form, exc.errors)
        else:
            flash(_("账户资料已保存") + (_(",%(n)s 项待办已退回角色收件箱", n=handed) if handed else ""),
                  "ok")
            return redirect(url_for("admin.users"))
    return _user_page(user, form=form, status=422)


@bp.post("/users/<int:user_id>/password")
@guarded("admin.manage")
def reset_password(user_id: int):
    user = _get(User, user_id)
    reset = PasswordResetForm()
    if reset.validate_on_submit():
        try:
            password = service.reset_password(actor=current_user, user=user,
                                              password=reset.password.data or "")
        except service.Invalid as exc:
            _apply(reset, exc.errors)
        else:
            session[_ISSUED] = accounts.hold_issued_password(user_id=user.id, password=password)
            flash(_("已重置 %(name)s 的密码", name=user.username), "ok")
            return redirect(url_for("admin.issued", user_id=user.id))
    return _user_page(user, reset=reset, status=422)


@bp.route("/users/<int:user_id>/issued")
@guarded("admin.manage")
def issued(user_id: int):
    """The one-time password, shown once: it leaves the server as it is displayed."""
    user = _get(User, user_id)
    password = accounts.take_issued_password(ticket=session.pop(_ISSUED, None), user_id=user.id)
    response = make_response(render_template("admin/issued.html", user=user, password=password))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/users/<int:user_id>/deactivate")
@guarded("admin.manage")
def deactivate(user_id: int):
    user = _get(User, user_id)
    form = ActionForm()
    if form.validate_on_submit():
        try:
            handed = service.deactivate_user(actor=current_user, user=user)
        except service.Invalid as exc:
            flash(" ".join(exc.errors.values()), "error")
            return _user_page(user, status=422)
        flash(_("已停用 %(name)s,%(n)s 项未完成的待办已退回角色收件箱", name=user.username, n=handed),
              "ok")
    return redirect(url_for("admin.users"))


@bp.post("/users/<int:user_id>/reactivate")
@guarded("admin.manage")
def reactivate(user_id: int):
    user = _get(User, user_id)
    form = ActionForm()
    if form.validate_on_submit():
        try:
            service.reactivate_user(actor=current_user, user=user)
        except service.Invalid as exc:
            flash(" ".join(exc.errors.values()), "error")
            return _user_page(user, status=422)
        flash(_("已重新启用 %(name)s", name=user.username), "ok")
    return redirect(url_for("admin.users"))


# ---------------------------------------------------------------- settings

@bp.route("/settings", methods=["GET", "POST"])
@guarded("settings.edit")
def settings():
    form = settings_form()
    if form.validate_on_submit():
        try:
            changed = service.update_settings(actor=current_user, values=form.values())
        except service.Invalid as exc:
            _apply(form, exc.errors)
        else:
            flash(_("已保存 %(n)s 项设置", n=len(changed)) if changed else _("设置没有变化"), "ok")
            return redirect(url_for("admin.settings"))
    return render_template("admin/settings.html", form=form, rows=service.setting_rows(),
                           coverage=service.calendar_coverage()), (422 if form.is_submitted() else 200)


# ---------------------------------------------------------------- holiday years

@bp.route("/holidays")
@guarded("calendar.edit")
def holidays():
    year = request.args.get("year", type=int)
    if year is not None:
        return redirect(url_for("admin.holiday_year", year=year))
    return render_template("admin/holidays.html", coverage=service.calendar_coverage())


def _year_page(year, form, off, on, status=200, unread=()):
    grid = service.year_grid(year=year, holidays=off, workdays=on)
    return render_template("admin/holiday_year.html", year=year, form=form, grid=grid,
                           unread=unread, coverage=service.calendar_coverage()), status


def _fill(form, off, on, source=None):
    """Put the days into the editor's two lists (one date a line)."""
    form.holidays.data = "\n".join(d.isoformat() for d in sorted(off))
    form.workdays.data = "\n".join(d.isoformat() for d in sorted(on))
    if source:
        form.source.data = source


def _refused(year, form):
    """The page again with the messages, its year view drawn from the lists where they read."""
    days = []
    for field in (form.holidays, form.workdays):
        try:
            days.append(service.parse_day_list(text=field.data, year=year, field=field.name))
        except service.Invalid:
            days.append(set())
    return _year_page(year, form, *days, status=422)


@bp.route("/holidays/<int:year>", methods=["GET", "POST"])
@guarded("calendar.edit")
def holiday_year(year: int):
    try:
        service.check_holiday_year(year=year)
    except service.Invalid:
        abort(404)
    form = HolidayYearForm()
    if request.method == "GET":
        off, on = service.year_days(year=year)
        _fill(form, off, on)
        return _year_page(year, form, off, on)
    action = request.form.get("action", "preview")
    if not form.validate_on_submit():
        return _refused(year, form)
    try:
        if action == "parse":
            off, on, unread = service.read_notice(year=year, text=form.notice.data or "")
            _fill(form, off, on, source="notice")
            return _year_page(year, form, off, on, unread=unread)
        off = service.parse_day_list(text=form.holidays.data, year=year, field="holidays")
        on = service.parse_day_list(text=form.workdays.data, year=year, field="workdays")
        if action != "save":
            return _year_page(year, form, off, on)
        n_off, n_on = service.save_holiday_year(actor=current_user, year=year, source=form.source.data,
                                                holidays=form.holidays.data, workdays=form.workdays.data)
    except service.Invalid as exc:
        _apply(form, exc.errors)
        return _refused(year, form)
    flash(_("已保存%(year)s年节假日安排：放假%(off)s天，调休上班%(on)s天", year=year, off=n_off, on=n_on), "ok")
    return redirect(url_for("admin.holidays"))
