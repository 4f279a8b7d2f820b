"""care_line: no foreign keys and no member_id index (a festival writes a line per member; the per-row checks cost more than the rows)

At 1 M members the Spring Festival batch is ~1 M lines; PostgreSQL checked the four foreign keys
row by row (a lookup and a FOR KEY SHARE lock of the member, store, case and user), which cost
more than writing the lines (README, Benchmarks, "Care batches"). Lines are only written from
existing cases and members, and none of these is ever deleted. No query reads lines by member
alone (they are read by case, through uq_care_line_case_member), so its index goes too.

Revision ID: f69b3c964677
Revises: 8a4f2d6c1b37
Create Date: 2026-11-30 00:55:03.204207

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f69b3c964677'
down_revision = '8a4f2d6c1b37'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('care_line', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_care_line_member_id'))
        batch_op.drop_constraint(batch_op.f('fk_care_line_case_id_case'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_care_line_added_by_id_user'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_care_line_store_id_store'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_care_line_member_id_member'), type_='foreignkey')


def downgrade():
    with op.batch_alter_table('care_line', schema=None) as batch_op:
        batch_op.create_foreign_key(batch_op.f('fk_care_line_member_id_member'), 'member', ['member_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_care_line_store_id_store'), 'store', ['store_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_care_line_added_by_id_user'), 'user', ['added_by_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_care_line_case_id_case'), 'case', ['case_id'], ['id'])
        batch_op.create_index(batch_op.f('ix_care_line_member_id'), ['member_id'], unique=False)
