"""The outbox: SMS and e-mails the system wrote, in the user's scope."""
from flask import Blueprint, render_template
from flask_login import current_user, login_required
from sqlalchemy import select

from .. import permissions
from ..extensions import db
from ..models import OutboxMessage
from .util import require

bp = Blueprint("outbox", __name__)


@bp.route("/outbox")
@login_required
def index():
    require("outbox.view")
    scope = permissions.store_area_filter(current_user, OutboxMessage.store_id)
    rows = db.session.scalars(select(OutboxMessage).where(scope)
                              .order_by(OutboxMessage.id.desc()).limit(200)).all()
    return render_template("outbox.html", messages=rows)
