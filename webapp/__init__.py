"""The Flask application factory."""
from __future__ import annotations

import logging
import os
from pathlib import Path

from flask import Flask, g, has_request_context, request, session
from flask_babel import get_locale, gettext
from markupsafe import Markup
from flask_login import current_user

from config import BASE_DIR, Config

from . import crypto, formatting, headers, i18n
from .extensions import babel, csrf, db, login_manager, migrate


def create_app(config_class: type = Config, check_key: bool = True) -> Flask:
    """Build the app: config, extensions, member-data key, processes, blueprints.
    Refuses (KeyMismatch) when the member-data key is not the one the data is under;
    only the key rotation command starts without that check."""
    app = Flask(__name__, instance_path=config_class.INSTANCE_DIR)
    app.request_class = i18n.Request  # WTForms' catalogue kept per language (webapp/i18n.py)
    app.config.from_object(config_class)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    _secrets(app)
    db.init_app(app)
    migrate.init_app(app, db, directory=str(BASE_DIR / "migrations"))
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "请先登录"
    login_manager.localize_callback = gettext
    csrf.init_app(app)
    babel.init_app(app, locale_selector=_locale, timezone_selector=lambda: "Asia/Shanghai")
    i18n.install_jinja(app)  # after Flask-Babel's own: the same callables, without get_domain()
    from . import workflows  # noqa: F401  registers the declared processes
    from . import settings
    from .alarms import install_session_hooks

    install_session_hooks()
    settings.install_session_hooks()
    from . import sms
    sms.install_session_hooks()
    from . import staff_alerts
    staff_alerts.install_session_hooks()
    _templates(app)
    _blueprints(app)
    app.teardown_request(_end_reading)
    headers.install(app, production=app.config["PRODUCTION"])
    from .cli import register_cli

    register_cli(app)
    if check_key and app.config["MEMBER_KEY_CHECK"]:
        _check_member_key(app)
    return app


def _end_reading(exc: BaseException | None) -> None:
    """End a GET's clean transaction with COMMIT rather than the ROLLBACK the session would send
    when it is removed: psycopg forgets every prepared statement on ROLLBACK (a rolled-back
    transaction may have dropped what they name), so the pages' statements were planned again
    on every request (the inbox's: ~2 ms of PostgreSQL CPU for 0.6 ms of execution). A request
    that failed, that is not a GET/HEAD, or that holds ORM changes still ends in a rollback."""
    session = db.session()
    if (exc is not None or request.method not in ("GET", "HEAD") or not session.in_transaction()
            or session.new or session.dirty or session.deleted):
        return
    try:
        session.commit()
    except Exception:  # noqa: BLE001 - a broken transaction: the removal rolls it back as before
        session.rollback()


def _check_member_key(app: Flask) -> None:
    from .services import member_key

    with app.app_context():
        try:
            member_key.verify()
        except member_key.KeyMismatch:
            if app.config.get("MEMBER_DATA_KEY_CREATED"):  # generated just now: not worth keeping
                Path(app.config["MEMBER_DATA_KEY_FILE"]).unlink(missing_ok=True)
            raise
        finally:
            db.session.remove()
            db.engine.dispose()  # the worker forks after this: no connection may cross the fork


def _secrets(app: Flask) -> None:
    """Production passes keys in the environment; demo and tests keep generated ones in instance/."""
    production = os.environ.get("CRM_ENV") == "production"
    if not app.config["SECRET_KEY"]:
        if production:
            raise RuntimeError("SECRET_KEY must be set in production")
        app.config["SECRET_KEY"] = crypto.load_or_create_key(app.instance_path + "/session")
    key = app.config["MEMBER_DATA_KEY"]
    if not key:
        if production:
            raise RuntimeError("MEMBER_DATA_KEY must be set in production")
        key_file = Path(app.instance_path) / "member.key"
        app.config["MEMBER_DATA_KEY_FILE"], created = str(key_file), not key_file.exists()
        key = crypto.load_or_create_key(app.instance_path)
        app.config["MEMBER_DATA_KEY_CREATED"] = created
    crypto.configure(key)
    app.config["MEMBER_DATA_KEY"] = key


def _locale() -> str:
    """Chinese unless the user switched to English (the browser's language is not asked);
    Chinese outside a request (jobs, the CLI)."""
    if not has_request_context():
        return "zh_CN"
    chosen = session.get("lang") or (current_user.is_authenticated and current_user.locale)
    return chosen if chosen in ("zh_CN", "en") else "zh_CN"


def _templates(app: Flask) -> None:
    app.jinja_env.filters["local_time"] = formatting.local_time
    app.jinja_env.filters["yuan"] = formatting.yuan
    app.jinja_env.filters["percent"] = formatting.percent
    app.jinja_env.filters["due_time"] = formatting.due_time
    app.jinja_env.filters["mask"] = crypto.mask_text
    app.jinja_env.filters["mask_days"] = crypto.mask_days
    app.jinja_env.globals["role_label"] = formatting.role_label
    app.jinja_env.globals["event_label"] = formatting.event_label
    app.jinja_env.globals["breach_labels"] = formatting.BREACH_LABELS
    from .workflows.engine import state_label

    app.jinja_env.filters["state_label"] = state_label
    app.jinja_env.filters["countdown"] = formatting.countdown

    nav_cache: dict = {}

    def nav_links(role: str) -> Markup:
        """The navigation's links after its badges (`_nav_links.html`): some twenty URLs and
        labels that depend on the role and the language only, rendered once per role, language
        and mount point and then kept (on every page they were ~20 url_for and ~20 gettext)."""
        key = (role, str(get_locale()), request.script_root)
        html = nav_cache.get(key)
        if html is None:
            html = nav_cache[key] = Markup(app.jinja_env.get_template("_nav_links.html").render(role=role))
        return html

    app.jinja_env.globals["nav_links"] = nav_links

    @app.context_processor
    def nav_counts():
        """Badges of the navigation; a page that already read them (the inbox) leaves them in g."""
        from .services.inbox import nav_counts as counts

        if not current_user.is_authenticated:
            return {"nav": {}}
        return {"nav": g.get("nav") or counts(current_user._get_current_object())}


def _blueprints(app: Flask) -> None:
    from .views import (admin, auth, cases, complaints, errors, health, inbox, members, outbox,
                        standins)
    from .views.util import IdConverter

    app.url_map.converters["int"] = IdConverter  # before the rules that use it are added

    for module in (auth, inbox, members, cases, complaints, outbox, standins, admin, health):
        app.register_blueprint(module.bp)
    from .views import analyses, api, sales  # sales data, member analyses, JSON API
    from .views import care  # care batch review (SPEC §3.4)

    app.register_blueprint(care.bp)
    from .views import tiers  # tier proposals and manual changes (issue 11)

    app.register_blueprint(tiers.bp)

    csrf.exempt(api.bp)  # till systems authenticate with a bearer token, not a session
    from .views import expiry  # the monthly card-expiry list (issue #12)
    from .views import monthly_pack  # the reviewed, archived monthly analysis pack

    for module in (sales, analyses, api, expiry, monthly_pack):
        app.register_blueprint(module.bp)
    from .views import message_templates, sms_callbacks  # templates; SMS providers' callbacks
    app.register_blueprint(message_templates.bp)
    csrf.exempt(sms_callbacks.bp)  # providers authenticate by the signed URL, not a session
    app.register_blueprint(sms_callbacks.bp)
    from .views import visits  # the monthly visit plan (SPEC §3.5)

    app.register_blueprint(visits.bp)
    from .views import routine  # the weekly routine (SPEC §3.8)

    app.register_blueprint(routine.bp)
    from .views import staff_channels  # group robots, webhooks, staff posts, digest by mail

    app.register_blueprint(staff_channels.bp)
    errors.register(app)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
