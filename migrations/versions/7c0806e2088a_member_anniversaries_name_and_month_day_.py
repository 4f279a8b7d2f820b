"""member anniversaries (name and month-day), the care line's note

Revision ID: 7c0806e2088a
Revises: b8c27320f3fe
Create Date: 2026-11-29 21:17:23.440221

A member has several named anniversaries (seed 000 §(二)2 "结婚纪念日及其他重要纪念日"), each
greeted on its day: member_anniversary (name, month-day MMDD in clear, like birth_month_day).
The single encrypted member.anniversary (a date) moves into it — decrypted here with
webapp/crypto.py, which the app configures before `flask db upgrade` runs — named "纪念日"
(the old field did not say which), then the column goes. care_line.note: the anniversaries'
names on a line.
"""
from datetime import date

import sqlalchemy as sa
from alembic import op

BATCH = 5000


def move_anniversaries(connection) -> int:
    """One member_anniversary per readable member.anniversary; returns the rows written."""
    from webapp.crypto import decrypt

    member = sa.table("member", sa.column("id", sa.Integer), sa.column("anniversary", sa.Text))
    target = sa.table("member_anniversary", sa.column("member_id", sa.Integer),
                      sa.column("name", sa.String), sa.column("month_day", sa.SmallInteger))
    done, last_id = 0, 0
    while True:
        rows = connection.execute(sa.select(member.c.id, member.c.anniversary).where(
            member.c.id > last_id, member.c.anniversary.is_not(None), member.c.anniversary != "")
            .order_by(member.c.id).limit(BATCH)).all()
        if not rows:
            return done
        last_id = rows[-1].id
        values = []
        for row in rows:
            try:
                day = date.fromisoformat(decrypt(row.anniversary) or "")
            except ValueError:  # unreadable (another key) or not a date: nothing to greet
                continue
            values.append({"member_id": row.id, "name": "纪念日", "month_day": day.month * 100 + day.day})
        if values:
            connection.execute(target.insert(), values)
            done += len(values)


# revision identifiers, used by Alembic.
revision = '7c0806e2088a'
down_revision = 'b8c27320f3fe'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('member_anniversary',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=20), nullable=False),
    sa.Column('month_day', sa.SmallInteger(), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['member.id'], name=op.f('fk_member_anniversary_member_id_member')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_member_anniversary'))
    )
    with op.batch_alter_table('member_anniversary', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_member_anniversary_member_id'), ['member_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_member_anniversary_month_day'), ['month_day'], unique=False)

    with op.batch_alter_table('care_line', schema=None) as batch_op:
        batch_op.add_column(sa.Column('note', sa.String(length=80), server_default='', nullable=False))

    move_anniversaries(op.get_bind())
    with op.batch_alter_table('member', schema=None) as batch_op:
        batch_op.drop_column('anniversary')



def downgrade():
    with op.batch_alter_table('member', schema=None) as batch_op:
        batch_op.add_column(sa.Column('anniversary', sa.TEXT(), nullable=True))

    with op.batch_alter_table('care_line', schema=None) as batch_op:
        batch_op.drop_column('note')

    with op.batch_alter_table('member_anniversary', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_member_anniversary_month_day'))
        batch_op.drop_index(batch_op.f('ix_member_anniversary_member_id'))

    op.drop_table('member_anniversary')
