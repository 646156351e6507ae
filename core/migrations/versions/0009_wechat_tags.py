"""WeChat user tags: the account's tags and who carries them (synced from WeChat,
campaigns/tags.py), and the optional tag narrowing a push's segment.

Revision ID: 0009_wechat_tags
Revises: 0008_pushes
Create Date: 2026-12-04 22:21:01.961981
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0009_wechat_tags'
down_revision = '0008_pushes'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('campaign_wechat_tags',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('synced_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('campaign_tag_members',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('openid', sa.String(length=64), nullable=False),
    sa.Column('tag_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tag_id'], ['campaign_wechat_tags.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('openid', 'tag_id', name='uq_campaign_tag_member')
    )
    with op.batch_alter_table('campaign_tag_members', schema=None) as batch_op:
        batch_op.create_index('ix_campaign_tag_members_tag', ['tag_id'], unique=False)

    with op.batch_alter_table('campaign_pushes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('tag_id', sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('campaign_pushes', schema=None) as batch_op:
        batch_op.drop_column('tag_id')

    with op.batch_alter_table('campaign_tag_members', schema=None) as batch_op:
        batch_op.drop_index('ix_campaign_tag_members_tag')

    op.drop_table('campaign_tag_members')
    op.drop_table('campaign_wechat_tags')
