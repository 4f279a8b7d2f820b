"""Sales service: validates till tickets (from the import or the API) and writes them with their
monthly roll-ups in one transaction; sales targets; till API tokens.

Validation never writes: it returns the sales ready to write and the errors per row, so a file or
an API batch with any error changes nothing. Writing is idempotent on (store, sale number): a ticket
already stored with the same content is skipped, one stored with other content is an error.
"""
from __future__ import annotations

import hashlib
import re
import secrets
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation

from sqlalchemy import bindparam, func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased

from .. import clock
from ..calendar import TZ, YEARS
from ..crypto import lookup_hash
from ..extensions import db
from ..i18n_labels import say as _
from ..models import Member, Store, User
from ..permissions import in_scope
from ..models import ApiToken, MemberMonth, Sale, SalesTarget, StoreMonth
from ..models.base import TZDateTime
from ..workflows import engine
from . import points, transaction
from .registration import InvalidMobile, normalise_mobile

MAX_AMOUNT_FEN = 10_000_000_00  # ten million yuan on one ticket is a typing error
MAX_ITEMS = 100_000
_R = aliased(Sale, name="ret")  # a return, joined to its original sale


class SaleError(ValueError):
    """A batch that cannot be written; `errors` lists the problems per row."""

    def __init__(self, errors: list["RowError"]):
        super().__init__(_("数据有误,未写入任何记录"))
        self.errors = errors


@dataclass
class RowError:
    line: int
    field: str
    message: str


@dataclass
class SaleIn:
    """One validated ticket (amount, items and ticket_delta already signed)."""

    line: int
    store_id: int
    sale_no: str
    sold_at: datetime
    amount_fen: int
    items: int
    member_id: int | None = None
    associate_id: int | None = None
    return_of_no: str | None = None
    return_of_id: int | None = None
    ticket_delta: int = 1
    category: str | None = None
    existing: bool = False

    @property
    def ym(self) -> int:
        local = self.sold_at.astimezone(TZ)
        return local.year * 100 + local.month


@dataclass
class Checked:
    """What a batch would do: the sales to write, those already stored, and the errors."""

    new: list[SaleIn] = field(default_factory=list)
    existing: list[SaleIn] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


# ------------------------------------------------------------------ parsing of one value

def parse_amount(raw) -> int:
    """Yuan (text, int or Decimal; at most two decimals) as integer fen; never through float."""
    if isinstance(raw, float):  # openpyxl hands numeric cells over as float: keep their text
        raw = repr(raw)
    text_value = str(raw if raw is not None else "").strip().replace(",", "").replace("¥", "")
    try:
        amount = Decimal(text_value)
    except InvalidOperation:
        raise ValueError(_("金额“%(value)s”不是有效数字", value=text_value[:20])) from None
    if amount.is_finite() and abs(amount) > MAX_AMOUNT_FEN / Decimal(100):
        raise ValueError(_("金额超出范围"))  # before quantize(), which fails on 1e999999
    if not amount.is_finite() or amount != amount.quantize(Decimal("0.01")):
        raise ValueError(_("金额最多两位小数"))
    fen = int(amount * 100)
    if abs(fen) > MAX_AMOUNT_FEN:
        raise ValueError(_("金额超出范围"))
    return fen


def parse_items(raw) -> int:
    """A whole number of items."""
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    try:
        items = int(str(raw if raw is not None else "").strip())
    except ValueError:
        raise ValueError(_("件数必须是整数")) from None
    if abs(items) > MAX_ITEMS:
        raise ValueError(_("件数超出范围"))
    return items


def parse_time(raw) -> datetime:
    """A sale time: ISO text (offset optional; none means Asia/Shanghai) or a spreadsheet date."""
    if isinstance(raw, datetime):
        value = raw
    elif isinstance(raw, date):
        value = datetime.combine(raw, time(12))
    else:
        text_value = str(raw or "").strip().replace("/", "-")
        try:
            value = datetime.fromisoformat(text_value)
        except ValueError:
            raise ValueError(_("时间“%(value)s”格式不正确,应为 2026-10-05 14:30",
                               value=text_value[:25])) from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=TZ)
    if value.year not in YEARS:
        raise ValueError(_("时间超出范围"))
    return clock.as_utc(value.astimezone(clock.now().tzinfo))


# ------------------------------------------------------------------ validating a batch

_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class _Lookups:
    """Stores, members, associates and stored sales a batch refers to, fetched in bulk."""

    def __init__(self, rows: list[dict]):
        self.stores = {s.code: s for s in db.session.scalars(select(Store))}
        cards = {c for c in (str(r.get("member_card") or "").strip() for r in rows)
                 if c and not _CONTROL.search(c)}  # a NUL would fail the query on PostgreSQL
        # a temporary card number replaced by the formal one still names the member
        self.cards = self._fetch(Member.previous_card_no, cards) | self._fetch(Member.card_no, cards)
        hashes = {}
        for r in rows:
            try:
                mobile = str(r.get("member_mobile") or "").strip()
                if mobile and not _CONTROL.search(mobile):
                    hashes[mobile] = lookup_hash(normalise_mobile(mobile))
            except InvalidMobile:
                pass
        by_hash = self._fetch(Member.mobile_hash, set(hashes.values()))
        self.mobiles = {m: by_hash.get(h) for m, h in hashes.items()}
        names = {n for n in (str(r.get("associate") or "").strip() for r in rows)
                 if n and not _CONTROL.search(n)}
        self.users = {u.username: u for u in self._rows(select(User), User.username, names)}

    @staticmethod
    def _rows(query, column, values):
        return db.session.execute(query.where(engine.values_in(column, values))).scalars() \
            if values else []

    @staticmethod
    def _fetch(column, values) -> dict:
        """value of `column` → member id, for the members having one of these values."""
        if not values:
            return {}
        return dict(db.session.execute(select(column, Member.id).where(
            engine.values_in(column, values))).all())


def check(rows: list[dict], *, actor: User | None = None, store: Store | None = None) -> Checked:
    """Validate raw rows (dicts of text) for an importing user or a store's till token."""
    found = _Lookups(rows)
    result, seen = Checked(), set()
    parsed = []
    for number, row in enumerate(rows, start=1):
        line = int(row.get("_line") or number)
        errors: list[RowError] = []
        sale = _parse_row(row, line, found, errors, actor=actor, token_store=store)
        if sale and (sale.store_id, sale.sale_no) in seen:
            errors.append(RowError(line, "sale_no", _("单号 %(no)s 在本批中重复", no=sale.sale_no)))
        if sale and not errors:
            seen.add((sale.store_id, sale.sale_no))
            parsed.append(sale)
        result.errors.extend(errors)
    _against_stored(parsed, result)
    _returns(parsed, result)
    return result


def _parse_row(row: dict, line: int, found: _Lookups, errors: list, *, actor, token_store):
    def value(key):
        raw = row.get(key)
        return raw.strip() if isinstance(raw, str) else raw

    bad = [key for key, raw in row.items() if isinstance(raw, str) and _CONTROL.search(raw)]
    for key in bad:  # PostgreSQL refuses NUL in text: a row error, not a failed transaction
        errors.append(RowError(line, key, _("含有不可见的控制字符")))
    if bad:
        return None
    store = _row_store(value("store_code"), line, found, errors, actor=actor, token_store=token_store)
    sale_no = str(value("sale_no") or "").strip()
    if not sale_no:
        errors.append(RowError(line, "sale_no", _("缺少单号")))
    elif len(sale_no) > 40:
        errors.append(RowError(line, "sale_no", _("单号不能超过40个字符")))
    parsed = {}
    for key, parse in (("sold_at", parse_time), ("amount", parse_amount), ("items", parse_items)):
        try:
            parsed[key] = parse(value(key))
        except ValueError as exc:
            errors.append(RowError(line, key, str(exc)))
    member_id = _row_member(value("member_card"), value("member_mobile"), line, found, errors)
    associate_id = _row_associate(value("associate"), store, line, found, errors)
    return_of = str(value("return_of") or "").strip() or None
    category = str(value("category") or "").strip() or None
    if category and len(category) > 40:
        errors.append(RowError(line, "category", _("品类不能超过40个字符")))
    if "amount" in parsed:
        _check_sign(parsed, return_of, line, errors)
    if parsed.get("items") == 0:  # a ticket sells (or a return takes back) at least one item
        errors.append(RowError(line, "items", _("件数不能为0")))
    if errors or store is None:
        return None
    sign = -1 if return_of else 1
    return SaleIn(line=line, store_id=store.id, sale_no=sale_no, sold_at=parsed["sold_at"],
                  amount_fen=sign * abs(parsed["amount"]), items=sign * abs(parsed["items"]),
                  member_id=member_id, associate_id=associate_id, return_of_no=return_of,
                  ticket_delta=0 if return_of else 1, category=category)


def _check_sign(parsed: dict, return_of, line: int, errors: list) -> None:
    if not return_of and parsed["amount"] <= 0:
        errors.append(RowError(line, "amount", _("销售金额必须大于0(退货请填写原单号)")))
    elif return_of and parsed["amount"] == 0:
        errors.append(RowError(line, "amount", _("退货金额不能为0")))


def _row_store(code, line, found, errors, *, actor, token_store):
    code = str(code or "").strip()
    if token_store is not None:
        if code and code != token_store.code:
            errors.append(RowError(line, "store_code", _(
                "该令牌只能提交本门店(%(code)s)的销售", code=token_store.code)))
            return None
        return token_store
    store = found.stores.get(code)
    if store is None:
        errors.append(RowError(line, "store_code", _("未知门店编码“%(code)s”", code=code[:20])))
        return None
    if actor is not None and not in_scope(actor, store.id, store.area_id):
        errors.append(RowError(line, "store_code", _("无权导入门店 %(code)s 的销售", code=code)))
        return None
    return store


def _row_member(card, mobile, line, found, errors):
    card, mobile = str(card or "").strip(), str(mobile or "").strip()
    member_id = None
    if card:
        member_id = found.cards.get(card)
        if member_id is None:
            errors.append(RowError(line, "member_card", _("未知会员卡号“%(card)s”", card=card[:20])))
            return None
    if mobile:
        if mobile not in found.mobiles:  # every valid mobile of the batch was looked up
            errors.append(RowError(line, "member_mobile", _("会员手机号格式不正确")))
            return None
        by_mobile = found.mobiles.get(mobile)
        if by_mobile is None:
            errors.append(RowError(line, "member_mobile", _("该手机号不是会员")))
        elif member_id is not None and by_mobile != member_id:
            errors.append(RowError(line, "member_mobile", _("会员卡号与手机号不是同一会员")))
        member_id = member_id or by_mobile
    return member_id


def _row_associate(username, store, line, found, errors):
    username = str(username or "").strip()
    if not username:
        return None
    user = found.users.get(username)
    if user is None or (store is not None and user.store_id not in (None, store.id)):
        errors.append(RowError(line, "associate", _("未知导购“%(name)s”", name=username[:20])))
        return None
    return user.id


_STORED_COLUMNS = (Sale.id, Sale.store_id, Sale.sale_no, Sale.amount_fen, Sale.items, Sale.sold_at,
                   Sale.member_id, Sale.return_of_id)


def _stored(keys: set[tuple[int, str]]) -> dict:
    """Sales already stored under these (store, number) keys, as light rows (no ORM objects)."""
    by_store = defaultdict(list)
    for store_id, no in keys:
        by_store[store_id].append(no)
    out = {}
    for store_id, numbers in by_store.items():  # one query a store: the (store, number) index
        query = select(*_STORED_COLUMNS).where(Sale.store_id == store_id,
                                               engine.values_in(Sale.sale_no, numbers))
        out.update({(s.store_id, s.sale_no): s for s in db.session.execute(query)})
    return out


def _same(stored, sale: SaleIn) -> bool:
    return (stored.amount_fen, stored.items, stored.sold_at) == (
        sale.amount_fen, sale.items, sale.sold_at) and (
        sale.return_of_no is not None or stored.member_id == sale.member_id)


def _against_stored(parsed: list[SaleIn], result: Checked) -> None:
    stored = _stored({(s.store_id, s.sale_no) for s in parsed})
    for sale in parsed:
        old = stored.get((sale.store_id, sale.sale_no))
        if old is None:
            result.new.append(sale)
        elif _same(old, sale):
            sale.existing = True
            result.existing.append(sale)
        else:
            result.errors.append(RowError(sale.line, "sale_no", _(
                "单号 %(no)s 已导入过,但内容不同", no=sale.sale_no)))


def _returns(parsed: list[SaleIn], result: Checked) -> None:
    """A return must refer to a sale of the same store and not return more than is left."""
    returns = [s for s in result.new if s.return_of_no]
    if not returns:
        return
    in_batch = {(s.store_id, s.sale_no): s for s in parsed if not s.return_of_no}
    stored = _stored({(s.store_id, s.return_of_no) for s in returns})
    returned = _already_returned([s.id for s in stored.values()])
    for sale in sorted(returns, key=lambda s: s.sold_at):
        key = (sale.store_id, sale.return_of_no)
        original = stored.get(key) or in_batch.get(key)
        if original is None or getattr(original, "return_of_id", None) or getattr(
                original, "return_of_no", None):
            result.errors.append(RowError(sale.line, "return_of", _(
                "原单号 %(no)s 不存在", no=sale.return_of_no)))
            continue
        left = original.amount_fen + returned[key]
        if -sale.amount_fen > left:
            result.errors.append(RowError(sale.line, "amount", _(
                "退货金额超过原单剩余金额 %(left)s 元", left=Decimal(left) / 100)))
            continue
        returned[key] += sale.amount_fen
        sale.member_id = original.member_id
        sale.return_of_id = getattr(original, "id", None)
        sale.ticket_delta = -1 if left + sale.amount_fen == 0 else 0  # the whole ticket reversed


def _already_returned(original_ids: list[int]) -> defaultdict:
    out = defaultdict(int)
    if not original_ids:
        return out
    query = (select(Sale.store_id, Sale.sale_no, func.coalesce(func.sum(_R.amount_fen), 0))
             .join(_R, _R.return_of_id == Sale.id).where(engine.ids_in(Sale.id, original_ids))
             .group_by(Sale.store_id, Sale.sale_no))
    for store_id, no, amount in db.session.execute(query):
        out[(store_id, no)] = int(amount)
    return out



# ------------------------------------------------------------------ writing

def record(*, rows: list[dict], actor: User | None = None, store: Store | None = None,
           source: str = "import") -> Checked:
    """Validate and write a batch all-or-nothing; raises SaleError with the rows' errors."""
    for attempt in (1, 2):
        checked = check(rows, actor=actor, store=store)
        if not checked.ok:
            raise SaleError(checked.errors)
        try:
            _write(checked.new, source=source)
            db.session.commit()
            return checked
        except IntegrityError:
            # Another request stored some of these numbers meanwhile: look again (idempotent).
            db.session.rollback()
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _write(sales: list[SaleIn], *, source: str) -> None:
    """Insert the sales (originals first, so returns can point at them) and bump the roll-ups."""
    now = clock.now()
    originals = [s for s in sales if not s.return_of_no]
    returns = [s for s in sales if s.return_of_no]
    _insert(originals, source, now)
    if returns:
        missing = {(s.store_id, s.return_of_no) for s in returns if s.return_of_id is None}
        ids = {k: s.id for k, s in _stored(missing).items()}
        for sale in returns:
            sale.return_of_id = sale.return_of_id or ids[(sale.store_id, sale.return_of_no)]
        _insert(returns, source, now)
    bump_rollups(created_at=now, source=source)
    points.credit_sales(created_at=now, source=source)
    # Processes that start from sales (a member reaching the formal-points threshold…) start
    # in this same transaction, whichever way the sales came (page, file, till API).
    engine.emit("sales_recorded", now=now,
                member_ids=sorted({s.member_id for s in sales if s.member_id}))


_SALE_COLUMNS = ("store_id", "sale_no", "member_id", "sold_at", "ym", "amount_fen", "items",
                 "ticket_delta", "associate_id", "return_of_id", "source", "created_at", "category")


def _insert(sales: list[SaleIn], source: str, now: datetime) -> None:
    if not sales:
        return
    rows = [(s.store_id, s.sale_no, s.member_id, s.sold_at, s.ym, s.amount_fen, s.items,
             s.ticket_delta, s.associate_id, s.return_of_id, source, now, s.category) for s in sales]
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":  # COPY: a 100k-row file in one stream
        with connection.connection.driver_connection.cursor() as cursor, cursor.copy(
                f"COPY sale ({', '.join(_SALE_COLUMNS)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return
    for i in range(0, len(rows), 5000):
        db.session.execute(Sale.__table__.insert(),
                           [dict(zip(_SALE_COLUMNS, r)) for r in rows[i:i + 5000]])


def bump_rollups(*, created_at: datetime, source: str) -> None:
    """Add the batch just written (its sales share `created_at` and `source`) to the monthly
    roll-ups: each roll-up row summed by the database and upserted in one statement."""
    batch = "created_at = :now AND source = :source"
    _upsert_sum("member_month", ("ym", "store_id", "member_id"), {
        "amount_fen": "SUM(amount_fen)", "tickets": "SUM(ticket_delta)", "items": "SUM(items)"},
        f"{batch} AND member_id IS NOT NULL", created_at, source)
    member_only = "CASE WHEN member_id IS NOT NULL THEN {} ELSE 0 END"
    _upsert_sum("store_month", ("ym", "store_id"), {
        "amount_fen": "SUM(amount_fen)", "tickets": "SUM(ticket_delta)", "items": "SUM(items)",
        "member_amount_fen": f"SUM({member_only.format('amount_fen')})",
        "member_tickets": f"SUM({member_only.format('ticket_delta')})",
        "member_items": f"SUM({member_only.format('items')})"}, batch, created_at, source)


def _upsert_sum(table: str, keys: tuple, sums: dict, where: str, created_at, source) -> None:
    """INSERT … SELECT … GROUP BY … ON CONFLICT DO UPDATE (the same text on PostgreSQL and
    SQLite): adds the batch's sums to the existing roll-up rows."""
    columns = ", ".join((*keys, *sums))
    adds = ", ".join(f"{name} = {table}.{name} + excluded.{name}" for name in sums)
    db.session.execute(text(
        f"INSERT INTO {table} ({columns}) SELECT {', '.join(keys)}, {', '.join(sums.values())} "
        f"FROM sale WHERE {where} GROUP BY {', '.join(keys)} "
        f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {adds}"
    ).bindparams(bindparam("now", type_=TZDateTime)), {"now": created_at, "source": source})


def rebuild_rollups() -> None:
    """Recompute both roll-ups from the sales (after a bulk load or to check them); commits."""
    db.session.execute(MemberMonth.__table__.delete())
    db.session.execute(StoreMonth.__table__.delete())
    db.session.execute(text(
        "INSERT INTO member_month (ym, store_id, member_id, amount_fen, tickets, items) "
        "SELECT ym, store_id, member_id, SUM(amount_fen), SUM(ticket_delta), SUM(items) FROM sale "
        "WHERE member_id IS NOT NULL GROUP BY ym, store_id, member_id"))
    db.session.execute(text(
        "INSERT INTO store_month (ym, store_id, amount_fen, tickets, items, member_amount_fen, "
        "member_tickets, member_items) SELECT ym, store_id, SUM(amount_fen), SUM(ticket_delta), "
        "SUM(items), SUM(CASE WHEN member_id IS NOT NULL THEN amount_fen ELSE 0 END), "
        "SUM(CASE WHEN member_id IS NOT NULL THEN ticket_delta ELSE 0 END), "
        "SUM(CASE WHEN member_id IS NOT NULL THEN items ELSE 0 END) FROM sale GROUP BY ym, store_id"))
    db.session.commit()


# ------------------------------------------------------------------ targets

def parse_month(raw: str) -> int:
    """'2026-10' as 202610; ValueError with a Chinese message otherwise."""
    try:
        year, month = (int(x) for x in str(raw).strip().split("-"))
        if not (year in YEARS and 1 <= month <= 12):
            raise ValueError
    except ValueError:
        raise ValueError(_("月份格式应为 2026-10")) from None
    return year * 100 + month


def set_target(*, actor: User, store: Store, ym: int, amount: str) -> SalesTarget:
    """Enter or change a store's monthly sales target."""
    fen = parse_amount(amount)
    if fen <= 0:
        raise ValueError(_("目标金额必须大于0"))
    target = db.session.scalar(select(SalesTarget).where(
        SalesTarget.store_id == store.id, SalesTarget.ym == ym)) or SalesTarget(
        store_id=store.id, ym=ym)
    with transaction():
        target.amount_fen, target.updated_by_id, target.updated_at = fen, actor.id, clock.now()
        db.session.add(target)
    return target


def targets(*, store_ids, year: int) -> dict[tuple[int, int], int]:
    """(store_id, ym) → target fen for a year."""
    query = select(SalesTarget.store_id, SalesTarget.ym, SalesTarget.amount_fen).where(
        SalesTarget.store_id.in_(store_ids), SalesTarget.ym.between(year * 100 + 1, year * 100 + 12))
    return {(s, ym): fen for s, ym, fen in db.session.execute(query)}


# ------------------------------------------------------------------ till tokens

def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_token(*, actor: User, store: Store, name: str) -> tuple[ApiToken, str]:
    """A new till token for a store; the secret is returned once and only its hash is kept."""
    name = (name or "").strip()[:60] or _("收银系统")
    secret = f"crm_{store.code.lower()}_{secrets.token_urlsafe(24)}"
    token = ApiToken(store_id=store.id, name=name, prefix=secret[:12], token_hash=_hash(secret),
                     created_by_id=actor.id)
    db.session.add(token)
    db.session.commit()
    return token, secret


def revoke_token(*, actor: User, token: ApiToken) -> None:
    """Stop a token from working (kept for the record)."""
    token.revoked_at = token.revoked_at or clock.now()
    db.session.commit()


def token_store(secret: str) -> Store | None:
    """The store a live token belongs to (None for unknown or revoked tokens)."""
    if not secret:
        return None
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == _hash(secret)))
    if token is None or token.revoked_at is not None:
        return None
    token.last_used_at = clock.now()  # committed with the batch it authorised
    return token.store


def list_tokens() -> list[ApiToken]:
    return list(db.session.scalars(select(ApiToken).order_by(ApiToken.created_at.desc())))


def recent_sales(*, user: User, limit: int = 50) -> list[Sale]:
    """The latest sales the user may see."""
    from ..permissions import store_area_filter

    query = (select(Sale).where(store_area_filter(user, Sale.store_id))
             .order_by(Sale.sold_at.desc(), Sale.id.desc()).limit(limit))
    return list(db.session.scalars(query))


__all__ = ["SaleError", "RowError", "Checked", "check", "record", "parse_amount", "parse_time",
           "set_target", "create_token", "revoke_token", "token_store", "rebuild_rollups"]
