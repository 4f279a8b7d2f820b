"""On PostgreSQL a case's, task's, audit's and timer's references are checked per statement
(migration c4e1d7a9b352, webapp/models/references.py) instead of by foreign keys: they must
refuse and lock exactly as the keys did."""
import pytest
from sqlalchemy import Integer, func, literal, select, text
from sqlalchemy.exc import IntegrityError, OperationalError

from tests.factories import register
from webapp.extensions import db
from webapp.models import Area, Case, Member, Role, Store, Task
from webapp.workflows import engine
from webapp.workflows.engine import Process, TaskSpec, Transition

pytestmark = pytest.mark.postgres

MISSING = 987654


def _insert_case(conn, **refs):
    values = {"store_id": None, "area_id": None, "member_id": None, "created_by_id": None, **refs}
    return conn.execute(text(
        """INSERT INTO "case" (process, state, version, title, store_id, area_id, member_id,
                               created_by_id, created_at, updated_at, data)
           VALUES ('ref_test', 'open', 1, 't', :store_id, :area_id, :member_id, :created_by_id,
                   now(), now(), '{}') RETURNING id"""), values).scalar_one()


def _refused(statement, **params):
    with pytest.raises(IntegrityError) as caught, db.engine.begin() as conn:
        conn.execute(text(statement), params)
    assert caught.value.orig.sqlstate == "23503"  # foreign_key_violation, as a key gives


@pytest.mark.parametrize("column", ["store_id", "area_id", "member_id", "created_by_id"])
def test_a_case_naming_a_missing_row_is_refused(org, column):
    with pytest.raises(IntegrityError) as caught, db.engine.begin() as conn:
        _insert_case(conn, **{column: MISSING})
    assert caught.value.orig.sqlstate == "23503" and column in str(caught.value)
    assert db.session.scalar(select(func.count()).select_from(Case)) == 0


def test_tasks_audits_and_timers_naming_a_missing_row_are_refused(org):
    with db.engine.begin() as conn:
        case_id = _insert_case(conn, store_id=org.stores[0].id)
    _refused("""INSERT INTO task (case_id, name, role, status, due_at, created_at)
                VALUES (:c, 'call', 'ASSOCIATE', 'open', now(), now())""", c=MISSING)
    _refused("""INSERT INTO task (case_id, name, role, status, due_at, created_at, assignee_id)
                VALUES (:c, 'call', 'ASSOCIATE', 'open', now(), now(), :u)""", c=case_id, u=MISSING)
    _refused("""INSERT INTO audit_event (case_id, object_type, object_id, at, action, comment, data, actor_id)
                VALUES (:c, 'case', :c, now(), 'x', '', '{}', :u)""", c=case_id, u=MISSING)
    _refused("""INSERT INTO case_timer (case_id, state, transition, case_version, due_at)
                VALUES (:c, 'open', 'x', 1, now())""", c=MISSING)


def test_start_many_with_one_bad_row_writes_nothing(org):
    process = engine.register(Process(
        name="ref_bulk", label="批量", states={"open": "待办", "done": "完成"}, initial="open",
        start_roles=frozenset(), transitions=(Transition("done", "完成", ("open",), "done",
                                frozenset({Role.ASSOCIATE})),),
        tasks={"open": TaskSpec("call", "致电", Role.ASSOCIATE, due_setting="mailbox_check_due")},
        final=frozenset({"done"})))
    good = select(literal("好").label("title"), Store.id.label("store_id"),
                  Store.area_id.label("area_id"), literal(None, Integer).label("member_id"))
    bad = select(literal("坏"), literal(MISSING), literal(None, Integer), literal(None, Integer))
    try:
        with pytest.raises(IntegrityError):
            engine.start_many(process, good.union_all(bad))
        db.session.rollback()
        assert db.session.scalar(select(func.count()).select_from(Case)) == 0
        assert len(engine.start_many(process, good)) == len(org.stores)
    finally:
        engine.REGISTRY.pop("ref_bulk", None)


def test_changing_a_reference_to_a_missing_row_is_refused(org):
    case = register(org)
    task_id = db.session.scalar(select(Task.id).where(Task.case_id == case.id))
    _refused("UPDATE task SET assignee_id = :u WHERE id = :t", u=MISSING, t=task_id)
    _refused('UPDATE "case" SET store_id = :s WHERE id = :c', s=MISSING, c=case.id)
    with db.engine.begin() as conn:  # to a row that exists: fine
        conn.execute(text('UPDATE "case" SET store_id = :s WHERE id = :c'),
                     {"s": org.stores[1].id, "c": case.id})


def test_deleting_a_referenced_parent_is_refused(org):
    case = register(org)
    member_id, case_id = case.member_id, case.id
    _refused("DELETE FROM member WHERE id = :m", m=member_id)
    _refused('DELETE FROM "case" WHERE id = :c', c=case_id)  # its task and audit refer to it
    _refused('UPDATE "user" SET id = :n WHERE username = :u', n=MISSING, u="assoc1")
    spare = Area(name="空区")
    db.session.add(spare)
    db.session.commit()
    with db.engine.begin() as conn:  # nothing refers to it
        conn.execute(text("DELETE FROM area WHERE id = :a"), {"a": spare.id})
    assert db.session.get(Member, member_id) is not None


def test_a_delete_waits_for_the_insert_that_locked_its_parent_then_fails(org):
    store_id = org.stores[3].id
    inserting = db.engine.connect()
    deleting = db.engine.connect()
    try:
        tx = inserting.begin()
        _insert_case(inserting, store_id=store_id)
        deleting.execute(text("SET lock_timeout = '300ms'"))
        with pytest.raises(OperationalError) as waited:  # the store is locked FOR KEY SHARE
            deleting.execute(text("DELETE FROM store WHERE id = :s"), {"s": store_id})
        assert waited.value.orig.sqlstate == "55P03"
        deleting.rollback()
        tx.commit()
        with pytest.raises(IntegrityError):  # now the case is there
            deleting.execute(text("DELETE FROM store WHERE id = :s"), {"s": store_id})
        deleting.rollback()
    finally:
        inserting.close()
        deleting.close()
