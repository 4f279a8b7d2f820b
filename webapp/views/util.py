"""Small helpers shared by the blueprints."""
from flask import abort
from flask_login import current_user

from .. import permissions
from ..extensions import db


def get_visible(model, object_id: int, action: str):
    """Load an object the current user may act on, or 404 (never reveal that it exists)."""
    obj = db.session.get(model, object_id)
    if obj is None or not permissions.can(current_user, action, obj):
        abort(404)
    return obj


def require(action: str) -> None:
    """403 unless the current user's role may do this at all."""
    if not permissions.can(current_user, action):
        abort(403)
