"""sale: a member's sales by time, covering what the card-expiry waiver sums

Revision ID: 3e5b1c9a7d20
Revises: 7c0806e2088a
Create Date: 2026-11-30 01:10:00

ix_sale_member_id (member_id) becomes ix_sale_member_sold (member_id, sold_at), on PostgreSQL
INCLUDE (ticket_delta, amount_fen): the monthly expiry run sums each expiring member's card-year
sales, and at 1 M members / 10 M lines reading ~220,000 lines through the heap was most of its
time; with the index it is an index-only scan. Same leading column, so every lookup by member
still has its index, and the import writes one index for it as before.
"""
from alembic import op

revision = "3e5b1c9a7d20"
down_revision = "7c0806e2088a"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("sale") as batch_op:
        batch_op.create_index("ix_sale_member_sold", ["member_id", "sold_at"], unique=False,
                              postgresql_include=["ticket_delta", "amount_fen"])
        batch_op.drop_index("ix_sale_member_id")


def downgrade():
    with op.batch_alter_table("sale") as batch_op:
        batch_op.create_index("ix_sale_member_id", ["member_id"], unique=False)
        batch_op.drop_index("ix_sale_member_sold")
