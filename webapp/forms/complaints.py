"""Complaint forms: recording a complaint, and the fields each handling step asks for."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateTimeLocalField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from ..calendar import YEARS
from ..i18n_labels import N_
from ..services.complaints import CHANNELS, CONSENT_HOW, SURVEY_SCORES
from . import options


def _choices(mapping):
    return [(k, _l(v)) for k, v in mapping.items()]


def plausible_time(form, field):
    """A time a complaint can have: the field takes any year, but 0001-01-01 00:00 in Shanghai
    has no UTC time to be stored as."""
    if field.data and field.data.year not in YEARS:
        raise ValidationError(_l("请填写 2000 年至 2100 年之间的时间"))


class ComplaintForm(FlaskForm):
    """《顾客投诉意见处理表》's first part: who complains, about what, what they want."""

    channel = SelectField(_l("投诉渠道"), choices=options(_choices(CHANNELS)),
                          validators=[DataRequired(_l("请选择投诉渠道"))])
    contact = StringField(_l("顾客联系方式（手机或邮箱）"),
                          validators=[DataRequired(_l("请填写顾客联系方式（手机或邮箱）")), Length(max=120)])
    customer_name = StringField(_l("顾客姓名（会员可留空）"), validators=[Optional(), Length(max=60)])
    store_id = SelectField(_l("被投诉门店"), coerce=int,
                           validators=[DataRequired(_l("请选择被投诉的门店（门店不存在）"))])
    product = StringField(_l("涉及商品"), validators=[Optional(), Length(max=120)])
    description = TextAreaField(_l("投诉内容"), validators=[DataRequired(_l("请填写投诉内容")),
                                                         Length(max=4000)])
    customer_wants = TextAreaField(_l("顾客诉求"), validators=[Optional(), Length(max=2000)])
    received_at = DateTimeLocalField(_l("受理时间（留空为现在）"), format="%Y-%m-%dT%H:%M",
                                     validators=[Optional(), plausible_time])


class StepForm(FlaskForm):
    """Every step's fields; the service's check_<step> decides which are required."""

    version = HiddenField(validators=[InputRequired()])
    comment = TextAreaField(_l("说明"), validators=[Optional(), Length(max=2000)])
    reply_text = TextAreaField(_l("回复内容（以短信发给顾客）"), validators=[Optional(), Length(max=2000)])
    agreed_reply_at = DateTimeLocalField(_l("与顾客约定的回复时间"), format="%Y-%m-%dT%H:%M",
                                         validators=[Optional(), plausible_time])
    cause = TextAreaField(_l("顾客不满的原因"), validators=[Optional(), Length(max=2000)])
    solution_text = TextAreaField(_l("解决方案"), validators=[Optional(), Length(max=2000)])
    solution_steps = TextAreaField(_l("向顾客说明的步骤"), validators=[Optional(), Length(max=2000)])
    solution_time = StringField(_l("所需时间"), validators=[Optional(), Length(max=120)])
    solution_effect = TextAreaField(_l("预期效果"), validators=[Optional(), Length(max=2000)])
    manager_decision = TextAreaField(_l("客服经理的决定"), validators=[Optional(), Length(max=2000)])
    carry_out_note = TextAreaField(_l("执行情况"), validators=[Optional(), Length(max=2000)])
    store_handling = TextAreaField(_l("门店处理情况"), validators=[Optional(), Length(max=2000)])
    area_opinion = TextAreaField(_l("区域主管意见"), validators=[Optional(), Length(max=2000)])
    consent_by = StringField(_l("同意人"), validators=[Optional(), Length(max=60)])
    consent_how = SelectField(_l("同意方式"), choices=options([("", _l("请选择"))] + _choices(CONSENT_HOW)),
                              validators=[Optional()])
    consent_at = DateTimeLocalField(_l("同意时间（留空为现在）"), format="%Y-%m-%dT%H:%M",
                                    validators=[Optional(), plausible_time])
    revisit_note = TextAreaField(_l("回访记录"), validators=[Optional(), Length(max=2000)])
    survey_score = SelectField(_l("满意度"), coerce=int, validators=[Optional()],
                               choices=options([(0, _l("请选择"))] + _choices(SURVEY_SCORES)))
    survey_comment = TextAreaField(_l("顾客意见"), validators=[Optional(), Length(max=2000)])


# Which StepForm fields each step shows (the template renders them in this order).
STEP_FIELDS = {
    "reply": ("reply_text",), "escalate": ("agreed_reply_at", "comment"),
    "hand_back": ("manager_decision",),
    "propose": ("cause", "solution_text", "solution_steps", "solution_time", "solution_effect"),
    "consent": ("consent_by", "consent_how", "consent_at"),
    "reject": ("comment",), "carry_out": ("carry_out_note",),
    "submit": ("store_handling", "area_opinion"),
    "revisit": ("revisit_note",), "survey": ("survey_score", "survey_comment"),
    "reopen": ("comment",), "take_over": ("comment",),
}
CHANNEL_LABELS = {k: N_(v) for k, v in CHANNELS.items()}
