"""Administration: areas, stores, users, settings (administrator only)."""
from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.route("/")
def index():
    return "admin"
