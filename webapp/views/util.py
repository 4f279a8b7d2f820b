"""Small helpers shared by the blueprints."""
from __future__ import annotations

import re
from io import BytesIO
from urllib.parse import quote, urlsplit

from flask import abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.routing import IntegerConverter

from .. import permissions
from ..extensions import db
from ..models import MAX_ID
from ..services.tiers import TIERS

# C0 controls and DEL, but tab, line feed and carriage return (text areas hold those).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# Anything a browser drops or reads as a path separator while it resolves a Location.
_UNSAFE_IN_TARGET = re.compile(r"[\x00-\x20\x7f\\]")


class IdConverter(IntegerConverter):
    """<int:…> in our URLs is always an id: a number no row can have is a 404 (the database
    would raise on it instead of finding nothing)."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def get_visible(model, object_id: int, action: str, *, options=()):
    """Load an object the current user may act on, or 404 (never reveal that it exists).
    `options`: loader options (what the page reads of it, in the same statement)."""
    obj = db.session.get(model, object_id, options=options)
    if obj is None or not permissions.can(current_user, action, obj):
        abort(404)
    return obj


def same_origin_path(target: str | None) -> str | None:
    """`target` as a path on this site (with its query), or None: the one test of every redirect
    to a place the request named. A browser drops tabs and newlines and reads a backslash as a
    slash, so "/\\t/evil.example/" would lead off-site: such a target is refused, not cleaned."""
    if not target or _UNSAFE_IN_TARGET.search(target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:  # an absolute URL: only to this host (a Referer is one)
        if parts.scheme not in ("http", "https") or parts.netloc != request.host:
            return None
        target = parts.path + (f"?{parts.query}" if parts.query else "")
    if not target.startswith("/") or target.startswith("//"):
        return None
    return target


def local_next(default: str) -> str:
    """The form's `next` when it is a path on this site, else `default` (no open redirect)."""
    return same_origin_path(request.form.get("next")) or default


def page_arg(limit: int = 100_000) -> int:
    """?page=N as a page number from 1 to `limit`; anything else reads as the nearest of those."""
    return min(max(1, request.args.get("page", 1, type=int)), limit)


def tier_arg(values=None) -> str:
    """?tier= (or the form's) as a list's tier folder: "A", "B" or "C"; anything else, or
    nothing, is "" (all tiers)."""
    tier = (request.args if values is None else values).get("tier", "")
    return tier if tier in TIERS else ""


def require(action: str) -> None:
    """403 unless the current user's role may do this at all."""
    if not permissions.can(current_user, action):
        abort(403)


def run_step(action, *, refused, back: str, done: str | None = None, forbidden=(), then=None):
    """Run one service call, `action()`, and answer with a redirect. An exception of `forbidden`
    (e.g. engine.NotAllowed) is a 403; one of `refused` flashes its message as an error and goes
    to `back`; otherwise `done` (when given) is flashed as ok and the redirect goes to
    `then(result)` when given, else to `back`. Each view names its own exception types."""
    try:
        result = action()
    except forbidden:
        abort(403)
    except refused as exc:
        flash(str(exc), "error")
        return redirect(back)
    if done is not None:
        flash(done, "ok")
    return redirect(then(result) if then else back)


def batch_page(job) -> str:
    """Where a started filing batch is followed: its progress, then the download."""
    return url_for("members.batch", batch_id=job.id)


def form_step(form, action, *, refused, back: str, done: str):
    """A form page's service call: done → `done` flashed as ok and a redirect to `back`; an
    exception of `refused` → its message among the form's errors and None (the view renders
    the form again)."""
    try:
        action()
    except refused as exc:
        form.form_errors.append(str(exc))
        return None
    flash(done, "ok")
    return redirect(back)


def send_download(data: bytes | str, *, name: str, ascii_name: str, mimetype: str,
                  as_attachment: bool = True):
    """A file answer named `name` (Chinese) with `ascii_name` for clients that ignore
    `filename*` (Werkzeug's own fallback drops every Chinese character: "--2026-10.pdf")."""
    body = BytesIO(data) if isinstance(data, bytes) else data
    response = send_file(body, mimetype=mimetype, as_attachment=as_attachment,
                         download_name=ascii_name)
    disposition = "attachment" if as_attachment else "inline"
    response.headers["Content-Disposition"] = (
        f'{disposition}; filename="{ascii_name}"; filename*=UTF-8\'\'{quote(name, safe="")}')
    return response


def refuse_control_characters():
    """Before any page: a NUL or another control character in a query argument or a form field
    is refused with a 400 that says so (PostgreSQL cannot store a NUL, and nobody types one), so
    no view has to think of it and nothing is written. The JSON API is left to its own checks:
    every value it reads is validated against the OpenAPI document's patterns (which exclude
    control characters) and refused per item with a 422; what it does not read it ignores."""
    if request.path.startswith("/api/"):
        return None
    fields = list(request.args.items(multi=True))
    if request.method in ("POST", "PUT", "PATCH") and request.mimetype in (
            "application/x-www-form-urlencoded", "multipart/form-data"):
        fields += list(request.form.items(multi=True))
    if not any(_CONTROL.search(k) or _CONTROL.search(v) for k, v in fields):
        return None
    message = _("输入中含有不允许的控制字符（如空字符），请删除后重试。")
    return render_template("error.html", code=400, message=message), 400


def client_address() -> str:
    """The client's address: the proxy's X-Forwarded-For (its last hop) only when the peer is
    listed in FORWARDED_ALLOW_IPS ("*": any), else the peer itself, which an attacker cannot
    choose by sending a header."""
    peer = request.remote_addr or ""
    allowed = current_app.config["FORWARDED_ALLOW_IPS"]
    forwarded = request.headers.get("X-Forwarded-For", "")
    if forwarded and (allowed.strip() == "*" or peer in {a.strip() for a in allowed.split(",")}):
        return forwarded.split(",")[-1].strip()[:45] or peer
    return peer
