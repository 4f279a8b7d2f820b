"""member: preferences split as the seed lists them (sizes, styles, colours); the existing single
text stays in `preferences`, now "other preferences" (no rule splits free text reliably); an index
on member_month by store and month for the analyses at store scope

Revision ID: b8c27320f3fe
Revises: df4050886924
Create Date: 2026-11-29 21:10:24.491374

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b8c27320f3fe'
down_revision = 'df4050886924'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('member', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pref_sizes', sa.String(length=100), server_default='', nullable=False))
        batch_op.add_column(sa.Column('pref_styles', sa.String(length=200), server_default='', nullable=False))
        batch_op.add_column(sa.Column('pref_colours', sa.String(length=100), server_default='', nullable=False))
    # The analyses at store and area scope (and the monthly pack's 200 stores) read a store's months.
    op.create_index('ix_member_month_store_ym', 'member_month', ['store_id', 'ym', 'member_id'],
                    unique=False, postgresql_include=['amount_fen', 'tickets'])
    # ... and the churn reads each member's months with the store and tickets from the index alone
    op.drop_index('ix_member_month_member', table_name='member_month')
    op.create_index('ix_member_month_member', 'member_month', ['member_id', 'ym'], unique=False,
                    postgresql_include=['store_id', 'tickets'])


def downgrade():
    op.drop_index('ix_member_month_store_ym', table_name='member_month')
    op.drop_index('ix_member_month_member', table_name='member_month')
    op.create_index('ix_member_month_member', 'member_month', ['member_id', 'ym'], unique=False)
    # Fold the split fields back into the single text so nothing entered is lost.
    op.execute("UPDATE member SET preferences = trim(pref_sizes || ' ' || pref_styles || ' ' "
               "|| pref_colours || ' ' || coalesce(preferences, '')) "
               "WHERE pref_sizes <> '' OR pref_styles <> '' OR pref_colours <> ''")
    with op.batch_alter_table('member', schema=None) as batch_op:
        batch_op.drop_column('pref_colours')
        batch_op.drop_column('pref_styles')
        batch_op.drop_column('pref_sizes')
