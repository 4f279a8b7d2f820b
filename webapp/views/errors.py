"""Error pages in the user's language; CSRF failures explained instead of a bare 400."""
from flask import flash, jsonify, redirect, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound

from ..extensions import db
from ..i18n_labels import Refusal
from ..services.batch_jobs import QueueDown
from .util import same_origin_path

MESSAGES = {400: _l("请求无效"), 403: _l("您没有权限访问此页面"), 404: _l("页面不存在或您无权查看"),
            405: _l("不支持的操作"), 409: _l("数据已被他人修改"),
            413: _l("提交的内容过大"), 500: _l("系统出错,请稍后再试")}

HTTP_METHODS = frozenset({"GET", "HEAD", "POST", "OPTIONS", "PUT", "PATCH", "DELETE"})


def register(app) -> None:
    def page(code: int, message: str | None = None, error: HTTPException | None = None):
        # a 405 names the methods the URL has (RFC 9110), on pages and in the API alike
        headers = {"Allow": ", ".join(sorted(error.valid_methods))} if getattr(
            error, "valid_methods", None) else {}
        if request.path.startswith("/api/"):  # API clients read JSON, never an HTML page
            return jsonify({"error": str(message or MESSAGES.get(code) or error.description)}), code, headers
        return render_template("error.html", code=code, message=message or MESSAGES[code]), code, headers

    for code in (400, 403, 404, 405, 413):
        app.register_error_handler(code, lambda e, c=code: page(c, error=e))

    @app.errorhandler(HTTPException)
    def other_http_error(e):
        """Any other HTTP error keeps Werkzeug's answer on pages, and is JSON under /api/."""
        if request.path.startswith("/api/") and e.code:
            return page(e.code, error=e)
        return e

    @app.errorhandler(CSRFError)
    def csrf_error(e):
        return page(400, _l("页面已过期(安全令牌无效),请返回刷新后重试"))

    from .util import refuse_control_characters

    app.before_request(refuse_control_characters)

    @app.before_request
    def known_methods_only():
        """TRACE and methods no route has are a 405 on unknown paths too (a known path already
        answers 405 with its own methods)."""
        if request.method not in HTTP_METHODS and isinstance(request.routing_exception, NotFound):
            return page(405, error=MethodNotAllowed(valid_methods=sorted(
                {"GET", "HEAD", "OPTIONS", "POST"})))

    @app.before_request
    def json_is_not_a_form():
        """Only the till API and the SMS providers' callbacks read JSON. Flask-WTF takes a JSON body for a page's form, and an
        array, or a list or object as a value, makes it raise instead of fail validation."""
        if request.is_json and request.url_rule is not None and request.blueprint not in ("api", "sms_callbacks"):
            return page(400)

    @app.errorhandler(Refusal)
    def refused(e):
        """A refusal no view caught (the job queue away while a batch starts: QueueDown) is said
        in the user's words, back on the page the request came from, instead of a 500."""
        db.session.rollback()
        code = 503 if isinstance(e, QueueDown) else 409
        if request.path.startswith("/api/") or request.method not in ("GET", "POST"):
            return page(code, str(e))
        flash(str(e), "error")
        back = same_origin_path(request.referrer)
        if back is None or (request.method == "GET" and back == request.full_path.rstrip("?")):
            return page(code, str(e))  # no page to go back to (or it is this one): say it here
        return redirect(back, 303)

    @app.errorhandler(500)
    def server_error(e):
        db.session.rollback()
        return page(500)
