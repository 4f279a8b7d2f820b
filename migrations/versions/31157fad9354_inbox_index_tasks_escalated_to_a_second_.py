"""inbox index: tasks escalated to a second role

Revision ID: 31157fad9354
Revises: db33e44d951c
Create Date: 2026-11-23 13:39:24.288701

ix_task_escalated_also_inbox (status, escalate_also, escalated_at): the inbox reads the tasks
escalated to the user's role as the second role (task.escalate_also) as its own small indexed
query, like ix_task_escalated_inbox does for escalate_to; without it that part of the inbox
scans every open escalated task.
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '31157fad9354'
down_revision = 'db33e44d951c'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('task', schema=None) as batch_op:
        batch_op.create_index('ix_task_escalated_also_inbox',
                              ['status', 'escalate_also', 'escalated_at'], unique=False)


def downgrade():
    with op.batch_alter_table('task', schema=None) as batch_op:
        batch_op.drop_index('ix_task_escalated_also_inbox')
