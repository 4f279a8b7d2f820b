"""Entering next year's holidays (issue #9: the working-day calendar must never fall back silently).

The libraries know the statutory holidays and make-up workdays only of the years whose State
Council notice they have transcribed; the notice comes out in the autumn of the year before.
From 1 November the system opens one case per uncovered year, with a task in the
administrator's inbox; left undone, it reminds, then escalates to the CS manager (who may
enter the year too). Saving the year on the holiday-year page closes it.
"""
from ..i18n_labels import N_
from ..models import Role
from .engine import Process, TaskSpec, Transition, register

ENTER_ROLES = frozenset({Role.ADMIN, Role.HQ_MANAGER})


def _year_covered(case, data):
    """Refuse to close the task while the year is still unknown to the calendar."""
    from .. import settings

    if not settings.calendar_policy().covers(int(case.data["year"])):
        return N_("该年份的节假日和调休上班日尚未录入")
    return None


holiday_year = register(Process(
    name="holiday_year",
    label=N_("录入下一年节假日安排"),
    states={"due": N_("待录入"), "entered": N_("已录入")},
    initial="due",
    start_roles=frozenset(),  # opened by the system only
    transitions=(
        Transition("enter", N_("已录入节假日安排"), ("due",), "entered", ENTER_ROLES,
                   guard=_year_covered),
    ),
    tasks={"due": TaskSpec("enter_holidays", N_("录入下一年节假日和调休上班日"), Role.ADMIN,
                           due_setting="holiday_year_due", remind_setting="holiday_year_remind_hours",
                           escalate_to=Role.HQ_MANAGER)},
    final=frozenset({"entered"}),
))
