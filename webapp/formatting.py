"""Display helpers: times in the company zone, money from fen."""
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from zoneinfo import ZoneInfo

from . import clock
from .i18n_labels import N_

TZ = ZoneInfo("Asia/Shanghai")


def local_time(dt: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A stored UTC time shown in Asia/Shanghai."""
    if dt is None:
        return ""
    return clock.as_utc(dt).astimezone(TZ).strftime(fmt)


def due_time(dt: datetime | None) -> str:
    """A deadline at local midnight reads as the end of the previous day, as people say it."""
    if dt is None:
        return ""
    local = clock.as_utc(dt).astimezone(TZ)
    if (local.hour, local.minute, local.second) == (0, 0, 0):
        return (local - timedelta(days=1)).strftime("%Y-%m-%d") + " 24:00"
    return local.strftime("%Y-%m-%d %H:%M")


# The one way each kind of number is shown: pages, PDFs and (as number formats) spreadsheets.
DASH = "—"
PERCENT_FORMAT = '0.0"%"'  # xlsx cells hold percentage points (20.0) and show "20.0%"
MONEY_FORMAT = "#,##0.00"


def yuan(fen: int | Fraction | None) -> str:
    """Fen (integer, or an exact fraction) as yuan with thousands separators: '167,079.00'."""
    if fen is None:
        return ""
    fen = Fraction(fen)
    amount = (Decimal(fen.numerator) / Decimal(fen.denominator) / 100).quantize(
        Decimal("0.01"), rounding=ROUND_HALF_UP)
    return f"{amount:,.2f}"


def percent(value: Decimal | int | None) -> str:
    """A percentage (20 means 20 %) with one decimal, half up: '20.0%', '42.9%'; '—' for none."""
    if value is None:
        return DASH
    return f"{Decimal(value).quantize(Decimal('0.1'), rounding=ROUND_HALF_UP)}%"


def countdown(due: datetime | None, now: datetime | None = None) -> str:
    """'剩余 3小时20分' or '已超时 1天2小时' for inbox rows, in the user's language."""
    from .i18n import gettext  # flask_babel.gettext without its per-string domain look-up

    if due is None:
        return ""
    delta = clock.as_utc(due) - (now or clock.now())
    minutes = int(abs(delta.total_seconds()) // 60)
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    if days:
        text = gettext("%(d)d天%(h)d小时", d=days, h=hours)
    elif hours:
        text = gettext("%(h)d小时%(m)d分", h=hours, m=mins)
    else:
        text = gettext("%(m)d分", m=mins)
    if delta.total_seconds() < 0:
        return gettext("已超时 %(t)s", t=text)
    return gettext("剩余 %(t)s", t=text)


def role_label(role) -> str:
    """A role's name in the user's language; accepts a Role or its value."""
    from flask_babel import gettext

    from .models import ROLE_LABELS, Role

    return gettext(ROLE_LABELS[Role(role)])


BREACH_LABELS = {"reply": N_("回复超时"), "solution": N_("方案超时"), "revisit": N_("回访超时")}
TASK_EVENTS = {"remind": N_("期限将至提醒"), "escalate": N_("已超时,升级至"), "escalate_also": N_("已超时,同时通知"),
               "claim": N_("认领了待办"), "release": N_("将待办退回角色待办池"),
               "comment": N_("备注"), "nudge": N_("催办了处理人")}


def event_label(event) -> str:
    """A task event of the timeline (reminder, escalation, claim) in the user's language."""
    from flask_babel import gettext

    text = gettext(TASK_EVENTS.get(event.action, event.action))
    role = (event.data or {}).get("to_role")
    return f"{text} {role_label(role)}" if role and event.action.startswith("escalate") else text
