"""The outbox: SMS and e-mails the system wrote, in the user's scope."""
import re

from flask import Blueprint, render_template, request

from .. import clock
from ..calendar import TZ, YEARS
from flask_login import current_user, login_required

from ..forms.outbox import OutboxFilterForm
from ..services import messages
from .util import page_arg, require, send_download, tier_arg

bp = Blueprint("outbox", __name__)
PAGE_SIZE = 50


@bp.route("/outbox")
@login_required
def index():
    require("outbox.view")
    form = OutboxFilterForm(current_user, request.args)
    form.validate()  # a field in error is shown with its message and filters nothing
    value = {f.name: (f.data if not f.errors else None) for f in form}
    filters = messages.OutboxFilter(
        store_id=value["store_id"], template=value["template"] or "",
        status=value["status"] or "", first_day=value["first_day"], last_day=value["last_day"],
        tier=tier_arg())
    page = page_arg()
    rows, total = messages.outbox_page(user=current_user, filters=filters, limit=PAGE_SIZE,
                                       offset=(page - 1) * PAGE_SIZE)
    capped = total > messages.COUNT_CAP  # "10,000+": the last page is not known
    pages = None if capped else max(1, -(-total // PAGE_SIZE))
    more = len(rows) == PAGE_SIZE if capped else page < pages
    args = {k: v for k, v in request.args.items() if k != "page"}
    return render_template("outbox.html", form=form, messages=rows, page=page, more=more,
                           total=f"{messages.COUNT_CAP:,}+" if capped else total,
                           pages=pages, args=args, tier=filters.tier, kinds=messages.KINDS,
                           statuses=messages.STATUSES)


def _year() -> int:
    """?year=, else this local year; a year out of range or not a number is this year."""
    raw = request.args.get("year", "")
    this = clock.now().astimezone(TZ).year
    # fullmatch on ASCII digits: str.isdigit() also accepts "²", which int() refuses
    return int(raw) if re.fullmatch(r"[0-9]{4}", raw) and int(raw) in YEARS else this


@bp.route("/outbox/stats")
@login_required
def stats():
    require("outbox.view")
    year = _year()
    return render_template("outbox_stats.html", year=year,
                           rows=messages.monthly_stats(user=current_user, year=year))


@bp.route("/outbox/stats.xlsx")
@login_required
def stats_xlsx():
    require("outbox.view")
    year = _year()
    data = messages.monthly_stats_xlsx(rows=messages.monthly_stats(user=current_user, year=year),
                                       year=year)
    return send_download(data, name=f"短信统计-{year}.xlsx", ascii_name=f"sms-{year}.xlsx",
                         mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
