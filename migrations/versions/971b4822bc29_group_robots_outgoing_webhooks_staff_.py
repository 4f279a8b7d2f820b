"""issue 15: group robots (WeCom/DingTalk) per store/area/HQ, outgoing webhooks, one staff_post row per robot post / digest e-mail / webhook call; user.email and digest_by_mail

Revision ID: 971b4822bc29
Revises: 5af2c31d9bcf
Create Date: 2026-11-29 21:11:27.266005

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '971b4822bc29'
down_revision = '5af2c31d9bcf'
branch_labels = None
depends_on = None


def upgrade():
    
    op.create_table('group_robot',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('store_id', sa.Integer(), nullable=True),
    sa.Column('area_id', sa.Integer(), nullable=True),
    sa.Column('url', sa.Text(), nullable=True),
    sa.Column('secret', sa.Text(), nullable=True),
    sa.Column('url_hint', sa.String(length=80), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('removed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['area_id'], ['area.id'], name=op.f('fk_group_robot_area_id_area')),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_group_robot_created_by_id_user')),
    sa.ForeignKeyConstraint(['store_id'], ['store.id'], name=op.f('fk_group_robot_store_id_store')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_group_robot'))
    )
    with op.batch_alter_table('group_robot', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_group_robot_area_id'), ['area_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_group_robot_store_id'), ['store_id'], unique=False)

    op.create_table('outgoing_webhook',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('url', sa.String(length=500), nullable=False),
    sa.Column('secret', sa.Text(), nullable=True),
    sa.Column('events', sa.JSON(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('removed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_outgoing_webhook_created_by_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outgoing_webhook'))
    )
    op.create_table('staff_post',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=10), nullable=False),
    sa.Column('robot_id', sa.Integer(), nullable=True),
    sa.Column('webhook_id', sa.Integer(), nullable=True),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('recipient', sa.Text(), nullable=True),
    sa.Column('store_id', sa.Integer(), nullable=True),
    sa.Column('event', sa.String(length=40), nullable=False),
    sa.Column('dedupe_key', sa.String(length=160), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=True),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('error', sa.String(length=200), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['robot_id'], ['group_robot.id'], name=op.f('fk_staff_post_robot_id_group_robot')),
    sa.ForeignKeyConstraint(['store_id'], ['store.id'], name=op.f('fk_staff_post_store_id_store')),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_staff_post_user_id_user')),
    sa.ForeignKeyConstraint(['webhook_id'], ['outgoing_webhook.id'], name=op.f('fk_staff_post_webhook_id_outgoing_webhook')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_post')),
    sa.UniqueConstraint('dedupe_key', name=op.f('uq_staff_post_dedupe_key'))
    )
    with op.batch_alter_table('staff_post', schema=None) as batch_op:
        batch_op.create_index('ix_staff_post_due', ['status', 'next_attempt_at'], unique=False)

    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('email', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('digest_by_mail', sa.Boolean(), server_default=sa.false(), nullable=False))

    


def downgrade():
    
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_column('digest_by_mail')
        batch_op.drop_column('email')

    with op.batch_alter_table('staff_post', schema=None) as batch_op:
        batch_op.drop_index('ix_staff_post_due')

    op.drop_table('staff_post')
    op.drop_table('outgoing_webhook')
    with op.batch_alter_table('group_robot', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_group_robot_store_id'))
        batch_op.drop_index(batch_op.f('ix_group_robot_area_id'))

    op.drop_table('group_robot')
    
