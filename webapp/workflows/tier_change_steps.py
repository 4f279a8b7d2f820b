"""The tier-change proposal's rule and effect (workflows/tier_change.py declares where they apply)."""
from __future__ import annotations

from ..extensions import db
from ..i18n_labels import N_
from ..models import AuditEvent

TIERS = ("A", "B", "C")  # best first: "A" < "B" < "C" as text, so an upgrade compares lower


def change_of(case) -> tuple[str, str]:
    """(from, to) named by the proposal's dedupe key tier_change:<yyyymm>:<member>:<from><to>."""
    pair = (case.dedupe_key or "").rsplit(":", 1)[-1]
    return pair[0], pair[1]


def still_applies(case, data):
    """The member's tier must still be the one the proposal started from."""
    old, _new = change_of(case)
    if case.member is None or case.member.tier != old:
        return N_("该会员的等级已变化，此建议不再适用，请不予调整")
    return None


def apply_tier(case, actor, data, now):
    old, new = change_of(case)
    case.member.tier = new
    db.session.add(AuditEvent(object_type="member", object_id=case.member_id, actor_id=actor.id,
                              at=now, action="tier_change",
                              data={"from": old, "to": new, "case": case.id}))
