"""Login, logout, first-login password, language switch."""
import time

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from ..extensions import db, login_manager
from ..forms.auth import LoginForm, PasswordForm
from ..models import MAX_ID, User
from ..services import accounts
from .util import client_address, same_origin_path

bp = Blueprint("auth", __name__)


@login_manager.user_loader
def load_user(user_id: str):
    """The cookie names the user and their session epoch (User.get_id): a cookie from before a
    logout or a password change names an old epoch and logs nobody in."""
    uid, _, epoch = user_id.partition(":")
    if not uid.isdigit() or int(uid) > MAX_ID:
        return None
    user = db.session.get(User, int(uid))
    return user if user is not None and str(user.session_epoch) == epoch else None


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated and request.method == "GET":  # already in: to work
        return redirect(url_for("inbox.index"))
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = accounts.authenticate(username=form.username.data, password=form.password.data,
                                         ip=client_address())
        except accounts.LoginRefused as exc:
            flash(str(exc), "error")
            return render_template("login.html", form=form), 401
        session.clear()  # nothing of a session from before the login survives it
        login_user(user)
        session.permanent = True
        session["login_at"] = session["seen"] = int(time.time())
        if user.must_change_password:
            return redirect(url_for("auth.password"))
        return redirect(url_for("inbox.index"))
    return render_template("login.html", form=form)


@bp.post("/logout")
@login_required
def logout():
    accounts.end_sessions(user=current_user._get_current_object())
    logout_user()
    session.clear()
    return redirect(url_for("auth.login"))


@bp.route("/password", methods=["GET", "POST"])
@login_required
def password():
    form = PasswordForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        try:
            accounts.change_password(user=user, current=form.current.data, password=form.password.data)
        except accounts.PasswordRefused as exc:
            getattr(form, exc.field).errors.append(str(exc))
            return render_template("password.html", form=form), 422
        login_user(user)  # this session carries the new epoch; every other one has ended
        flash(_("密码已更新"), "ok")
        return redirect(url_for("inbox.index"))
    return render_template("password.html", form=form)


@bp.route("/lang/<code>")
def language(code: str):
    if code in ("zh_CN", "en"):
        session["lang"] = code
    return redirect(same_origin_path(request.referrer) or url_for("inbox.index"))


@bp.before_app_request
def session_timeouts():
    """A login ends SESSION_HOURS after it began, or after SESSION_IDLE_MINUTES without a request."""
    if "_user_id" not in session:  # this cookie is no login (whoever `g` last saw)
        return None
    now, config = int(time.time()), current_app.config
    login_at, seen = session.get("login_at", 0), session.get("seen", 0)
    if now - login_at > config["SESSION_HOURS"] * 3600 or now - seen > config["SESSION_IDLE_MINUTES"] * 60:
        logout_user()
        session.clear()
        flash(_("登录已过期，请重新登录"), "error")
        return redirect(url_for("auth.login"))
    if now - seen >= 60:  # rewrite the cookie at most once a minute
        session["seen"] = now
    return None


@bp.before_app_request
def force_password_change():
    """A user created by an administrator sets their own password before anything else."""
    if (current_user.is_authenticated and current_user.must_change_password
            and request.endpoint not in ("auth.password", "auth.logout", "static", "health.healthz")):
        return redirect(url_for("auth.password"))
