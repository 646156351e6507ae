"""Orders remember the chat confirmation they came from (a 确认 repeated after a crash).

Revision ID: 0002_checkout_key
Revises: 0001_baseline
Create Date: 2026-12-04 15:13:53.485051
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0002_checkout_key'
down_revision = '0001_baseline'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('shop_orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('checkout_key', sa.String(length=40), nullable=True))
        batch_op.create_index(batch_op.f('ix_shop_orders_checkout_key'), ['checkout_key'], unique=True)


def downgrade() -> None:
    with op.batch_alter_table('shop_orders', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_shop_orders_checkout_key'))
        batch_op.drop_column('checkout_key')

