"""The home page of every role: its inbox, and its notifications."""
import functools

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from .. import clock, permissions
from ..extensions import db
from ..models import Task
from ..services import inbox, routine, tasks
from ..workflows.engine import REGISTRY, allowed_transitions, task_label
from .util import page_arg, run_step

bp = Blueprint("inbox", __name__)


@bp.route("/")
@login_required
def index():
    page = page_arg()
    tier = request.args.get("tier") or None
    if tier not in inbox.TIERS:  # anything else (or nothing) is the whole inbox
        tier = None
    process = REGISTRY.get(request.args.get("process") or "")  # a group's link: one process
    user = current_user._get_current_object()  # not the proxy: read once per row below
    result = inbox.inbox_page(user, limit=50, offset=(page - 1) * 50, tier=tier,
                              process=process.name if process else None)
    g.nav = result.nav
    actions = {t.id: allowed_transitions(user, t) for t in result.rows}
    # a role told of a breach on a complaint may comment on it and remind its holder
    watch = {t.id for t in result.rows
             if t.process.startswith("complaint") and permissions.can_watch(user, t)}
    bulk = any(a.name == "approve" for acts in actions.values() for a in acts)  # bulk approve shown
    return render_template("inbox.html", tasks=result.rows, actions=actions, label=task_label,
                           tr=functools.cache(_), bulk=bulk, watch=watch, page=page, now=clock.now(),
                           tier=tier, tiers=inbox.TIERS, process=process,
                           routine=routine.inbox_panel(actor=user))


@bp.route("/notifications")
@login_required
def notifications():
    notes = inbox.notifications_for(current_user, unread_only=False, limit=100)
    return render_template("notifications.html", notes=notes, label=task_label)


@bp.post("/notifications/read")
@login_required
def mark_read():
    inbox.mark_all_read(user=current_user)
    flash(_("已全部标为已读"), "ok")
    return redirect(url_for("inbox.notifications"))


@bp.post("/tasks/<int:task_id>/<any(claim, release):verb>")
@login_required
def claim(task_id: int, verb: str):
    task = db.session.get(Task, task_id)
    if task is None or not permissions.can(current_user, "case.view", task):
        abort(404)
    change = tasks.claim if verb == "claim" else tasks.release
    return run_step(lambda: change(user=current_user, task=task), refused=tasks.ClaimRefused,
                    back=url_for("inbox.index"),
                    done=_("已认领") if verb == "claim" else _("已退回角色待办池"))
