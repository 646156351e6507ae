"""Payments remember when the customer was told, so a retry announces a payment whose process
died first. Payments made before this revision were announced by the code of their day.

Revision ID: 0004_payment_announced
Revises: 0003_pictures_returns
Create Date: 2026-12-04 16:29:51.189536
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0004_payment_announced'
down_revision = '0003_pictures_returns'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('shop_payments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('announced_at', sa.DateTime(timezone=True), nullable=True))

    op.execute("UPDATE shop_payments SET announced_at = at")


def downgrade() -> None:
    with op.batch_alter_table('shop_payments', schema=None) as batch_op:
        batch_op.drop_column('announced_at')

