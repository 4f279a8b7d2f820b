"""The stand-in form: for whom, who stands in, from which day to which day (local days)."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField
from wtforms.validators import InputRequired

from .registration import DateField


class StandInForm(FlaskForm):
    user_id = SelectField(_l("谁外出"), coerce=int, validators=[InputRequired()])
    stand_in_id = SelectField(_l("代班人"), coerce=int, validators=[InputRequired()])
    first_day = DateField(_l("开始日期"), validators=[InputRequired(_l("请填写开始日期"))])
    last_day = DateField(_l("结束日期（含当天）"), validators=[InputRequired(_l("请填写结束日期"))])
