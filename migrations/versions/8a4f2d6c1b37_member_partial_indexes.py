"""member: status, tier and previous card number indexed only where they are rare

Revision ID: 8a4f2d6c1b37
Revises: 3e5b1c9a7d20
Create Date: 2026-11-30 02:00:00

Most members are active, tier C and have no previous card number, and no query looks them up by
those values (an active member is found by store, card or mobile; tier C is "the rest"). The
indexes now hold only the others (pending or lapsed; tier A or B; a replaced temporary card), so
every write that moves a member row (the monthly renewals: 18,500 rows at 1 M members) maintains
three index entries fewer, and the look-ups that used them still do.
"""
import sqlalchemy as sa
from alembic import op

revision = "8a4f2d6c1b37"
down_revision = "3e5b1c9a7d20"
branch_labels = None
depends_on = None

PARTIAL = {"ix_member_status": ("status", "status <> 'active'"),
           "ix_member_tier": ("tier", "tier <> 'C'"),
           "ix_member_previous_card_no": ("previous_card_no", "previous_card_no IS NOT NULL")}


def upgrade():
    with op.batch_alter_table("member") as batch_op:
        for name, (column, where) in PARTIAL.items():
            batch_op.drop_index(name)
            batch_op.create_index(name, [column], unique=False,
                                  postgresql_where=sa.text(where), sqlite_where=sa.text(where))


def downgrade():
    with op.batch_alter_table("member") as batch_op:
        for name, (column, _where) in PARTIAL.items():
            batch_op.drop_index(name)
            batch_op.create_index(name, [column], unique=False)
