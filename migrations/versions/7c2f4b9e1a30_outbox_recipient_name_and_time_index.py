"""outbox: recipient name, index on created_at

Revision ID: 7c2f4b9e1a30
Revises: 7c1e5a0b9d42
Create Date: 2026-11-29 18:00:00

outbox_message.recipient_name: the person an SMS or e-mail is for, as the outbox lists it (a
complaint's customer is often not a member, so the member's name is not always there).
ix_outbox_message_created_at: the outbox is read newest first, a page at a time.
Existing messages of members get their member's name.
"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '7c2f4b9e1a30'
down_revision = '7c1e5a0b9d42'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('recipient_name', sa.String(length=60), nullable=True))
        batch_op.create_index('ix_outbox_message_created_at', ['created_at'], unique=False)
    op.execute("UPDATE outbox_message SET recipient_name = (SELECT name FROM member "
               "WHERE member.id = outbox_message.member_id) WHERE member_id IS NOT NULL")


def downgrade():
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_message_created_at')
        batch_op.drop_column('recipient_name')
