"""Pushes: the pushes managers write, their runs (unique per push, fire time and kind), one
delivery per (run, openid), and the customers WeChat said can never be reached.

Revision ID: 0008_pushes
Revises: 0007_segments
Create Date: 2026-12-04 20:31:38.215462
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0008_pushes'
down_revision = '0007_segments'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('campaign_pushes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('segment', sa.String(length=16), nullable=False),
    sa.Column('variants', sa.Text(), nullable=False),
    sa.Column('channels', sa.String(length=60), nullable=False),
    sa.Column('trigger', sa.String(length=20), nullable=False),
    sa.Column('trigger_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('cron', sa.String(length=60), nullable=False),
    sa.Column('trigger_days', sa.Integer(), nullable=False),
    sa.Column('announce_days', sa.Integer(), nullable=False),
    sa.Column('announce_text', sa.Text(), nullable=False),
    sa.Column('frequency_cap', sa.Integer(), nullable=False),
    sa.Column('quiet_start', sa.String(length=5), nullable=False),
    sa.Column('quiet_end', sa.String(length=5), nullable=False),
    sa.Column('holdout_percent', sa.Integer(), nullable=False),
    sa.Column('throttle_per_minute', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('review', sa.String(length=16), nullable=False),
    sa.Column('review_note', sa.String(length=200), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('frequency_cap >= 1', name='ck_push_frequency_cap'),
    sa.CheckConstraint('holdout_percent >= 0 AND holdout_percent < 100', name='ck_push_holdout'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('campaign_pushes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_campaign_pushes_state'), ['state'], unique=False)

    op.create_table('campaign_suppressions',
    sa.Column('openid', sa.String(length=64), nullable=False),
    sa.Column('code', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=120), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('openid')
    )
    op.create_table('campaign_push_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('push_id', sa.Integer(), nullable=False),
    sa.Column('fire_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('note', sa.String(length=200), nullable=False),
    sa.Column('planned_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('done_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['push_id'], ['campaign_pushes.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('push_id', 'fire_at', 'kind', name='uq_push_run')
    )
    with op.batch_alter_table('campaign_push_runs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_campaign_push_runs_fire_at'), ['fire_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_campaign_push_runs_push_id'), ['push_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_campaign_push_runs_state'), ['state'], unique=False)

    op.create_table('campaign_push_deliveries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('openid', sa.String(length=64), nullable=False),
    sa.Column('variant', sa.String(length=4), nullable=False),
    sa.Column('holdout', sa.Boolean(), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.String(length=120), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('not_before', sa.DateTime(timezone=True), nullable=True),
    sa.Column('lease_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('error_code', sa.Integer(), nullable=True),
    sa.Column('error', sa.String(length=200), nullable=False),
    sa.Column('clientmsgid', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['run_id'], ['campaign_push_runs.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('run_id', 'openid', name='uq_push_delivery')
    )
    with op.batch_alter_table('campaign_push_deliveries', schema=None) as batch_op:
        batch_op.create_index('ix_push_delivery_openid_sent', ['openid', 'sent_at'], unique=False)
        batch_op.create_index('ix_push_delivery_run_state', ['run_id', 'state'], unique=False)
        batch_op.create_index('ix_push_delivery_state_lease', ['state', 'lease_until'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('campaign_push_deliveries', schema=None) as batch_op:
        batch_op.drop_index('ix_push_delivery_state_lease')
        batch_op.drop_index('ix_push_delivery_run_state')
        batch_op.drop_index('ix_push_delivery_openid_sent')

    op.drop_table('campaign_push_deliveries')
    with op.batch_alter_table('campaign_push_runs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_campaign_push_runs_state'))
        batch_op.drop_index(batch_op.f('ix_campaign_push_runs_push_id'))
        batch_op.drop_index(batch_op.f('ix_campaign_push_runs_fire_at'))

    op.drop_table('campaign_push_runs')
    op.drop_table('campaign_suppressions')
    with op.batch_alter_table('campaign_pushes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_campaign_pushes_state'))

    op.drop_table('campaign_pushes')
