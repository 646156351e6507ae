"""Customer segments: the daily counts per segment, kept for the console's trend.

Revision ID: 0007_segments
Revises: 0006_bargains
Create Date: 2026-12-04 20:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0007_segments'
down_revision = '0006_bargains'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('campaign_segment_counts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('day', sa.String(length=10), nullable=False),
    sa.Column('segment', sa.String(length=16), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('computed_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('day', 'segment', name='uq_campaign_segment_counts_day_segment')
    )


def downgrade() -> None:
    op.drop_table('campaign_segment_counts')
