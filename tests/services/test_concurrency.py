"""Two people approve the same registration at the same moment: exactly one wins."""
import threading

import pytest
from sqlalchemy import func, select

from tests.factories import register
from webapp.extensions import db
from webapp.models import AuditEvent, OutboxMessage, User
from webapp.services.cases import fire
from webapp.workflows.engine import Conflict
from webapp.models import Case


@pytest.mark.postgres  # real concurrent transactions
def test_concurrent_approvals_exactly_one_wins(org, app):
    case = register(org)
    case_id, version = case.id, case.version
    user_ids = [org["hq"].id, org["hq_manager"].id]
    db.session.remove()
    barrier, results = threading.Barrier(2), []

    def approve(user_id):
        with app.app_context():
            user = db.session.get(User, user_id)
            target = db.session.get(Case, case_id)
            barrier.wait()
            try:
                fire(actor=user, case=target, transition="approve", version=version)
                results.append("ok")
            except Conflict as exc:
                results.append(str(exc))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=approve, args=(u,)) for u in user_ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(results, key=len)[0] == "ok" and results.count("ok") == 1
    assert "已由" in [r for r in results if r != "ok"][0]
    approvals = db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == "approve"))
    assert approvals == 1
    assert db.session.scalar(select(func.count(OutboxMessage.id))) == 1
