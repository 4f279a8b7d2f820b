"""The 《入会申请表》 as a web form: fields marked * are mandatory (seed 000 §二2, SPEC §3.9)."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField as _DateField
from wtforms import FieldList, Form, FormField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Email, InputRequired, Length, Optional, ValidationError

from ..services.members import HEARD_FROM, OCCUPATION
from ..services.registration import InvalidMobile, normalise_mobile
from . import options

OCCUPATIONS = options([("", _l("(未填)"))] + [(k, _l(v)) for k, v in OCCUPATION.items() if k])
HEARD_FROM_CHOICES = options([("", _l("(未填)"))] + [(k, _l(v)) for k, v in HEARD_FROM.items() if k])


class DateField(_DateField):
    """A date field whose format error is in the user's language (WTForms' own is English)."""

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError as exc:
            raise ValueError(_l("日期格式不正确,请按 年-月-日 填写")) from exc


def chinese_mobile(form, field):
    try:
        normalise_mobile(field.data or "")
    except InvalidMobile as exc:
        raise ValidationError(str(exc)) from exc


def month_day(text: str) -> int | None:
    """"05-20", "5-20", "0520" or a whole date "2015-05-20" as MMDD; None when not a day of
    the year (29 February is one)."""
    import re
    from datetime import date

    text = text.strip().replace("/", "-").replace(".", "-").replace("月", "-").rstrip("日")
    m = (re.fullmatch(r"(?:\d{4}-)?(\d{1,2})-(\d{1,2})", text)
         or re.fullmatch(r"(\d{2})(\d{2})", text))
    if not m:
        return None
    try:
        day = date(2000, int(m.group(1)), int(m.group(2)))  # a leap year: 29 February is a day
    except ValueError:
        return None
    return day.month * 100 + day.day


class AnniversaryEntry(Form):
    """One row of the anniversaries list: a name and a month-day; a blank row is ignored."""
    name = StringField(_l("纪念日名称"), validators=[Optional(), Length(max=20)],
                       render_kw={"placeholder": _l("如：结婚纪念日")})
    day = StringField(_l("日期（月-日）"), validators=[Optional(), Length(max=10)],
                      render_kw={"placeholder": "05-20"})

    def validate_day(self, field):
        if (field.data or "").strip() and month_day(field.data) is None:
            raise ValidationError(_l("请按 月-日 填写，如 05-20"))
        if (field.data or "").strip() and not (self.name.data or "").strip():
            raise ValidationError(_l("请填写纪念日名称"))

    def validate_name(self, field):
        if (field.data or "").strip() and not (self.day.data or "").strip():
            raise ValidationError(_l("请填写纪念日日期"))


MAX_ANNIVERSARIES = 5


class RegistrationForm(FlaskForm):
    name = StringField(_l("姓名"), validators=[DataRequired(_l("请填写姓名")), Length(max=30)])
    mobile = StringField(_l("手机号码"), validators=[DataRequired(_l("请填写手机号码")), chinese_mobile])
    gender = SelectField(_l("性别"), choices=options([("", _l("请选择")), ("M", _l("男")), ("F", _l("女"))]),
                         validators=[InputRequired(_l("请选择性别")), DataRequired(_l("请选择性别"))])
    birth_date = DateField(_l("出生日期"), validators=[InputRequired(_l("请填写出生日期"))])
    associate_id = SelectField(_l("分管导购"), coerce=int,
                               validators=[DataRequired(_l("请选择分管导购"))])
    applied_on = DateField(_l("申请日期"), validators=[InputRequired(_l("请填写申请日期"))])
    address = StringField(_l("家庭地址"), validators=[Optional(), Length(max=200)])
    work_address = StringField(_l("单位地址"), validators=[Optional(), Length(max=200)])
    email = StringField(_l("电子邮箱"), validators=[Optional(), Email(_l("邮箱格式不正确"))])
    occupation = SelectField(_l("职业"), choices=OCCUPATIONS, validators=[Optional()])
    anniversaries = FieldList(FormField(AnniversaryEntry), label=_l("结婚纪念日及其他纪念日"),
                              min_entries=2, max_entries=MAX_ANNIVERSARIES)
    pref_sizes = StringField(_l("尺码"), validators=[Optional(), Length(max=100)])
    pref_styles = StringField(_l("款式"), validators=[Optional(), Length(max=200)])
    pref_colours = StringField(_l("颜色"), validators=[Optional(), Length(max=100)])
    preferences = TextAreaField(_l("其他喜好"), validators=[Optional(), Length(max=500)])
    heard_from = SelectField(_l("了解品牌的途径"), choices=HEARD_FROM_CHOICES, validators=[Optional()])
    comment = TextAreaField(_l("补充说明"), validators=[Optional(), Length(max=500)])
    version = HiddenField()

    def validate_birth_date(self, field):
        if field.data and self.applied_on.data and field.data >= self.applied_on.data:
            raise ValidationError(_l("出生日期应早于申请日期"))

    def member_data(self) -> dict:
        """Only the member's fields, as the service expects them."""
        keys = ("name", "mobile", "gender", "birth_date", "associate_id", "applied_on", "address",
                "work_address", "email", "occupation", "pref_sizes", "pref_styles", "pref_colours",
                "preferences", "heard_from")
        data = {k: getattr(self, k).data for k in keys}
        data["anniversaries"] = [(e.form.name.data.strip(), month_day(e.form.day.data))
                                 for e in self.anniversaries
                                 if (e.form.name.data or "").strip() and (e.form.day.data or "").strip()]
        for key in ("address", "work_address", "email", "pref_sizes", "pref_styles", "pref_colours",
                    "preferences"):
            data[key] = (data[key] or "").strip()
        data["name"] = data["name"].strip()
        for key in ("occupation", "heard_from"):  # optional: a post without them means "not filled"
            data[key] = data[key] or ""
        return data
