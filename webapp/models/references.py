"""References that PostgreSQL checks per statement instead of with a foreign key.

A case, its first task, its start audit and its timer are written 100,000 at a time
(`engine.start_many`); one foreign-key trigger per row and key cost about half of that.
Migration c4e1d7a9b352 replaces these keys on PostgreSQL with statement-level checks over the
inserted rows (same refusal, same FOR KEY SHARE locks, parents guarded against deletes). The
models keep their ForeignKey (relationships, SQLite, the ORM's flush order); migrations/env.py
leaves these out of `flask db check` on PostgreSQL.
"""
STATEMENT_CHECKED = {
    "case": {"store_id": "store", "area_id": "area", "member_id": "member", "created_by_id": "user"},
    "task": {"case_id": "case", "assignee_id": "user", "closed_by_id": "user"},
    "audit_event": {"case_id": "case", "actor_id": "user", "on_behalf_of_id": "user"},
    "case_timer": {"case_id": "case"},
}


def checked_per_statement(table: str, columns) -> bool:
    """Is the foreign key on `table`(`columns`) one of those checked per statement?"""
    return set(columns) <= set(STATEMENT_CHECKED.get(table, ()))
