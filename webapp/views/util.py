"""Small helpers shared by the blueprints."""
from flask import abort, request
from flask_login import current_user
from werkzeug.routing import IntegerConverter

from .. import permissions
from ..extensions import db
from ..models import MAX_ID


class IdConverter(IntegerConverter):
    """<int:…> in our URLs is always an id: a number no row can have is a 404 (the database
    would raise on it instead of finding nothing)."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def get_visible(model, object_id: int, action: str):
    """Load an object the current user may act on, or 404 (never reveal that it exists)."""
    obj = db.session.get(model, object_id)
    if obj is None or not permissions.can(current_user, action, obj):
        abort(404)
    return obj


def local_next(default: str) -> str:
    """The form's `next` when it is a path on this site, else `default` (no open redirect)."""
    target = request.form.get("next") or ""
    if target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return default


def page_arg(limit: int = 100_000) -> int:
    """?page=N as a page number from 1 to `limit`; anything else reads as the nearest of those."""
    return min(max(1, request.args.get("page", 1, type=int)), limit)


def require(action: str) -> None:
    """403 unless the current user's role may do this at all."""
    if not permissions.can(current_user, action):
        abort(403)
