"""Administration forms: areas, stores, users, company settings.

The forms check shape (filled in, length); the rules that need the database or span fields
(duplicate codes, which role needs a store or an area) live in services/admin.py.
"""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import (BooleanField, DateField, HiddenField, PasswordField, SelectField, StringField,
                     TextAreaField)
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from .. import settings
from ..extensions import db
from ..models import ROLE_LABELS as ROLE_NAMES
from ..models import Area, Role, Store, parse_id
from . import options

ROLE_LABELS = {role: _l(name) for role, name in ROLE_NAMES.items()}


def optional_int(value):
    """Select value → id, or None for the empty choice (and anything unreadable, or beyond any
    id: the database would raise on it)."""
    if isinstance(value, int):
        return value
    return parse_id(value)


def area_choices(blank):
    areas = db.session.scalars(select(Area).order_by(Area.name)).all()
    return options([("", blank)] + [(a.id, a.name) for a in areas])


def store_choices(blank):
    stores = db.session.scalars(select(Store).join(Area).order_by(Area.name, Store.code)).all()
    return options([("", blank)] + [(s.id, f"{s.code} {s.name}({s.area.name})") for s in stores])


def role_choices(blank=None):
    head = [("", blank)] if blank is not None else []
    return options(head + [(r.value, ROLE_LABELS[r]) for r in Role])


class ActionForm(FlaskForm):
    """A button that posts (deactivate, reactivate): only the CSRF token."""


class AreaForm(FlaskForm):
    name = StringField(_l("区域名称"), validators=[DataRequired(_l("请填写区域名称")),
                                               Length(max=80, message=_l("区域名称不能超过80个字"))])


class StoreForm(FlaskForm):
    code = StringField(_l("门店编码"), validators=[DataRequired(_l("请填写门店编码")),
                                               Length(max=20, message=_l("门店编码不能超过20个字符"))])
    name = StringField(_l("门店名称"), validators=[DataRequired(_l("请填写门店名称")),
                                               Length(max=80, message=_l("门店名称不能超过80个字"))])
    area_id = SelectField(_l("所属区域"), coerce=optional_int, validate_choice=False,
                          validators=[DataRequired(_l("请选择所属区域"))])
    # The particulars message templates and printed forms fill in (seed: "地址：XX路XX专卖店").
    address = StringField(_l("门店地址"), validators=[Optional(), Length(max=200, message=_l("门店地址不能超过200个字"))])
    phone = StringField(_l("门店电话"), validators=[Optional(), Length(max=40, message=_l("门店电话不能超过40个字符"))])
    opening_hours = StringField(_l("营业时间"), validators=[Optional(), Length(max=80, message=_l("营业时间不能超过80个字"))])
    opened_on = DateField(_l("开业日期"), validators=[Optional()])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.area_id.choices = area_choices(_l("请选择"))

    def particulars(self) -> dict:
        return {key: getattr(self, key).data for key in STORE_PARTICULARS}


STORE_PARTICULARS = ("address", "phone", "opening_hours", "opened_on")


class _ScopeFields(FlaskForm):
    display_name = StringField(_l("姓名"), validators=[DataRequired(_l("请填写姓名")),
                                                     Length(max=60, message=_l("姓名不能超过60个字"))])
    role = SelectField(_l("角色"), validate_choice=False, validators=[DataRequired(_l("请选择角色"))])
    store_id = SelectField(_l("所属门店"), coerce=optional_int, validate_choice=False,
                           description=_l("导购、店长必选;其他角色留空"))
    area_id = SelectField(_l("所属区域"), coerce=optional_int, validate_choice=False,
                          description=_l("片区主管、区域经理必选;其他角色留空"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.role.choices = role_choices(_l("请选择"))
        self.store_id.choices = store_choices(_l("(无)"))
        self.area_id.choices = area_choices(_l("(无)"))

    def scope_data(self) -> dict:
        return {"display_name": self.display_name.data, "role": self.role.data,
                "store_id": self.store_id.data, "area_id": self.area_id.data}


class UserCreateForm(_ScopeFields):
    username = StringField(_l("用户名"), validators=[DataRequired(_l("请填写用户名")),
                                                  Length(max=60, message=_l("用户名不能超过60个字符"))],
                           description=_l("登录用,英文字母、数字或 . _ -,创建后不能修改"))
    password = PasswordField(_l("初始密码"), validators=[Optional()],
                             description=_l("留空则由系统生成一次性密码;用户首次登录时须修改密码"))

    def user_data(self) -> dict:
        return {"username": self.username.data, "password": self.password.data or "",
                **self.scope_data()}


class UserEditForm(_ScopeFields):
    pass


class PasswordResetForm(FlaskForm):
    password = PasswordField(_l("新的初始密码"), validators=[Optional()],
                             description=_l("留空则由系统生成一次性密码"))


class UserFilterForm(FlaskForm):
    """GET filters of the user list (no CSRF: it changes nothing)."""

    class Meta:
        csrf = False

    role = SelectField(_l("角色"), validate_choice=False)
    store_id = SelectField(_l("门店"), coerce=optional_int, validate_choice=False)
    active = SelectField(_l("状态"), validate_choice=False,
                         choices=options([("", _l("全部状态")), ("1", _l("启用")), ("0", _l("已停用"))]))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.role.choices = role_choices(_l("全部角色"))
        self.store_id.choices = store_choices(_l("全部门店"))


def _setting_validator(key):
    def check(form, field):
        from ..services.admin import clean_setting

        try:
            clean_setting(key, field.data)
        except ValueError as exc:
            raise ValidationError(str(exc)) from exc
    return check


def settings_form(*args, **kwargs) -> FlaskForm:
    """One field per entry of settings.SPECS, named by its key, filled with the current value."""

    class SettingsForm(FlaskForm):
        def values(self) -> dict:
            return {key: self[key].data for key in settings.SPECS}

    for key, spec in settings.SPECS.items():
        if spec.kind == "bool":
            field = BooleanField(spec.label, description=spec.help)
        elif spec.kind == "dates":
            field = TextAreaField(spec.label, description=spec.help, validators=[_setting_validator(key)])
        else:
            field = StringField(spec.label, description=spec.help, validators=[_setting_validator(key)])
        setattr(SettingsForm, key, field)
    form = SettingsForm(*args, **kwargs)
    if not form.is_submitted():
        for key in settings.SPECS:
            value = settings.get(key)
            form[key].data = settings.get_bool(key) if settings.SPECS[key].kind == "bool" else value
    return form


class HolidayYearForm(FlaskForm):
    """A year's days off and make-up workdays: pasted from the State Council's notice and parsed,
    or clicked in the year view; previewed before they are saved."""

    notice = TextAreaField(_l("国务院办公厅节假日安排通知"),
                           description=_l("粘贴通知全文后点“解析通知”，核对下方日历后再保存"),
                           validators=[Length(max=20000, message=_l("通知不能超过20000个字"))])
    holidays = TextAreaField(_l("放假日"), description=_l("每行一个日期，如 2027-01-01"))
    workdays = TextAreaField(_l("调休上班日"), description=_l("周末上班的日期，每行一个"))
    source = HiddenField(default="manual")
