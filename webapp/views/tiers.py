"""Tier pages: the store manager's list of proposals (filtered by tier, applied in bulk), the
manual change on the member page, HQ's recompute on demand."""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from .. import permissions
from ..models import Member, parse_id
from ..services import tiers
from .util import get_visible, require, run_step

bp = Blueprint("tiers", __name__)


@bp.route("/tiers")
@login_required
def index():
    require("member.view")
    tier = request.args.get("tier", "")
    tier = tier if tier in tiers.TIERS else ""
    return render_template("tiers.html", cases=tiers.proposals(current_user, tier=tier), tier=tier,
                           can_decide=permissions.can(current_user, "tier.change"),
                           can_recompute=permissions.can(current_user, "tier.recompute"))


@bp.post("/tiers")
@login_required
def decide():
    require("tier.change")
    transition = request.form.get("action", "")
    if transition not in ("apply", "decline"):
        abort(400)
    ids = [i for i in (parse_id(v) for v in request.form.getlist("case")) if i is not None]
    if not ids:
        flash(_("请先勾选等级调整建议"), "error")
    else:
        result = tiers.decide(actor=current_user, case_ids=ids, transition=transition)
        flash(_("已处理 %(done)d 条", done=len(result["done"])), "ok")
        for _case_id, message in result["refused"]:
            flash(_(message), "error")
    return redirect(url_for("tiers.index", tier=request.form.get("tier", "")))


@bp.post("/tiers/recompute")
@login_required
def recompute():
    require("tier.recompute")
    result = tiers.review(actor=current_user)
    flash(_("已重新计算客户等级，新增调整建议 %(n)d 条", n=result["proposed"]), "ok")
    return redirect(url_for("tiers.index"))


@bp.post("/members/<int:member_id>/tier")
@login_required
def change(member_id: int):
    member = get_visible(Member, member_id, "member.view")
    tier, reason = request.form.get("tier", ""), request.form.get("reason", "")
    return run_step(lambda: tiers.set_tier(actor=current_user, member=member, tier=tier, reason=reason),
                    refused=tiers.TierRefused,
                    back=url_for("members.detail", member_id=member.id), done=_("已调整客户等级"))
