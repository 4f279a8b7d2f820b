"""The visit plan's printed forms (A4, CJK embedded): for one store and month, the monthly report
《XX专卖店客户回访情况月报表》 with next month's plan, the 《客户回访情况登记表》 of the month's
visits and HQ's spot-check sheet. The visit record form and the spot-check sheet print on their
own in the request; the month's set (one store, or every store the reader sees) is a filing
batch rendered by the worker (services/printing.py, kind "visit_month_set")."""
from __future__ import annotations

from .. import permissions, settings
from ..extensions import db
from ..formatting import local_time, percent
from ..models import Store, User
from ..periods import Month
from . import visit_plan as vp
from .members import audit_printed

METHOD_ZH = {"call": "电话", "sms": "短信", "visit": "登门拜访", "mail": "邮寄"}


def month_set_context(*, reader: User, store: Store, month: Month) -> dict:
    """Everything the month's set prints; member phones in full only for roles that may reveal."""
    summary = vp.month_summary(store_id=store.id, month=month)
    report_case = vp.plan_case(store_id=store.id, month=month.next())
    next_items = vp.plan_items(case=report_case) if report_case else []
    records = vp.visit_records(user=reader, store_id=store.id, month=month)
    reveal = permissions.can(reader, "member.reveal", store)
    sample = [r for r in records if r.sampled_at is not None]
    return {
        "brand": settings.get("brand_name"), "store": store.name, "month": month.key,
        "next_month": month.next().key, "summary": summary, "rate": percent(summary.rate),
        "methods": METHOD_ZH,
        "remarks": (report_case.data.get("remarks", "") if report_case else ""),
        "plan": [{"date": i.planned_on.isoformat(), "member": f"{i.member.card_no} {i.member.name}",
                  "tier": i.member.tier, "occasion": i.occasion, "method": METHOD_ZH[i.method],
                  "who": i.associate.display_name, "flag": "建议季度回访" if i.frequency_flag else ""}
                 for i in next_items if i.status == "set"],
        "records": [{"at": local_time(r.visited_at), "member": f"{r.member.card_no} {r.member.name}",
                     "tier": r.member.tier, "method": METHOD_ZH[r.method], "who": r.associate.display_name,
                     "result": r.result, "feedback": r.feedback, "follow_up": "是" if r.follow_up else "",
                     "planned": "是" if r.plan_item_id else "否"} for r in records],
        "sample": [{"member": f"{r.member.card_no} {r.member.name}",
                    "mobile": r.member.mobile if reveal else r.member.masked_mobile,
                    "at": local_time(r.visited_at), "method": METHOD_ZH[r.method], "result": r.result,
                    "confirmed": "" if r.checked_at is None else ("确认" if r.check_confirmed else "未确认"),
                    "note": r.check_note,
                    "printed_in_full": ("member", r.member_id, ["mobile"]) if reveal else None}
                   for r in sample],
    }


# form → (template, download title, ASCII name); "set" is the three sheets together.
FORMS = {"set": ("visit_month_set.html", "客户回访月度资料", "visits"),
         "records": ("visit_record_form.html", "客户回访情况登记表", "visit-records"),
         "spot_check": ("visit_spot_check.html", "客户回访抽查表", "visit-spot-check")}


def form_pdf(*, reader: User, store: Store, month: Month, form: str) -> bytes:
    """One store's month as one of FORMS; printing phones in full is audited and committed."""
    from ..pdf import render_pdf

    context = month_set_context(reader=reader, store=store, month=month)
    data = render_pdf(FORMS[form][0], forms=[context])
    if form != "records":  # the record form prints no phone
        audit_printed(reader=reader, items=context["sample"])
    db.session.commit()
    return data


def month_set_pdf(*, reader: User, store: Store, month: Month) -> bytes:
    """The month's set of one store as one PDF (what a batch of that store holds)."""
    return form_pdf(reader=reader, store=store, month=month, form="set")


def batch_stores(*, reader: User, store_id: int | None) -> list[Store]:
    """The stores a month-set batch prints: the one asked for, or every store the reader sees."""
    stores = vp.visible_stores(reader)
    return [s for s in stores if s.id == store_id] if store_id else stores


def batch_items(*, reader: User, params: dict) -> list[dict]:
    """The worker's pages: one month's set per store; `printed_rows` are the sample rows whose
    phones a full print audits."""
    month = Month.parse(params["month"])
    items = []
    for store in batch_stores(reader=reader, store_id=params.get("store_id")):
        context = month_set_context(reader=reader, store=store, month=month)
        items.append({**context, "printed_rows": context["sample"]})
    return items
