"""Push deliveries remember the agent a customer-service push went as and when (by the wall
clock) its last call started, so a call whose answer was lost is looked up in WeChat's chat log
(campaigns/chat_log.py). Existing rows get no agent: they keep the at-most-once rule.

Revision ID: 0010_delivery_chat_log
Revises: 0009_wechat_tags
Create Date: 2026-12-04 22:29:00.518142
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0010_delivery_chat_log'
down_revision = '0009_wechat_tags'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('campaign_push_deliveries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kf_account', sa.String(length=64), nullable=False,
                                      server_default=''))
        batch_op.add_column(sa.Column('called_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('campaign_push_deliveries', schema=None) as batch_op:
        batch_op.drop_column('called_at')
        batch_op.drop_column('kf_account')
