"""New-member registration (SPEC §3.1; seed 000 §二, 004 §1.1).

The associate enters the 《入会申请表》 → HQ customer service reviews every day's new entries
for completeness → approve (member active, welcome SMS) or send back with what is missing →
the store completes the data → back to HQ review.
"""
from .. import settings, staff_alerts
from ..calendar import add_months, local_date
from ..models import Role
from ..outbox import queue_sms
from .engine import Process, TaskSpec, Transition, register

HQ = frozenset({Role.HQ_SPECIALIST, Role.HQ_MANAGER})
STORE = frozenset({Role.ASSOCIATE, Role.STORE_MANAGER})


def activate(case, actor, data, now):
    """Approval: the member becomes active with a temporary card valid for the set months from
    issue (SPEC §3.9), and gets the welcome SMS."""
    member = case.member
    member.status = "active"
    member.card_expires_on = add_months(local_date(now), settings.get_int("card_validity_months"))
    queue_sms(member, "welcome_temporary")
    staff_alerts.emit("member.approved", {  # other systems subscribed (no personal data)
        "member_id": member.id, "card_no": member.card_no, "store_id": member.store_id,
        "store_code": member.store.code if member.store else None,
        "card_expires_on": member.card_expires_on, "approved_at": now}, object_id=member.id, now=now)


registration = register(Process(
    name="registration",
    label="新会员入会登记",
    states={"review": "待总部审核", "returned": "退回门店补全", "approved": "已审核通过"},
    initial="review",
    start_roles=STORE,
    transitions=(
        Transition("approve", "审核通过", ("review",), "approved", HQ, effect=activate),
        Transition("send_back", "退回补全", ("review",), "returned", HQ, comment_required=True,
                   style="danger"),
        Transition("resubmit", "补全后重新提交", ("returned",), "review", STORE),
    ),
    tasks={
        # "总部客服部对每日新录入的会员资料进行审核" — by the end of the next working day (setting).
        "review": TaskSpec("review", "审核新会员资料", Role.HQ_SPECIALIST,
                           due_setting="registration_review_due",
                           remind_setting="registration_review_remind_hours",
                           escalate_to=Role.HQ_MANAGER),
        # "客服部通知当事门店补全信息" — back to the associate who entered it; the manager watches.
        "returned": TaskSpec("complete", "补全会员资料", Role.ASSOCIATE,
                             due_setting="registration_completion_due",
                             remind_setting="registration_completion_remind_hours",
                             escalate_to=Role.STORE_MANAGER,
                             assignee=lambda case: case.created_by_id),
    },
    final=frozenset({"approved"}),
))
