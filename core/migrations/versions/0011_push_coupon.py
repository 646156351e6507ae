"""A push may carry a coupon batch (campaign_pushes.coupon_batch_id), and each delivery records
the coupon its recipient was issued (campaign_push_deliveries.coupon_id), so a retried or
resent delivery is never given a second (campaigns/push_coupons.py). Existing pushes carry
none.

Revision ID: 0011_push_coupon
Revises: 0010_delivery_chat_log
Create Date: 2026-12-04 22:33:07.994419
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0011_push_coupon'
down_revision = '0010_delivery_chat_log'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('campaign_push_deliveries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('coupon_id', sa.Integer(), nullable=True))

    with op.batch_alter_table('campaign_pushes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('coupon_batch_id', sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('campaign_pushes', schema=None) as batch_op:
        batch_op.drop_column('coupon_batch_id')

    with op.batch_alter_table('campaign_push_deliveries', schema=None) as batch_op:
        batch_op.drop_column('coupon_id')
