"""Login and password forms."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length


class LoginForm(FlaskForm):
    username = StringField(_l("用户名"), validators=[DataRequired(_l("请输入用户名"))])
    password = PasswordField(_l("密码"), validators=[DataRequired(_l("请输入密码"))])


class PasswordForm(FlaskForm):
    password = PasswordField(_l("新密码"), validators=[
        DataRequired(_l("请输入新密码")), Length(min=8, message=_l("密码至少8位"))])
    confirm = PasswordField(_l("确认新密码"), validators=[
        EqualTo("password", message=_l("两次输入的密码不一致"))])
