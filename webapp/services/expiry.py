"""The month's 《xx月到期会员名单》 (issue #12): the list as people see it (scoped, filtered), its
xlsx, the renewal and lapse figures per store, and renewal by payment from the call."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from io import BytesIO

from sqlalchemy import func, select

from .. import permissions, spreadsheet
from ..extensions import db
from ..i18n_labels import N_, Refusal
from ..models import AuditEvent, CardRenewal, Case, Member, Store, User
from ..periods import Month
from ..workflows.tier_change_steps import TIERS
from ..workflows import engine
from ..workflows.expiry import expiry_call

STATES = tuple(expiry_call.states)


class RenewalError(Refusal):
    """Bad input for a renewal; str() is the message in the user's language."""


def parse_month(raw: str, default: Month) -> Month:
    """'2027-01' as a Month; the default when empty; RenewalError otherwise."""
    if not (raw or "").strip():
        return default
    try:
        return Month.parse(raw.strip())
    except ValueError:
        raise RenewalError(N_("月份格式应为 2026-10")) from None


def _month_cases(user: User, month: Month):
    return (select(Case).where(Case.process == "expiry_call",
                               Case.dedupe_key.like(f"expiry:%:{month.key}"),
                               permissions.case_filter(user)))


def list_rows(*, user: User, month: Month, store_id: int | None = None,
              area_id: int | None = None, state: str = "", tier: str = "") -> list[Case]:
    """The month's listed members this user may see (a store sees only its own), filtered
    (by the member's tier too: "different folders")."""
    query = _filtered(user, month, store_id, area_id, state, tier)
    return db.session.scalars(query.order_by(Case.store_id, Member.card_expires_on, Member.card_no)).all()


@dataclass
class Row:
    store: str
    listed: int = 0
    waiver: int = 0
    paid: int = 0
    declined: int = 0
    unreachable: int = 0
    lapsed: int = 0

    def cells(self) -> list:
        return [self.store, self.listed, self.waiver, self.paid, self.declined, self.unreachable,
                self.lapsed]


HEADERS = (N_("门店"), N_("名单人数"), N_("免年费续卡"), N_("缴费续卡"), N_("不续卡"), N_("多次未接通"),
           N_("已过期"))


def figures(*, user: User, month: Month) -> list[Row]:
    """Per store (and a total): listed, renewed by waiver, renewed by payment, declined,
    unreachable, lapsed — for the cards expiring in `month`; set-based."""
    cases = _month_cases(user, month).subquery()
    rows: dict[int, Row] = {}
    stores = dict(db.session.execute(select(Store.id, Store.name).where(
        permissions.store_area_filter(user, Store.id, Store.area_id))).all())

    def row(store_id):
        return rows.setdefault(store_id, Row(stores.get(store_id, "")))

    for store_id, state, n in db.session.execute(
            select(cases.c.store_id, cases.c.state, func.count()).group_by(cases.c.store_id, cases.c.state)):
        row(store_id).listed += n
        if state == "lapsed":
            row(store_id).lapsed += n
    for store_id, action, n in db.session.execute(
            select(cases.c.store_id, AuditEvent.action, func.count(func.distinct(cases.c.id)))
            .join(AuditEvent, AuditEvent.case_id == cases.c.id)
            .where(AuditEvent.action.in_(("decline", "unreachable")))
            .group_by(cases.c.store_id, AuditEvent.action)):
        setattr(row(store_id), "declined" if action == "decline" else "unreachable", n)
    for store_id, kind, n in db.session.execute(
            select(Member.store_id, CardRenewal.kind, func.count())
            .join(Member, Member.id == CardRenewal.member_id)
            .where(CardRenewal.old_expires_on.between(month.first_day, month.last_day),
                   permissions.store_area_filter(user, Member.store_id))
            .group_by(Member.store_id, CardRenewal.kind)):
        setattr(row(store_id), "waiver" if kind == "waiver" else "paid", n)
    out = [rows[k] for k in sorted(rows, key=lambda k: stores.get(k, ""))]
    if out:
        total = Row(N_("合计"))
        for r in out:
            for key in ("listed", "waiver", "paid", "declined", "unreachable", "lapsed"):
                setattr(total, key, getattr(total, key) + getattr(r, key))
        out.append(total)
    return out


def list_xlsx(cases: list[Case], *, title: str, headers: list[str], state_labels: dict) -> bytes:
    """The month's list as a workbook (A4, header repeated); mobile numbers masked."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "到期会员名单"
    spreadsheet.append(ws, [title])
    spreadsheet.append(ws, headers)
    for case in cases:
        m = case.member
        spreadsheet.append(ws, [m.card_no, m.name, m.masked_mobile, m.tier, m.store.name,
                                m.card_expires_on.isoformat() if m.card_expires_on else "",
                                state_labels.get(case.state, case.state)])
    spreadsheet.print_setup(ws, header_row=2, last_column="G")
    out = BytesIO()
    wb.save(out)
    return out.getvalue()


def _plain_rows(cases: list[Case], state_labels: dict) -> list[dict]:
    return [{"card_no": c.member.card_no, "name": c.member.name, "mobile": c.member.masked_mobile,
             "tier": c.member.tier, "store": c.member.store.name,
             "expires_on": c.member.card_expires_on.isoformat() if c.member.card_expires_on else "",
             "state": state_labels.get(c.state, c.state)} for c in cases]


def _filtered(user: User, month: Month, store_id, area_id, state, tier: str = ""):
    query = _month_cases(user, month).join(Member, Member.id == Case.member_id)
    if tier in TIERS:
        query = query.where(Member.tier == tier)
    if store_id:
        query = query.where(Case.store_id == store_id)
    if area_id:
        query = query.where(Case.area_id == area_id)
    if state in STATES:
        query = query.where(Case.state == state)
    return query


def list_title(month: Month) -> str:
    """The filed list's title, in Chinese like every printed form."""
    return f"《{month.first_day.month:02d}月到期会员名单》 {month.key}"


def list_store_count(*, user: User, month: Month, store_id: int | None = None,
                     area_id: int | None = None, state: str = "", tier: str = "") -> int:
    """How many stores the filed list has sections for (the batch's progress total)."""
    query = _filtered(user, month, store_id, area_id, state, tier)
    return db.session.scalar(select(func.count(func.distinct(query.subquery().c.store_id))))


def list_batch_items(*, reader: User, params: dict) -> list[dict]:
    """The worker's pages of the month's list for filing: one section per store (mobile numbers
    masked), filtered as the page was when printing was asked for."""
    month = Month.parse(params["month"])
    cases = list_rows(user=reader, month=month, store_id=params.get("store_id"),
                      area_id=params.get("area_id"), state=params.get("state", ""),
                      tier=params.get("tier", ""))
    labels = {k: str(v) for k, v in expiry_call.states.items()}
    items: dict[int, dict] = {}
    for case in cases:
        item = items.setdefault(case.store_id, {"title": list_title(month), "store": case.member.store.name,
                                                "printed": params["printed"], "rows": []})
        item["rows"].extend(_plain_rows([case], labels))
    return list(items.values())


def renew_paid(*, actor: User, case_id: int, version: int, fee: str, store_id: int | None) -> Case:
    """HQ records "will renew and pay": the fee (yuan) and the store where it is paid; commits."""
    case = db.session.get(Case, case_id)
    if case is None or case.process != "expiry_call" or not permissions.in_scope(
            actor, case.store_id, case.area_id):
        raise RenewalError(N_("事项不存在"))
    try:
        amount = Decimal((fee or "").strip())
        if amount < 0 or amount != amount.quantize(Decimal("0.01")) or amount > 100000:
            raise InvalidOperation
    except InvalidOperation:
        raise RenewalError(N_("年费金额应为不小于0的数字，最多两位小数")) from None
    try:
        engine.fire(case, "renew_paid", actor, version=version,
                    data={"fee_fen": int(amount * 100), "store_id": store_id})
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return case
