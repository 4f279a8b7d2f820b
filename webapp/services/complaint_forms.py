"""The complaint handling form as a PDF: one complaint, or a month's as a filing batch."""
from __future__ import annotations

from .. import permissions, settings
from ..extensions import db
from ..formatting import local_time
from ..models import Complaint, User
from .complaints import CHANNELS, CONSENT_HOW, SURVEY_SCORES
from .members import audit_printed

TITLES = {"direct": "顾客投诉意见处理表（客服部用）", "store": "顾客投诉意见处理表"}


def _flag(done, late) -> str:
    return "（超时）" if done and late else ""


def _card_no(c: Complaint, reader: User) -> str:
    if c.member is None:
        return "非会员"
    return c.member.card_no if permissions.can(reader, "member.view", c.member) else "其他门店会员"


def form_context(c: Complaint, *, reader: User) -> dict:
    """Every stage with its people and times, as printed; the contact as the reader sees it on
    screen (in full only for roles that may reveal it, which `printed_in_full` records)."""
    t = local_time
    full = bool(c.contact) and permissions.can(reader, "complaint.reveal", c.case)
    late = c.late_flags()
    return {"brand": settings.get("brand_name"), "title": TITLES[c.kind], "number": f"TS{c.case_id:06d}",
            "received_at": t(c.received_at), "customer_name": c.customer_name,
            "contact": c.contact if full else c.masked_contact,
            "printed_in_full": ("complaint", c.id, ["contact"]) if full else None,
            "card_no": _card_no(c, reader), "channel": CHANNELS.get(c.channel, ""),
            "store": c.store.name, "product": c.product, "description": c.description,
            "customer_wants": c.customer_wants, "recorded_by": c.recorded_by.display_name,
            "contacted_at": t(c.contacted_at), "reply_flag": _flag(c.contacted_at, c.reply_late),
            "agreed_reply_at": t(c.agreed_reply_at), "replied_at": t(c.replied_at),
            "promise_flag": _flag(c.replied_at, "promise" in late), "reply_due_at": t(c.reply_due_at),
            "reply_text": c.reply_text, "escalated_at": t(c.escalated_at),
            "solution_text": c.solution_text,
            "solution_by": c.solution_by.display_name if c.solution_by else "",
            "proposed_at": t(c.proposed_at), "consent_by": c.consent_by,
            "consent_how": CONSENT_HOW.get(c.consent_how, ""), "consent_at": t(c.consent_at),
            "solution_flag": _flag(c.proposed_at, c.solution_late), "solved_at": t(c.solved_at),
            "carry_out_flag": _flag(c.solved_at, "carry_out" in late),
            "carry_out_due_at": t(c.carry_out_due_at),
            "solution_due_at": t(c.solution_due_at), "submitted_at": t(c.submitted_at),
            "revisited_at": t(c.revisited_at), "revisit_flag": _flag(c.revisited_at, c.revisit_late),
            "revisit_due_at": t(c.revisit_due_at), "revisit_note": c.revisit_note,
            "survey_score": f"{c.survey_score}分 {SURVEY_SCORES[c.survey_score]}" if c.survey_score else "",
            "survey_comment": c.survey_comment, "filed_at": t(c.filed_at), "kind": c.kind,
            "cause": c.cause, "solution_steps": c.solution_steps, "solution_time": c.solution_time,
            "solution_effect": c.solution_effect, "manager_decision": c.manager_decision,
            "carry_out_note": c.carry_out_note, "store_handling": c.store_handling,
            "area_opinion": c.area_opinion,
            "revisited_by": c.revisited_by.display_name if c.revisited_by else "",
            "signer_label": "客服经理签字" if c.kind == "direct" else "区域主管签字",
            "copy_note": "客服部存档" if c.kind == "direct" else "门店/区域填写，提交客服部"}


def complaint_pdf(*, reader: User, complaints: list[Complaint]) -> bytes:
    """The forms as `reader` may see them; an unmasked print is audited and committed."""
    from ..pdf import render_many

    items = [form_context(c, reader=reader) for c in complaints]
    data = render_many("complaint_form.html", items)
    audit_printed(reader=reader, items=items)
    db.session.commit()
    return data
