"""Forms for where staff messages go: a group robot, an outgoing webhook, the digest by e-mail."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, SelectField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from . import options


class RobotForm(FlaskForm):
    scope = SelectField(_l("哪个群（门店 / 区域 / 总部）"), validators=[DataRequired(_l("请选择范围"))])
    kind = SelectField(_l("类型"), choices=options([("wecom", _l("企业微信群机器人")),
                                                  ("dingtalk", _l("钉钉群机器人"))]))
    name = StringField(_l("名称"), validators=[DataRequired(_l("请填写名称")), Length(max=60)])
    url = StringField(_l("Webhook 地址"), validators=[DataRequired(_l("请填写 Webhook 地址")),
                                                     Length(max=500)])
    secret = PasswordField(_l("钉钉加签密钥（SEC 开头，可不填）"), validators=[Optional(), Length(max=200)])


class WebhookForm(FlaskForm):
    name = StringField(_l("名称"), validators=[DataRequired(_l("请填写名称")), Length(max=60)])
    url = StringField(_l("接收地址（https://）"), validators=[DataRequired(_l("请填写接收地址")),
                                                         Length(max=500)])
    events = SelectMultipleField(_l("推送的事件"), option_widget=CheckboxInput(),
                                 widget=ListWidget(prefix_label=False))


class DigestMailForm(FlaskForm):
    email = StringField(_l("电子邮箱"), validators=[Optional(), Length(max=200)])
    by_mail = BooleanField(_l("每天 9 点通过邮件接收今日待办汇总"))
