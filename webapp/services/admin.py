"""Administration: areas, stores, user accounts and company settings.

Every public function is keyword-only, validates the whole request first, writes an AuditEvent
and commits — or raises `Invalid` (field → Chinese message) having written nothing.
"""
from __future__ import annotations

import re
import secrets
from datetime import date, datetime

from flask_babel import gettext as _
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from .. import clock, settings
from ..calendar import parse_rule
from ..extensions import db
from ..models import AREA_ROLES, STORE_ROLES, Area, AuditEvent, Role, Store, Task, User
from . import accounts

# No 0/O, 1/l/I: the administrator reads the one-time password out or writes it down.
_PASSWORD_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789"
ONE_TIME_PASSWORD_LENGTH = 10
MIN_PASSWORD_LENGTH = 8
_USERNAME_RE = re.compile(r"[A-Za-z0-9._-]{2,60}")
_INT_RE = re.compile(r"[0-9]{1,9}")
_DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
STR_MAX = 100


class Invalid(Exception):
    """The request was refused; `errors` maps form field names ("" = whole form) to messages."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(str(m) for m in errors.values()))
        self.errors = errors


def _audit(actor: User, object_type: str, object_id: int | None, action: str,
           data: dict | None = None, now: datetime | None = None) -> None:
    db.session.add(AuditEvent(object_type=object_type, object_id=object_id, actor_id=actor.id,
                              at=now or clock.now(), action=action, data=data or {}))


def _write(errors_on_conflict: dict[str, str], *, commit: bool = True) -> None:
    """Flush or commit; a unique constraint lost to a concurrent request becomes a form error."""
    try:
        db.session.commit() if commit else db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise Invalid(errors_on_conflict) from None


# ---------------------------------------------------------------- overview

def overview() -> dict:
    """Counts for the administration home page."""
    now = clock.now()
    count = lambda q: db.session.scalar(q) or 0  # noqa: E731
    return {
        "areas": count(select(func.count(Area.id))),
        "stores": count(select(func.count(Store.id))),
        "users_active": count(select(func.count(User.id)).where(User.active.is_(True))),
        "users_inactive": count(select(func.count(User.id)).where(User.active.is_(False))),
        "users_locked": count(select(func.count(User.id)).where(User.locked_until > now)),
        "users_pending_password": count(select(func.count(User.id)).where(
            User.active.is_(True), User.must_change_password.is_(True))),
        "settings_changed": sum(1 for key, spec in settings.SPECS.items()
                                if settings.get(key) != spec.default),
    }


# ---------------------------------------------------------------- areas

def list_areas() -> list[tuple[Area, int, int]]:
    """Areas with their number of stores and of active area-level users."""
    stores = dict(db.session.execute(select(Store.area_id, func.count(Store.id))
                                     .group_by(Store.area_id)).all())
    users = dict(db.session.execute(select(User.area_id, func.count(User.id))
                                    .where(User.area_id.is_not(None), User.active.is_(True))
                                    .group_by(User.area_id)).all())
    areas = db.session.scalars(select(Area).order_by(Area.name)).all()
    return [(a, stores.get(a.id, 0), users.get(a.id, 0)) for a in areas]


def _area_name(name: str, *, exclude_id: int | None = None) -> str:
    name = (name or "").strip()
    if not name:
        raise Invalid({"name": _("请填写区域名称")})
    if len(name) > 80:
        raise Invalid({"name": _("区域名称不能超过80个字")})
    clash = select(Area.id).where(func.lower(Area.name) == name.lower())
    if exclude_id is not None:
        clash = clash.where(Area.id != exclude_id)
    if db.session.scalar(clash) is not None:
        raise Invalid({"name": _("区域“%(name)s”已存在", name=name)})
    return name


def create_area(*, actor: User, name: str) -> Area:
    name = _area_name(name)
    conflict = {"name": _("区域“%(name)s”已存在", name=name)}
    area = Area(name=name)
    db.session.add(area)
    _write(conflict, commit=False)
    _audit(actor, "area", area.id, "area_created", {"name": name})
    _write(conflict)
    return area


def rename_area(*, actor: User, area: Area, name: str) -> Area:
    name = _area_name(name, exclude_id=area.id)
    if name != area.name:
        _audit(actor, "area", area.id, "area_renamed", {"old": area.name, "new": name})
        area.name = name
        _write({"name": _("区域“%(name)s”已存在", name=name)})
    return area


# ---------------------------------------------------------------- stores

def list_stores() -> list[Store]:
    return db.session.scalars(select(Store).join(Area).order_by(Area.name, Store.code)).all()


def _store_fields(code: str, name: str, area_id, *, exclude_id: int | None = None):
    errors: dict[str, str] = {}
    code, name = (code or "").strip(), (name or "").strip()
    if not code:
        errors["code"] = _("请填写门店编码")
    elif len(code) > 20:
        errors["code"] = _("门店编码不能超过20个字符")
    else:
        clash = select(Store).where(func.lower(Store.code) == code.lower())
        if exclude_id is not None:
            clash = clash.where(Store.id != exclude_id)
        other = db.session.scalars(clash).first()
        if other is not None:
            errors["code"] = _("门店编码“%(code)s”已被“%(name)s”使用,请换一个编码",
                               code=code, name=other.name)
    if not name:
        errors["name"] = _("请填写门店名称")
    elif len(name) > 80:
        errors["name"] = _("门店名称不能超过80个字")
    area = db.session.get(Area, area_id) if area_id else None
    if area is None:
        errors["area_id"] = _("请选择所属区域")
    if errors:
        raise Invalid(errors)
    return code, name, area


def _particulars(particulars: dict | None) -> dict:
    """Address, phone, opening hours (text, stripped) and opening date, as stored."""
    out = {key: (str((particulars or {}).get(key) or "")).strip()
           for key in ("address", "phone", "opening_hours")}
    limits = {"address": (200, _("门店地址不能超过200个字")), "phone": (40, _("门店电话不能超过40个字符")),
              "opening_hours": (80, _("营业时间不能超过80个字"))}
    errors = {key: message for key, (limit, message) in limits.items() if len(out[key]) > limit}
    if errors:
        raise Invalid(errors)
    out["opened_on"] = (particulars or {}).get("opened_on")
    return out


def _audited(values: dict) -> dict:
    return {k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in values.items()}


def create_store(*, actor: User, code: str, name: str, area_id: int | None,
                 particulars: dict | None = None) -> Store:
    code, name, area = _store_fields(code, name, area_id)
    extra = _particulars(particulars)
    conflict = {"code": _("门店编码“%(code)s”已存在,请换一个编码", code=code)}
    store = Store(code=code, name=name, area=area, **extra)
    db.session.add(store)
    _write(conflict, commit=False)
    _audit(actor, "store", store.id, "store_created",
           {"code": code, "name": name, "area_id": area.id} | _audited(extra))
    _write(conflict)
    return store


def update_store(*, actor: User, store: Store, code: str, name: str,
                 area_id: int | None, particulars: dict | None = None) -> Store:
    """Edit a store (`particulars`: address, phone, opening hours, opening date; None keeps them).
    Moving it to another area moves its staff's scope with it (through the store); open tasks
    keep their recorded area, as cases already opened do."""
    code, name, area = _store_fields(code, name, area_id, exclude_id=store.id)
    extra = _particulars(particulars) if particulars is not None else {}
    old = {"code": store.code, "name": store.name, "area_id": store.area_id} | {
        key: getattr(store, key) for key in extra}
    new = {"code": code, "name": name, "area_id": area.id} | extra
    if old != new:
        store.code, store.name, store.area = code, name, area
        for key, value in extra.items():
            setattr(store, key, value)
        _audit(actor, "store", store.id, "store_updated", {"old": _audited(old), "new": _audited(new)})
        _write({"code": _("门店编码“%(code)s”已存在,请换一个编码", code=code)})
    return store


# ---------------------------------------------------------------- users

def list_users(*, role: str = "", store_id: int | None = None, active: str = "") -> list[User]:
    """Users filtered by role value, store and "1"/"0" for active/deactivated."""
    query = select(User).order_by(User.active.desc(), User.username)
    if role in {r.value for r in Role}:
        query = query.where(User.role == Role(role))
    if store_id:
        query = query.where(User.store_id == store_id)
    if active in ("1", "0"):
        query = query.where(User.active.is_(active == "1"))
    return db.session.scalars(query).all()


def generate_password() -> str:
    return "".join(secrets.choice(_PASSWORD_ALPHABET) for _i in range(ONE_TIME_PASSWORD_LENGTH))


def _role(value) -> Role | None:
    try:
        return Role(value)
    except ValueError:
        return None


def _scope(role: Role | None, store_id, area_id, errors: dict) -> tuple[Store | None, Area | None]:
    """Store-level roles need a store and no area (the store gives it), area roles an area and no
    store, company roles neither."""
    store = db.session.get(Store, store_id) if store_id else None
    area = db.session.get(Area, area_id) if area_id else None
    if store_id and store is None:
        errors["store_id"] = _("所选门店不存在")
    if area_id and area is None:
        errors["area_id"] = _("所选区域不存在")
    if role is None:
        return store, area
    if role in STORE_ROLES:
        if not store_id:
            errors.setdefault("store_id", _("导购和店长必须选择所属门店"))
        if area_id:
            errors.setdefault("area_id", _("门店人员的区域由门店决定,请不要选择区域"))
    elif role in AREA_ROLES:
        if not area_id:
            errors.setdefault("area_id", _("片区主管和区域经理必须选择所属区域"))
        if store_id:
            errors.setdefault("store_id", _("只有导购和店长需要选择门店"))
    else:
        if store_id:
            errors.setdefault("store_id", _("只有导购和店长需要选择门店"))
        if area_id:
            errors.setdefault("area_id", _("总部人员和管理员不属于某个区域,请不要选择区域"))
    return store, area


def _check_password(password: str, errors: dict) -> None:
    if password and len(password) < MIN_PASSWORD_LENGTH:
        errors["password"] = _("初始密码至少%(n)s位", n=MIN_PASSWORD_LENGTH)


def _display_name(value: str, errors: dict) -> str:
    value = (value or "").strip()
    if not value:
        errors["display_name"] = _("请填写姓名")
    elif len(value) > 60:
        errors["display_name"] = _("姓名不能超过60个字")
    return value


def create_user(*, actor: User, username: str, display_name: str, role: str,
                store_id: int | None = None, area_id: int | None = None,
                password: str = "") -> tuple[User, str]:
    """Create an account with a one-time password (generated unless given); the user must set
    their own at first login. Returns the user and the password to show the administrator once."""
    errors: dict[str, str] = {}
    username = (username or "").strip()
    if not username:
        errors["username"] = _("请填写用户名")
    elif not _USERNAME_RE.fullmatch(username):
        errors["username"] = _("用户名为2至60位英文字母、数字或 . _ -")
    elif db.session.scalar(select(User.id).where(func.lower(User.username) == username.lower())):
        errors["username"] = _("用户名“%(name)s”已被使用", name=username)
    display_name = _display_name(display_name, errors)
    role_ = _role(role)
    if role_ is None:
        errors["role"] = _("请选择角色")
    store, area = _scope(role_, store_id, area_id, errors)
    _check_password(password, errors)
    if errors:
        raise Invalid(errors)
    password = password or generate_password()
    user = User(username=username, display_name=display_name, role=role_, store=store, area=area,
                active=True, must_change_password=True)
    user.set_password(password)
    conflict = {"username": _("用户名“%(name)s”已被使用", name=username)}
    db.session.add(user)
    _write(conflict, commit=False)
    _audit(actor, "user", user.id, "user_created",
           {"username": username, "role": role_.value, "store_id": user.store_id,
            "area_id": user.area_id})
    _write(conflict)
    return user, password


def _return_open_tasks(user: User) -> int:
    return db.session.execute(
        update(Task).where(Task.assignee_id == user.id, Task.status == "open")
        .values(assignee_id=None).execution_options(synchronize_session=False)).rowcount


def update_user(*, actor: User, user: User, display_name: str, role: str,
                store_id: int | None = None, area_id: int | None = None) -> int:
    """Change name, role and scope. When role or scope changes, the user's open tasks go back to
    their role's pool (they may no longer act on them). Returns how many went back."""
    errors: dict[str, str] = {}
    display_name = _display_name(display_name, errors)
    role_ = _role(role)
    if role_ is None:
        errors["role"] = _("请选择角色")
    elif user.id == actor.id and role_ != user.role:
        errors["role"] = _("不能修改自己的角色,请让另一位管理员操作")
    store, area = _scope(role_, store_id, area_id, errors)
    if errors:
        raise Invalid(errors)
    old = {"display_name": user.display_name, "role": user.role.value,
           "store_id": user.store_id, "area_id": user.area_id}
    new = {"display_name": display_name, "role": role_.value,
           "store_id": store.id if store else None, "area_id": area.id if area else None}
    if old == new:
        return 0
    handed = 0
    if {k: v for k, v in old.items() if k != "display_name"} != \
            {k: v for k, v in new.items() if k != "display_name"}:
        handed = _return_open_tasks(user)
    user.display_name, user.role, user.store, user.area = display_name, role_, store, area
    _audit(actor, "user", user.id, "user_updated",
           {"old": old, "new": new, "tasks_returned": handed})
    db.session.commit()
    return handed


def reset_password(*, actor: User, user: User, password: str = "") -> str:
    """New one-time password (generated unless given); also lifts a login lock."""
    errors: dict[str, str] = {}
    _check_password(password, errors)
    if errors:
        raise Invalid(errors)
    password = password or generate_password()
    user.set_password(password)
    user.must_change_password = True
    user.failed_logins, user.locked_until = 0, None
    _audit(actor, "user", user.id, "password_reset")
    db.session.commit()
    return password


def deactivate_user(*, actor: User, user: User) -> int:
    """Deactivate an account (never one's own); returns how many open tasks went back to the pool."""
    if user.id == actor.id:
        raise Invalid({"": _("不能停用自己的账户")})
    if not user.active:
        raise Invalid({"": _("该账户已停用")})
    return accounts.deactivate(actor=actor, user=user)


def reactivate_user(*, actor: User, user: User) -> User:
    if user.active:
        raise Invalid({"": _("该账户已是启用状态")})
    user.active = True
    user.failed_logins, user.locked_until = 0, None
    _audit(actor, "user", user.id, "reactivate")
    db.session.commit()
    return user


# ---------------------------------------------------------------- settings

def clean_setting(key: str, raw) -> str:
    """The stored text for a submitted value, or ValueError with a Chinese message."""
    kind = settings.SPECS[key].kind
    if kind == "bool":
        return "1" if raw in (True, "1", "y", "on", "true", "True") else "0"
    text = "" if raw is None else str(raw)
    if kind == "int":
        text = text.strip()
        if not _INT_RE.fullmatch(text):
            raise ValueError(_("请输入不小于0的整数"))
        return str(int(text))
    if kind == "str":
        text = text.strip()
        if not text:
            raise ValueError(_("此项不能为空"))
        if len(text) > STR_MAX:
            raise ValueError(_("不能超过%(n)s个字", n=STR_MAX))
        return text
    if kind == "rule":
        try:
            return parse_rule(text.strip()).to_text()
        except ValueError:
            raise ValueError(_("期限规则格式不正确,可用:hours:N(N小时内)、eod:N(第N个工作日结束前)、"
                               "dom:D(每月D日)、dom:D+M(M个月后的D日)、before_dom:D(每月D日之前)")) from None
    if kind == "dates":
        days: set[date] = set()
        for number, line in enumerate(text.splitlines(), start=1):
            line = line.strip()
            if not line:
                continue
            try:
                if not _DATE_RE.fullmatch(line):
                    raise ValueError
                days.add(date.fromisoformat(line))
            except ValueError:
                raise ValueError(_("第%(n)s行“%(value)s”不是有效日期,请每行填写一个日期,如 2031-01-01",
                                   n=number, value=line[:30])) from None
        return "\n".join(d.isoformat() for d in sorted(days))
    raise ValueError(kind)


def describe_rule(text: str) -> str:
    """Chinese reading of a due rule under the current calendar settings ("" if unreadable)."""
    try:
        return parse_rule(text).describe_zh(settings.calendar_policy())
    except ValueError:
        return ""


def setting_rows() -> list[dict]:
    """What the settings page shows for each setting."""
    rows = []
    for key, spec in settings.SPECS.items():
        value = settings.get(key)
        rows.append({"key": key, "spec": spec, "value": value,
                     "is_default": value == spec.default,
                     "described": describe_rule(value) if spec.kind == "rule" else ""})
    return rows


def update_settings(*, actor: User, values: dict, now: datetime | None = None) -> list[str]:
    """All submitted settings or none: every value is checked first; each change is audited.
    Keys missing from `values` keep their value, except checkboxes (unchecked = off).
    Returns the keys that changed."""
    errors: dict[str, str] = {}
    cleaned: dict[str, str] = {}
    for key, spec in settings.SPECS.items():
        if key not in values and spec.kind != "bool":
            continue
        try:
            cleaned[key] = clean_setting(key, values.get(key))
        except ValueError as exc:
            errors[key] = str(exc)
    if errors:
        raise Invalid(errors)
    now = now or clock.now()
    changed = []
    for key, new in cleaned.items():
        old = settings.get(key)
        if new == old:
            continue
        settings.put(key, new)
        _audit(actor, "setting", None, "setting_changed", {"key": key, "old": old, "new": new}, now)
        changed.append(key)
    db.session.commit()
    return changed


# ---------------------------------------------------------------- holiday years

HOLIDAY = "holiday"
WORKDAY = "workday"


def calendar_coverage(*, now: datetime | None = None) -> dict:
    """Which years the working-day calendar knows and from which source (settings page, /healthz).

    Lists last year to the year after next, and every entered year; `needed` are the years
    that must be known by today (this year, and from 1 November the next)."""
    from ..calendar import library_spans, library_versions, local_date, needed_years

    today = local_date(now or clock.now())
    policy = settings.calendar_policy()
    years = sorted(set(range(today.year - 1, today.year + 3)) | {e.year for e in policy.entered})
    needed = needed_years(today)
    rows = [{"year": y, "source": policy.source(y), "needed": y in needed} for y in years]
    return {"rows": rows, "needed": needed,
            "uncovered": [y for y in needed if not policy.covers(y)],
            "libraries": [{"name": name, "version": library_versions()[name], "first": first,
                           "last": last} for name, (first, last) in library_spans().items()]}


def year_days(*, year: int) -> tuple[set[date], set[date]]:
    """What the calendar says of a year now, as the editor shows it: weekdays off and
    weekend days at work (the rest follows the week)."""
    from datetime import timedelta

    from ..calendar import CalendarPolicy

    policy = settings.calendar_policy()
    entered = next((e for e in policy.entered if e.year == year), None)
    if entered is not None:
        return set(entered.holidays), set(entered.workdays)
    sources = CalendarPolicy(entered=policy.entered)  # without the extra days of the settings
    off, on = set(), set()
    if sources.covers(year):
        day = date(year, 1, 1)
        while day.year == year:
            working = sources.is_working_day(day)
            if working != (day.weekday() < 5):
                (on if working else off).add(day)
            day += timedelta(days=1)
    return off, on


def parse_day_list(*, text: str, year: int, field: str) -> set[date]:
    """Dates typed or parsed into the editor ("2027-01-01", one per line or space-separated),
    each in the year or the December before it; Invalid otherwise."""
    days: set[date] = set()
    for item in (text or "").split():
        try:
            if not _DATE_RE.fullmatch(item):
                raise ValueError
            day = date.fromisoformat(item)
        except ValueError:
            raise Invalid({field: _("“%(value)s”不是有效日期，请按 2027-01-01 的格式填写",
                                    value=item[:30])}) from None
        if not (day.year == year or (day.year == year - 1 and day.month == 12)):
            raise Invalid({field: _("%(day)s 不在%(year)s年内", day=day.isoformat(), year=year)})
        days.add(day)
    return days


def check_holiday_year(*, year) -> int:
    """The year as an int within the calendar's years; Invalid otherwise."""
    from ..calendar import YEARS

    if type(year) is not int or year not in YEARS:
        raise Invalid({"": _("年份须在%(first)s至%(last)s之间", first=YEARS.start, last=YEARS.stop - 1)})
    return year


def save_holiday_year(*, actor: User, year: int, holidays: str, workdays: str, source: str = "manual",
                      now: datetime | None = None) -> tuple[int, int]:
    """Replace the year's entered days (days off and make-up workdays), audit it, and close the
    year's open task. Returns (days off, make-up workdays)."""
    from ..models import CalendarDay
    from ..models import Case
    from ..workflows import engine

    year = check_holiday_year(year=year)
    off = parse_day_list(text=holidays, year=year, field="holidays")
    on = parse_day_list(text=workdays, year=year, field="workdays")
    if not off:
        raise Invalid({"holidays": _("请至少填写一个放假日（元旦、春节等）")})
    both = sorted(off & on)
    if both:
        raise Invalid({"workdays": _("%(day)s 不能既放假又上班", day=both[0].isoformat())})
    source = source if source in ("manual", "notice") else "manual"
    now = now or clock.now()
    old = db.session.scalar(select(func.count(CalendarDay.id)).where(CalendarDay.year == year)) or 0
    db.session.execute(CalendarDay.__table__.delete().where(CalendarDay.year == year))
    for kind, days in ((HOLIDAY, off), (WORKDAY, on)):
        db.session.add_all(CalendarDay(year=year, day=d, kind=kind, source=source,
                                       entered_by_id=actor.id, entered_at=now) for d in sorted(days))
    _audit(actor, "calendar_year", year, "holiday_year_saved",
           {"year": year, "holidays": [d.isoformat() for d in sorted(off)],
            "workdays": [d.isoformat() for d in sorted(on)], "source": source,
            "replaced_days": old}, now)
    db.session.flush()
    settings.forget_entered_years()
    case = db.session.scalars(select(Case).where(Case.dedupe_key == f"holiday_year:{year}",
                                                 Case.state == "due")).first()
    if case is not None:
        try:
            engine.fire(case, "enter", actor, version=case.version, now=now)
        except engine.WorkflowError:  # closed by someone else meanwhile: the year is saved all the same
            pass
    _write({"": _("该年份刚被他人保存，请刷新后重试")})
    return len(off), len(on)


def year_grid(*, year: int, holidays: set[date], workdays: set[date]) -> list[dict]:
    """Twelve month grids (weeks from Monday) with each day's kind, for the year view."""
    import calendar as stdlib_calendar  # absolute import: the standard library, not webapp.calendar

    months = []
    for month in range(1, 13):
        weeks = []
        for week in stdlib_calendar.Calendar().monthdatescalendar(year, month):
            cells = []
            for index, day in enumerate(week):
                if day.month != month:
                    cells.append(None)
                    continue
                kind = HOLIDAY if day in holidays else WORKDAY if day in workdays else (
                    "weekend" if index >= 5 else "")
                cells.append({"day": day, "kind": kind})
            weeks.append(cells)
        months.append({"month": month, "weeks": weeks})
    return months


def read_notice(*, year: int, text: str) -> tuple[set[date], set[date], list[str]]:
    """The days off and make-up workdays of a pasted notice, for the preview (nothing is saved).
    Returns them with the notice's lines that could not be read; Invalid when it names no day."""
    from ..calendar import parse_notice

    year = check_holiday_year(year=year)
    titled = parse_notice(text).year  # the year of its title, when it has one
    if titled is not None and titled != year:
        raise Invalid({"notice": _("这是%(found)s年的通知，当前录入的是%(year)s年", found=titled,
                                   year=year)})
    parsed = parse_notice(text, year)
    if not parsed.holidays and not parsed.workdays:
        raise Invalid({"notice": _("没有从通知中读到任何日期，请粘贴通知正文（如“春节：2月6日至13日放假调休”）")})
    unread = [_("未能识别：%(text)s", text=line[:60]) for line in parsed.unread]
    unread += [_("日期不存在：%(text)s", text=value) for value in parsed.invalid]
    return set(parsed.holidays), set(parsed.workdays), unread
