"""member: qualifying tier and a tier index; the mobile's last four digits in clear (issue 11)

The qualifying tier (what the tier rule gives, recomputed nightly) sits beside the applied tier,
which only the store manager changes. mobile_last4 lets staff find a member by the last four
digits without decrypting everyone; existing rows are filled from the encrypted mobile
(webapp/crypto.py, configured by the app before `flask db upgrade`), in batches.

Revision ID: 5f3d01f22beb
Revises: 07264f0fe53d
Create Date: 2026-11-29 18:40:31.080548

"""
from alembic import op
import sqlalchemy as sa

BATCH = 5000


def fill(connection) -> int:
    """Set mobile_last4 from the encrypted mobile; returns the rows set."""
    from webapp.crypto import decrypt

    member = sa.table("member", sa.column("id", sa.Integer), sa.column("mobile", sa.Text),
                      sa.column("mobile_last4", sa.String))
    done, last_id = 0, 0
    while True:
        rows = connection.execute(sa.select(member.c.id, member.c.mobile).where(
            member.c.id > last_id, member.c.mobile.is_not(None), member.c.mobile_last4.is_(None))
            .order_by(member.c.id).limit(BATCH)).all()
        if not rows:
            return done
        last_id = rows[-1].id
        values = []
        for row in rows:
            try:
                mobile = decrypt(row.mobile) or ""
            except ValueError:  # unreadable (another key): leave it unknown
                continue
            if len(mobile) >= 4:
                values.append({"b_id": row.id, "last4": mobile[-4:]})
        if values:
            connection.execute(member.update().where(member.c.id == sa.bindparam("b_id")).values(
                mobile_last4=sa.bindparam("last4")), values)
            done += len(values)


# revision identifiers, used by Alembic.
revision = '5f3d01f22beb'
down_revision = '07264f0fe53d'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('member', schema=None) as batch_op:
        batch_op.add_column(sa.Column('qualifying_tier', sa.String(length=1), nullable=True))
        batch_op.create_index(batch_op.f('ix_member_tier'), ['tier'], unique=False)
        batch_op.add_column(sa.Column('mobile_last4', sa.String(length=4), nullable=True))
        batch_op.create_index(batch_op.f('ix_member_mobile_last4'), ['mobile_last4'], unique=False)
    fill(op.get_bind())


def downgrade():
    with op.batch_alter_table('member', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_member_mobile_last4'))
        batch_op.drop_column('mobile_last4')
        batch_op.drop_index(batch_op.f('ix_member_tier'))
        batch_op.drop_column('qualifying_tier')

