"""Group robots (store / area / HQ managers), the staff posts' delivery page and outgoing
webhooks (administrator), and a user's digest by e-mail. Parse → one service → render."""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from .. import permissions, staff_alerts
from ..forms import options
from ..forms.staff_channels import DigestMailForm, RobotForm, WebhookForm
from ..services import staff_channels as service
from ..services import staff_posts
from .util import form_step, require

bp = Blueprint("staff_channels", __name__)


def _actor():
    return current_user._get_current_object()


# ------------------------------------------------------------------ group robots

@bp.route("/robots", methods=["GET", "POST"])
@login_required
def robots():
    require("robots.manage")
    actor = _actor()
    form = RobotForm()
    form.scope.choices = options(permissions.scope_choices(actor))
    if form.validate_on_submit():
        answer = form_step(form, lambda: service.add_robot(
            actor=actor, scope=form.scope.data, kind=form.kind.data, name=form.name.data,
            url=form.url.data, secret=form.secret.data), refused=service.ChannelRefused,
            back=url_for(".robots"), done=_("已登记工作群机器人，可点“测试”发一条消息确认"))
        if answer is not None:
            return answer
    status = 422 if request.method == "POST" else 200
    return render_template("robots.html", form=form, rows=service.robots_visible_to(actor)), status


@bp.route("/robots/<int:robot_id>/test", methods=["POST"])
@login_required
def test_robot(robot_id: int):
    require("robots.manage")
    try:
        post = service.test_robot(actor=_actor(), robot_id=robot_id)
    except LookupError:
        abort(404)
    if post.status == "sent":
        flash(_("测试消息已发送到群"), "ok")
    else:
        flash(_("测试消息未能发送：%(error)s", error=post.error or post.status), "error")
    return redirect(url_for(".robots"))


@bp.route("/robots/<int:robot_id>/remove", methods=["POST"])
@login_required
def remove_robot(robot_id: int):
    require("robots.manage")
    try:
        service.remove_robot(actor=_actor(), robot_id=robot_id)
    except LookupError:
        abort(404)
    flash(_("已删除该机器人"), "ok")
    return redirect(url_for(".robots"))


# ------------------------------------------------------------------ deliveries (administrator)

@bp.route("/admin/staff-posts")
@login_required
def posts():
    require("admin.manage")
    return render_template("staff_posts.html", failures=staff_posts.failures(),
                           recent=staff_posts.recent())


@bp.route("/admin/staff-posts/<int:post_id>/retry", methods=["POST"])
@login_required
def retry(post_id: int):
    require("admin.manage")
    if staff_posts.retry(post_id=post_id):
        flash(_("已重新排队发送"), "ok")
    else:
        flash(_("只有发送失败的消息可以重发"), "error")
    return redirect(url_for(".posts"))


# ------------------------------------------------------------------ outgoing webhooks

def _webhook_form() -> WebhookForm:
    form = WebhookForm()
    form.events.choices = options((key, _(label)) for key, label in staff_alerts.EVENTS.items())
    return form


@bp.route("/admin/webhooks", methods=["GET", "POST"])
@login_required
def webhooks():
    require("admin.manage")
    form, secret = _webhook_form(), None
    if form.validate_on_submit():
        try:
            _hook, secret = service.add_webhook(actor=_actor(), name=form.name.data,
                                                url=form.url.data, events=form.events.data)
            form = _webhook_form()
            form.name.data = form.url.data = ""
        except service.ChannelRefused as exc:
            form.form_errors.append(str(exc))
    status = 422 if request.method == "POST" and secret is None else 200
    return render_template("webhooks.html", form=form, rows=service.webhooks(), secret=secret,
                           events=staff_alerts.EVENTS), status


@bp.route("/admin/webhooks/<int:webhook_id>/remove", methods=["POST"])
@login_required
def remove_webhook(webhook_id: int):
    require("admin.manage")
    try:
        service.remove_webhook(actor=_actor(), webhook_id=webhook_id)
    except LookupError:
        abort(404)
    flash(_("已删除该推送"), "ok")
    return redirect(url_for(".webhooks"))


# ------------------------------------------------------------------ my digest by e-mail

@bp.route("/account/digest", methods=["GET", "POST"])
@login_required
def digest_mail():
    actor = _actor()
    form = DigestMailForm()
    if request.method == "GET":
        form.email.data, form.by_mail.data = actor.email or "", actor.digest_by_mail
    elif form.validate_on_submit():
        answer = form_step(form, lambda: service.set_digest_mail(
            actor=actor, email=form.email.data, by_mail=form.by_mail.data),
            refused=service.ChannelRefused, back=url_for(".digest_mail"), done=_("已保存"))
        if answer is not None:
            return answer
    status = 422 if request.method == "POST" else 200
    return render_template("digest_mail.html", form=form), status
