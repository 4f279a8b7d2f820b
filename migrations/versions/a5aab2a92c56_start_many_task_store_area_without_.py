"""start_many (issue #10): fewer per-row checks and index writes when a case opens

A task's store_id/area_id lose their own foreign keys (they copy the case's, which has them);
ix_task_assignee_id goes (every query by assignee asks for open tasks: ix_task_assignee_inbox;
users are deactivated, never deleted); the inbox
indexes on columns a task is created without (escalated_at, co_role) become partial, and on
PostgreSQL a case's own audit events (read by case_id) stay out of ix_audit_object.

Revision ID: a5aab2a92c56
Revises: f69b3c964677
Create Date: 2026-11-30 01:08:48.437117

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a5aab2a92c56'
down_revision = 'f69b3c964677'
branch_labels = None
depends_on = None

ESCALATED = sa.text("escalated_at IS NOT NULL")
CO_ROLE = sa.text("co_role IS NOT NULL")
PARTIAL = (("ix_task_escalated_inbox", ["status", "escalate_to", "escalated_at"], ESCALATED),
           ("ix_task_escalated_also_inbox", ["status", "escalate_also", "escalated_at"], ESCALATED),
           ("ix_task_co_role_inbox", ["status", "co_role", "due_at"], CO_ROLE))
NOT_CASE = sa.text("object_type <> 'case'")


def upgrade():
    with op.batch_alter_table('task', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_task_assignee_id'))
        batch_op.drop_constraint(batch_op.f('fk_task_store_id_store'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_task_area_id_area'), type_='foreignkey')

    # after the batch (SQLite rebuilds the table there, copying the indexes as they were)
    for name, columns, where in PARTIAL:
        op.drop_index(name, table_name='task')
        op.create_index(name, 'task', columns, postgresql_where=where, sqlite_where=where)
    op.drop_index('ix_audit_object', table_name='audit_event')
    op.create_index('ix_audit_object', 'audit_event', ['object_type', 'object_id'],
                    postgresql_where=NOT_CASE)


def downgrade():
    op.drop_index('ix_audit_object', table_name='audit_event')
    op.create_index('ix_audit_object', 'audit_event', ['object_type', 'object_id'])
    for name, columns, _where in PARTIAL:
        op.drop_index(name, table_name='task')
        op.create_index(name, 'task', columns)

    with op.batch_alter_table('task', schema=None) as batch_op:
        batch_op.create_foreign_key(batch_op.f('fk_task_area_id_area'), 'area', ['area_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_task_store_id_store'), 'store', ['store_id'], ['id'])
        batch_op.create_index(batch_op.f('ix_task_assignee_id'), ['assignee_id'], unique=False)
