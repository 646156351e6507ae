"""Product pictures, a product put on the shelf when its copy is approved, the carrier of a
shipment, and the steps of a return (address, the parcel sent back, refund only).

A product's old `image_url` is not copied: pages still fall back to it as the cover.

Revision ID: 0003_pictures_returns
Revises: 0002_checkout_key
Create Date: 2026-12-04 15:51:17.625737
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0003_pictures_returns'
down_revision = '0002_checkout_key'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('shop_product_images',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('file_key', sa.String(length=32), nullable=False),
    sa.Column('url', sa.String(length=512), nullable=False),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('height', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['product_id'], ['shop_products.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('shop_product_images', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_shop_product_images_product_id'), ['product_id'], unique=False)

    with op.batch_alter_table('shop_orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('carrier', sa.String(length=16), server_default='', nullable=False))

    with op.batch_alter_table('shop_products', schema=None) as batch_op:
        batch_op.add_column(sa.Column('shelf_when_approved', sa.Boolean(), server_default=sa.false(), nullable=False))

    with op.batch_alter_table('shop_return_requests', schema=None) as batch_op:
        batch_op.add_column(sa.Column('return_address', sa.String(length=200), server_default='', nullable=False))
        batch_op.add_column(sa.Column('return_carrier', sa.String(length=16), server_default='', nullable=False))
        batch_op.add_column(sa.Column('return_tracking_no', sa.String(length=40), server_default='', nullable=False))
        batch_op.add_column(sa.Column('sent_back_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('refunded_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('refund_only', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('shop_return_requests', schema=None) as batch_op:
        batch_op.drop_column('refund_only')
        batch_op.drop_column('refunded_at')
        batch_op.drop_column('sent_back_at')
        batch_op.drop_column('return_tracking_no')
        batch_op.drop_column('return_carrier')
        batch_op.drop_column('return_address')

    with op.batch_alter_table('shop_products', schema=None) as batch_op:
        batch_op.drop_column('shelf_when_approved')

    with op.batch_alter_table('shop_orders', schema=None) as batch_op:
        batch_op.drop_column('carrier')

    with op.batch_alter_table('shop_product_images', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_shop_product_images_product_id'))

    op.drop_table('shop_product_images')
