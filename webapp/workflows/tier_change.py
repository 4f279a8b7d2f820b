"""A proposed tier change, decided by the store manager (SPEC §2 客户分级, §3.9; seed 000 §(一)).

"升级由店长执行" — the system computes the tier each member qualifies for and proposes; it never
moves a member by itself:
- The nightly recompute (services/tiers.review) starts one proposal per member whose applied tier
  differs from what the rule gives: an upgrade when the qualifying tier is higher; a one-tier
  downgrade ("可考虑降级") when the member bought nothing for tier_downgrade_idle_months months or
  bought clearly less (fewer than tier_downgrade_ratio_percent % of the purchases of the previous
  12 months). Started set-based (engine.start_many); at most one open proposal per member (the
  source skips members with one), and a declined change is not proposed again in the same month
  (dedupe key tier_change:<yyyymm>:<member>:<from><to>, which also names the change).
- "proposed": the store manager's task; only the manager applies (one click, or in bulk from the
  list filtered by tier) or declines. An associate's attempt is refused by the declaration.
- Applying writes the member's tier and a "tier_change" event in the member's timeline.
"""
from __future__ import annotations

from ..i18n_labels import N_
from ..models import Role
from .engine import Process, TaskSpec, Transition, register
from .tier_change_steps import apply_tier, still_applies

MANAGER = frozenset({Role.STORE_MANAGER})

tier_change = register(Process(
    name="tier_change",
    label=N_("客户等级调整"),
    states={"proposed": N_("待店长决定等级调整"), "applied": N_("已调整等级"), "declined": N_("店长未予调整")},
    initial="proposed",
    start_roles=frozenset(),  # proposed by the nightly recompute
    transitions=(
        Transition("apply", N_("调整等级"), ("proposed",), "applied", MANAGER, guard=still_applies,
                   effect=apply_tier),
        Transition("decline", N_("不予调整"), ("proposed",), "declined", MANAGER, style="plain"),
    ),
    tasks={"proposed": TaskSpec("decide_tier", N_("决定客户等级调整"), Role.STORE_MANAGER,
                                due_setting="tier_proposal_due")},
    final=frozenset({"applied", "declined"}),
))
