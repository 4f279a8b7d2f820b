"""Generic case actions used by every process's buttons (one-click and bulk)."""
from __future__ import annotations

from ..extensions import db
from ..i18n_labels import N_
from ..models import Case, User
from ..workflows import engine


def fire(*, actor: User, case: Case, transition: str, version: int, comment: str = "") -> Case:
    """Fire one transition and commit."""
    try:
        engine.fire(case, transition, actor, version=version, comment=comment)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return case


def bulk_fire(*, actor: User, transition: str, items: list[tuple[int, int]]) -> tuple[int, list[str]]:
    """Fire the same transition on many (case id, version) pairs; each commits on its own."""
    done, problems = 0, []
    for case_id, version in items:
        case = db.session.get(Case, case_id)
        try:
            if case is None:
                raise engine.WorkflowError(N_("事项不存在"))
            fire(actor=actor, case=case, transition=transition, version=version)
            done += 1
        except engine.WorkflowError as exc:
            problems.append(f"#{case_id}: {exc}")
    return done, problems
