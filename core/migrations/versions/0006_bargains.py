"""Bargains (砍价): campaigns, launches with their stored cut schedules, and the helps,
unique per (launch, helper) and per (launch, cut position); customer notices get an index on
(openid, state), on which a customer's 48-hour window quota is counted.

Revision ID: 0006_bargains
Revises: 0005_promotions
Create Date: 2026-12-04 20:15:25.381299
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0006_bargains'
down_revision = '0005_promotions'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('bargain_campaigns',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=40), nullable=False),
    sa.Column('sku_id', sa.Integer(), nullable=False),
    sa.Column('floor_fen', sa.Integer(), nullable=False),
    sa.Column('helpers_needed', sa.Integer(), nullable=False),
    sa.Column('hours_per_launch', sa.Integer(), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('stock_quota', sa.Integer(), nullable=False),
    sa.Column('units_used', sa.Integer(), nullable=False),
    sa.Column('launches_per_customer', sa.Integer(), nullable=False),
    sa.Column('helps_per_day', sa.Integer(), nullable=False),
    sa.Column('helps_per_campaign', sa.Integer(), nullable=False),
    sa.Column('starter_cuts', sa.Boolean(), nullable=False),
    sa.Column('buy_before_floor', sa.Boolean(), nullable=False),
    sa.Column('new_customers_only', sa.Boolean(), nullable=False),
    sa.Column('reserve_at_launch', sa.Boolean(), nullable=False),
    sa.Column('front_loading', sa.Integer(), nullable=False),
    sa.Column('unit_cost_fen', sa.Integer(), nullable=True),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('floor_fen >= 1', name='ck_bargain_floor'),
    sa.CheckConstraint('helpers_needed >= 1', name='ck_bargain_helpers'),
    sa.CheckConstraint('units_used >= 0 AND units_used <= stock_quota', name='ck_bargain_units'),
    sa.ForeignKeyConstraint(['sku_id'], ['shop_skus.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('bargain_campaigns', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bargain_campaigns_sku_id'), ['sku_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_bargain_campaigns_state'), ['state'], unique=False)

    op.create_table('bargain_launches',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('openid', sa.String(length=64), nullable=False),
    sa.Column('ordinal', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=12), nullable=False),
    sa.Column('start_fen', sa.Integer(), nullable=False),
    sa.Column('floor_fen', sa.Integer(), nullable=False),
    sa.Column('schedule', sa.Text(), nullable=False),
    sa.Column('seed', sa.Integer(), nullable=False),
    sa.Column('cuts_total', sa.Integer(), nullable=False),
    sa.Column('cuts_done', sa.Integer(), nullable=False),
    sa.Column('cut_fen', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('reserved', sa.Boolean(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=True),
    sa.Column('qr_url', sa.String(length=300), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('warned_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('cut_fen >= 0 AND cut_fen <= start_fen - floor_fen', name='ck_bargain_cut_fen'),
    sa.CheckConstraint('cuts_done >= 0 AND cuts_done <= cuts_total', name='ck_bargain_cuts'),
    sa.ForeignKeyConstraint(['campaign_id'], ['bargain_campaigns.id'], ),
    sa.ForeignKeyConstraint(['order_id'], ['shop_orders.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('campaign_id', 'openid', 'ordinal', name='uq_bargain_launch_ordinal'),
    sa.UniqueConstraint('code')
    )
    with op.batch_alter_table('bargain_launches', schema=None) as batch_op:
        batch_op.create_index('ix_bargain_launch_state_expires', ['state', 'expires_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_bargain_launches_campaign_id'), ['campaign_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_bargain_launches_openid'), ['openid'], unique=False)
        batch_op.create_index(batch_op.f('ix_bargain_launches_order_id'), ['order_id'], unique=False)

    op.create_table('bargain_helps',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('launch_id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('openid', sa.String(length=64), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=True),
    sa.Column('amount_fen', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('key', sa.String(length=80), nullable=False),
    sa.Column('risk', sa.Integer(), nullable=False),
    sa.Column('reasons', sa.String(length=200), nullable=False),
    sa.Column('new_customer', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decided_by', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['bargain_campaigns.id'], ),
    sa.ForeignKeyConstraint(['launch_id'], ['bargain_launches.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('key'),
    sa.UniqueConstraint('launch_id', 'openid', name='uq_bargain_help_helper'),
    sa.UniqueConstraint('launch_id', 'seq', name='uq_bargain_help_seq')
    )
    with op.batch_alter_table('bargain_helps', schema=None) as batch_op:
        batch_op.create_index('ix_bargain_help_openid_at', ['openid', 'created_at'], unique=False)
        batch_op.create_index('ix_bargain_help_state', ['state'], unique=False)
        batch_op.create_index(batch_op.f('ix_bargain_helps_campaign_id'), ['campaign_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_bargain_helps_launch_id'), ['launch_id'], unique=False)

    with op.batch_alter_table('customer_notices', schema=None) as batch_op:
        batch_op.create_index('ix_customer_notices_openid_state', ['openid', 'state'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('customer_notices', schema=None) as batch_op:
        batch_op.drop_index('ix_customer_notices_openid_state')

    with op.batch_alter_table('bargain_helps', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bargain_helps_launch_id'))
        batch_op.drop_index(batch_op.f('ix_bargain_helps_campaign_id'))
        batch_op.drop_index('ix_bargain_help_state')
        batch_op.drop_index('ix_bargain_help_openid_at')

    op.drop_table('bargain_helps')
    with op.batch_alter_table('bargain_launches', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bargain_launches_order_id'))
        batch_op.drop_index(batch_op.f('ix_bargain_launches_openid'))
        batch_op.drop_index(batch_op.f('ix_bargain_launches_campaign_id'))
        batch_op.drop_index('ix_bargain_launch_state_expires')

    op.drop_table('bargain_launches')
    with op.batch_alter_table('bargain_campaigns', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bargain_campaigns_state'))
        batch_op.drop_index(batch_op.f('ix_bargain_campaigns_sku_id'))

    op.drop_table('bargain_campaigns')
