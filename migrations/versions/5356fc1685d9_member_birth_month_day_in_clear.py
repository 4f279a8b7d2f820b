"""member.birth_month_day: the month and day of birth in clear (MMDD), beside birth_year

Revision ID: 5356fc1685d9
Revises: 9b6196e050b0
Create Date: 2026-11-29 18:05:00

Ages are whole years at a day (SPEC §4: at the period's last day), so the age-band analysis needs
the month and day as well as the year, in SQL, without decrypting anyone; birthday greetings will
need the same. The full birth date stays encrypted; year, and now month and day, are readable.
Existing rows are filled from the encrypted birth date (decrypted here with webapp/crypto.py,
which the app configures before `flask db upgrade` runs), in batches.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '5356fc1685d9'
down_revision = '9b6196e050b0'
branch_labels = None
depends_on = None

BATCH = 5000


def fill(connection) -> int:
    """Set birth_year and birth_month_day from the encrypted birth date; returns the rows set."""
    from datetime import date

    from webapp.crypto import decrypt

    member = sa.table("member", sa.column("id", sa.Integer), sa.column("birth_date", sa.Text),
                      sa.column("birth_year", sa.Integer), sa.column("birth_month_day", sa.Integer))
    done, last_id = 0, 0
    while True:
        rows = connection.execute(sa.select(member.c.id, member.c.birth_date).where(
            member.c.id > last_id, member.c.birth_date.is_not(None), member.c.birth_month_day.is_(None))
            .order_by(member.c.id).limit(BATCH)).all()
        if not rows:
            return done
        last_id = rows[-1].id
        values = []
        for row in rows:
            try:
                born = date.fromisoformat(decrypt(row.birth_date) or "")
            except ValueError:  # unreadable (another key) or not a date: leave it unknown
                continue
            values.append({"b_id": row.id, "year": born.year, "md": born.month * 100 + born.day})
        if values:
            connection.execute(member.update().where(member.c.id == sa.bindparam("b_id")).values(
                birth_year=sa.bindparam("year"), birth_month_day=sa.bindparam("md")), values)
            done += len(values)


def upgrade():
    with op.batch_alter_table('member', schema=None) as batch_op:
        batch_op.add_column(sa.Column('birth_month_day', sa.SmallInteger(), nullable=True))
    fill(op.get_bind())


def downgrade():
    with op.batch_alter_table('member', schema=None) as batch_op:
        batch_op.drop_column('birth_month_day')
