"""complaint: first contact (meets the 24 h limit) and the carry-out limit after consent;
task.co_role (a role handling a task with its own from the start) and its inbox index

Revision ID: 7c1e5a0b9d42
Revises: b2e5d2375d0f
Create Date: 2026-11-29 18:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '7c1e5a0b9d42'
down_revision = 'b2e5d2375d0f'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('complaint') as batch:
        batch.add_column(sa.Column('contacted_at', sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('carry_out_due_at', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('task') as batch:
        batch.add_column(sa.Column('co_role', sa.Enum(
            'ASSOCIATE', 'STORE_MANAGER', 'AREA_SUPERVISOR', 'AREA_MANAGER', 'HQ_SPECIALIST',
            'HQ_MANAGER', 'ADMIN', name='role', native_enum=False, length=20), nullable=True))
        batch.create_index('ix_task_co_role_inbox', ['status', 'co_role', 'due_at'], unique=False)
    # Existing complaints: the first contact was the reply, or agreeing a reply time when the
    # complaint was escalated before any reply.
    op.execute("UPDATE complaint SET contacted_at = CASE "
               "WHEN agreed_reply_at IS NOT NULL AND escalated_at IS NOT NULL "
               "AND (replied_at IS NULL OR escalated_at < replied_at) THEN escalated_at "
               "ELSE replied_at END")


def downgrade():
    with op.batch_alter_table('task') as batch:
        batch.drop_index('ix_task_co_role_inbox')
        batch.drop_column('co_role')
    with op.batch_alter_table('complaint') as batch:
        batch.drop_column('carry_out_due_at')
        batch.drop_column('contacted_at')
