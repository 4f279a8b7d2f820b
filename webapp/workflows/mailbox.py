"""The daily complaint-mailbox check (seed 004 §6.2.1: "客服专员必须每天定时察看客服投诉邮箱").

Each day the system opens one case (a daily `Recurring` rule, services/recurring.py) with a task in the HQ specialists' inbox, due at the end of
that day; ticking it off closes it. Left unchecked, it reminds, then escalates to the CS manager.
"""
from ..i18n_labels import N_
from ..models import Role
from .engine import Process, Recurring, TaskSpec, Transition, register

mailbox_check = register(Process(
    name="mailbox_check",
    label=N_("每日查看投诉邮箱"),
    states={"due": N_("待查看"), "checked": N_("已查看")},
    initial="due",
    start_roles=frozenset(),  # opened by the system only
    transitions=(
        Transition("check", N_("已查看投诉邮箱"), ("due",), "checked",
                   frozenset({Role.HQ_SPECIALIST, Role.HQ_MANAGER})),
    ),
    tasks={"due": TaskSpec("check_mailbox", N_("查看投诉邮箱"), Role.HQ_SPECIALIST,
                           due_setting="mailbox_check_due", remind_setting="mailbox_check_remind_hours",
                           escalate_to=Role.HQ_MANAGER)},
    final=frozenset({"checked"}),
    recurring=Recurring("daily", per="company", title=lambda day: f"查看投诉邮箱 {day}"),
))
