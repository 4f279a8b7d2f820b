"""sale: item category (what was bought; the day-3 call names it), optional (issue 11)

Revision ID: df4050886924
Revises: 971b4822bc29
Create Date: 2026-11-29 21:17:54.958365

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'df4050886924'
down_revision = '971b4822bc29'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('sale', schema=None) as batch_op:
        batch_op.add_column(sa.Column('category', sa.String(length=40), nullable=True))



def downgrade():
    with op.batch_alter_table('sale', schema=None) as batch_op:
        batch_op.drop_column('category')

