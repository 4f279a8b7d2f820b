"""Forms of the sales pages: a monthly target, a till token."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Length, Regexp


class TargetForm(FlaskForm):
    store_id = SelectField(_l("门店"), coerce=int, validators=[DataRequired(_l("请选择门店"))])
    month = StringField(_l("月份"), validators=[
        DataRequired(_l("请填写月份")), Regexp(r"^\d{4}-\d{2}$", message=_l("月份格式应为 2026-10"))])
    amount = StringField(_l("目标销售额(元)"), validators=[DataRequired(_l("请填写目标金额"))])


class TokenForm(FlaskForm):
    store_id = SelectField(_l("门店"), coerce=int, validators=[DataRequired(_l("请选择门店"))])
    name = StringField(_l("名称(如:收银机1)"), validators=[Length(max=60)])
