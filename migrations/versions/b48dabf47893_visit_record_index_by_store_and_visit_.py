"""visit_record: index by store and visit time

Revision ID: b48dabf47893
Revises: 0f0adef2e695
Create Date: 2026-11-30 04:09:16

ix_visit_record_store_visited (store_id, visited_at): the weekly routine's Saturday report
(routine.week_visits) asks, per associate, for a store's visits between two moments. Only
(store_id, ym) served it, by its first column: every visit the store ever recorded was read to
keep one week's (at 24 months × 300 visits a store, 7,300 rows read for 72 kept: 6–7 ms of SQL
per associate at load 3, 15–23 ms at load 6, growing with the history); with the index 0.06–0.14 ms. The other queries on
visited_at keep their indexes (EXPLAINed in bench/bench_visit_times.py): a member's visits by
member_id (a handful of rows), a store's month by (store_id, ym), the care batch's 180-day window
by a sequential scan (a fifth of the table: an index on visited_at saved a third at most, once
per occasion). 44 MB at 1.46 M visits; visits are typed in by hand, so its write cost is negligible.
"""
from alembic import op

revision = "b48dabf47893"
down_revision = "0f0adef2e695"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("visit_record") as batch_op:
        batch_op.create_index("ix_visit_record_store_visited", ["store_id", "visited_at"], unique=False)


def downgrade():
    with op.batch_alter_table("visit_record") as batch_op:
        batch_op.drop_index("ix_visit_record_store_visited")
