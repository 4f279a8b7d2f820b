"""Stand-ins while away (代班): arrange one for yourself or someone you manage, see and cancel."""

from flask import Blueprint, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from ..calendar import YEARS
from ..periods import day_window
from ..extensions import db
from ..forms import options
from ..forms.standins import StandInForm
from ..models import User
from ..services import standins as service
from .util import form_step, run_step

bp = Blueprint("standins", __name__)


def _people(actor: User) -> list[User]:
    """Whom the actor may arrange for: themselves and the colleagues they manage."""
    scope = select(User).where(User.active.is_(True)).order_by(User.display_name)
    return [u for u in db.session.scalars(scope) if service.may_arrange_for(actor, u)]


def _form(actor: User) -> StandInForm:
    form = StandInForm()
    people = _people(actor)
    form.user_id.choices = options((u.id, u.display_name) for u in people)
    seen = {}
    for person in people:
        for candidate in service.candidates(person):
            seen.setdefault(candidate.id, candidate.display_name)
    form.stand_in_id.choices = options(sorted(seen.items(), key=lambda item: item[1]))
    if request.method == "GET":
        form.user_id.data = actor.id
    return form


@bp.route("/standins", methods=["GET", "POST"])
@login_required
def index():
    actor = current_user._get_current_object()
    form = _form(actor)
    if form.validate_on_submit():
        first, last = form.first_day.data, form.last_day.data
        if first.year not in YEARS or last.year not in YEARS:
            form.last_day.errors.append(_("日期超出范围"))
        else:
            answer = form_step(form, lambda: service.arrange(
                actor=actor, user=db.session.get(User, form.user_id.data),
                stand_in=db.session.get(User, form.stand_in_id.data),
                starts_at=day_window(first)[0], ends_at=day_window(last)[1]),
                refused=service.StandInRefused, back=url_for(".index"), done=_("已安排代班"))
            if answer is not None:
                return answer
    status = 422 if request.method == "POST" else 200
    return render_template("standins.html", form=form, rows=service.visible_to(actor)), status


@bp.route("/standins/<int:stand_in_id>/cancel", methods=["POST"])
@login_required
def cancel(stand_in_id: int):
    actor = current_user._get_current_object()
    return run_step(lambda: service.cancel(actor=actor, stand_in_id=stand_in_id),
                    refused=service.StandInRefused, back=url_for(".index"), done=_("已取消代班"))
