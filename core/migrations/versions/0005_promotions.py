"""Promotions: coupons, points as a ledger, flash sales, the playbook's member tiers, and the
notices owed to customers.

Orders learn when they were paid (tiers count spend by month) and what coupon and points took
off; followers, when they last sent a message (only that opens the 48-hour window; a follower's
last message before this revision is unknown, so notices wait for their next one). The points balance moves from a counter on the customer to lots and entries: each order
still paid becomes an `earn` entry, so a later refund takes back exactly what it gave, and a
lot older than last year is dated last year, so nobody's points expire on the first run.

Revision ID: 0005_promotions
Revises: 0004_payment_announced
Create Date: 2026-12-04 17:38:35.545863
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta, timezone

import sqlalchemy as sa
from alembic import op

SHANGHAI = timezone(timedelta(hours=8))

revision = '0005_promotions'
down_revision = '0004_payment_announced'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('customer_notices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=120), nullable=False),
    sa.Column('openid', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('title', sa.String(length=40), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('event_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('error', sa.String(length=200), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('key')
    )
    with op.batch_alter_table('customer_notices', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_customer_notices_due_at'), ['due_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_customer_notices_openid'), ['openid'], unique=False)
        batch_op.create_index(batch_op.f('ix_customer_notices_state'), ['state'], unique=False)

    op.create_table('flash_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('title', sa.String(length=40), nullable=False),
    sa.Column('coupons_allowed', sa.Boolean(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('settled_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('starts_at')
    )
    with op.batch_alter_table('flash_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_flash_sessions_ends_at'), ['ends_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_flash_sessions_state'), ['state'], unique=False)

    op.create_table('member_birthdays',
    sa.Column('openid', sa.String(length=64), nullable=False),
    sa.Column('birthday', sa.String(length=5), nullable=True),
    sa.Column('asked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('skipped_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('gift_year', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('openid')
    )
    with op.batch_alter_table('member_birthdays', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_member_birthdays_birthday'), ['birthday'], unique=False)

    op.create_table('notice_optins',
    sa.Column('openid', sa.String(length=64), nullable=False),
    sa.Column('template_id', sa.String(length=64), nullable=False),
    sa.Column('remaining', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('openid', 'template_id')
    )
    op.create_table('points_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('openid', sa.String(length=64), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('lot_year', sa.Integer(), nullable=False),
    sa.Column('points', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('order_id', 'kind', 'lot_year', name='uq_points_entries_order_kind')
    )
    with op.batch_alter_table('points_entries', schema=None) as batch_op:
        batch_op.create_index('ix_points_entries_openid_id', ['openid', 'id'], unique=False)

    op.create_table('points_lots',
    sa.Column('openid', sa.String(length=64), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('balance', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('openid', 'year')
    )
    op.create_table('promo_coupon_batches',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('threshold_fen', sa.Integer(), nullable=False),
    sa.Column('off_fen', sa.Integer(), nullable=False),
    sa.Column('percent', sa.Integer(), nullable=False),
    sa.Column('cap_fen', sa.Integer(), nullable=False),
    sa.Column('valid_from', sa.DateTime(timezone=True), nullable=True),
    sa.Column('valid_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('valid_days', sa.Integer(), nullable=True),
    sa.Column('per_customer', sa.Integer(), nullable=False),
    sa.Column('total_limit', sa.Integer(), nullable=True),
    sa.Column('issued', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=True),
    sa.Column('trigger', sa.String(length=40), nullable=False),
    sa.Column('bundle', sa.String(length=40), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.CheckConstraint('total_limit IS NULL OR issued <= total_limit', name='ck_promo_coupon_batches_issued'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('code')
    )
    with op.batch_alter_table('promo_coupon_batches', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_promo_coupon_batches_bundle'), ['bundle'], unique=False)
        batch_op.create_index(batch_op.f('ix_promo_coupon_batches_trigger'), ['trigger'], unique=False)

    op.create_table('flash_reminders',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('openid', sa.String(length=64), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['session_id'], ['flash_sessions.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('session_id', 'openid', name='uq_flash_reminder')
    )
    with op.batch_alter_table('flash_reminders', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_flash_reminders_session_id'), ['session_id'], unique=False)

    op.create_table('promo_coupons',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=False),
    sa.Column('openid', sa.String(length=64), nullable=False),
    sa.Column('copy', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('valid_from', sa.DateTime(timezone=True), nullable=False),
    sa.Column('valid_until', sa.DateTime(timezone=True), nullable=False),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('source', sa.String(length=64), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=True),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['batch_id'], ['promo_coupon_batches.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('batch_id', 'openid', 'copy', name='uq_promo_coupons_copy')
    )
    with op.batch_alter_table('promo_coupons', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_promo_coupons_batch_id'), ['batch_id'], unique=False)
        batch_op.create_index('ix_promo_coupons_openid_state', ['openid', 'state'], unique=False)
        batch_op.create_index(batch_op.f('ix_promo_coupons_order_id'), ['order_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_promo_coupons_valid_until'), ['valid_until'], unique=False)

    op.create_table('flash_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('sku_id', sa.Integer(), nullable=False),
    sa.Column('price_fen', sa.Integer(), nullable=False),
    sa.Column('stock', sa.Integer(), nullable=False),
    sa.Column('sold', sa.Integer(), nullable=False),
    sa.Column('limit_per_customer', sa.Integer(), nullable=False),
    sa.Column('reference_price_fen', sa.Integer(), nullable=True),
    sa.Column('returned', sa.Integer(), nullable=True),
    sa.CheckConstraint('limit_per_customer >= 1', name='ck_flash_item_limit'),
    sa.CheckConstraint('price_fen > 0', name='ck_flash_item_price'),
    sa.CheckConstraint('sold >= 0 AND sold <= stock', name='ck_flash_item_sold'),
    sa.ForeignKeyConstraint(['session_id'], ['flash_sessions.id'], ),
    sa.ForeignKeyConstraint(['sku_id'], ['shop_skus.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('session_id', 'sku_id', name='uq_flash_item_session_sku')
    )
    with op.batch_alter_table('flash_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_flash_items_session_id'), ['session_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_flash_items_sku_id'), ['sku_id'], unique=False)

    op.create_table('flash_purchases',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('openid', sa.String(length=64), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('token', sa.String(length=32), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('returned_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['item_id'], ['flash_items.id'], ),
    sa.ForeignKeyConstraint(['order_id'], ['shop_orders.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('order_id'),
    sa.UniqueConstraint('token')
    )
    with op.batch_alter_table('flash_purchases', schema=None) as batch_op:
        batch_op.create_index('ix_flash_purchase_item_openid', ['item_id', 'openid'], unique=False)

    with op.batch_alter_table('followers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_message_at', sa.DateTime(timezone=True),
                                      nullable=True))

    with op.batch_alter_table('shop_customers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('tier_level', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('tier_since', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('tier_pending_level', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('tier_checked_month', sa.String(length=7), nullable=True))
        batch_op.create_index(batch_op.f('ix_shop_customers_tier_level'), ['tier_level'], unique=False)
        batch_op.drop_column('points')

    with op.batch_alter_table('shop_order_lines', schema=None) as batch_op:
        batch_op.add_column(sa.Column('flash_item_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_shop_order_lines_flash_item_id'), ['flash_item_id'], unique=False)

    with op.batch_alter_table('shop_orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('paid_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('coupon_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('coupon_fen', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('points_used', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('points_fen', sa.Integer(), server_default='0', nullable=False))
        batch_op.create_index(batch_op.f('ix_shop_orders_coupon_id'), ['coupon_id'], unique=False)

    op.execute("UPDATE shop_orders SET paid_at = (SELECT max(e.at) FROM shop_order_events e "
               "WHERE e.order_id = shop_orders.id AND e.to_state = 'paid') "
               "WHERE paid_at IS NULL")
    _points_from_paid_orders()


def _points_from_paid_orders() -> None:
    orders = sa.table("shop_orders", sa.column("id", sa.Integer), sa.column("openid", sa.String),
                      sa.column("state", sa.String), sa.column("total_fen", sa.Integer),
                      sa.column("paid_at", sa.DateTime(timezone=True)))
    entries = sa.table("points_entries", sa.column("openid", sa.String),
                       sa.column("order_id", sa.Integer), sa.column("kind", sa.String),
                       sa.column("lot_year", sa.Integer), sa.column("points", sa.Integer),
                       sa.column("at", sa.DateTime(timezone=True)))
    lots = sa.table("points_lots", sa.column("openid", sa.String), sa.column("year", sa.Integer),
                    sa.column("balance", sa.Integer),
                    sa.column("updated_at", sa.DateTime(timezone=True)))
    bind = op.get_bind()
    now = datetime.now(UTC)
    oldest_live = now.astimezone(SHANGHAI).year - 1
    rows = bind.execute(sa.select(orders.c.id, orders.c.openid, orders.c.total_fen,
                                  orders.c.paid_at)
                        .where(orders.c.state.in_(("paid", "shipped", "completed")),
                               orders.c.paid_at.is_not(None)))
    balances: dict[tuple[str, int], int] = defaultdict(int)
    earned = []
    for order_id, openid, total_fen, paid_at in rows:
        points = max(total_fen, 0) // 100
        if not points:
            continue
        paid_at = paid_at if paid_at.tzinfo else paid_at.replace(tzinfo=UTC)
        year = max(paid_at.astimezone(SHANGHAI).year, oldest_live)
        earned.append({"openid": openid, "order_id": order_id, "kind": "earn",
                       "lot_year": year, "points": points, "at": paid_at})
        balances[(openid, year)] += points
    if earned:
        op.bulk_insert(entries, earned)
        op.bulk_insert(lots, [{"openid": openid, "year": year, "balance": balance,
                               "updated_at": now}
                              for (openid, year), balance in balances.items()])


def downgrade() -> None:
    with op.batch_alter_table('shop_orders', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_shop_orders_coupon_id'))
        batch_op.drop_column('points_fen')
        batch_op.drop_column('points_used')
        batch_op.drop_column('coupon_fen')
        batch_op.drop_column('coupon_id')
        batch_op.drop_column('paid_at')

    with op.batch_alter_table('shop_order_lines', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_shop_order_lines_flash_item_id'))
        batch_op.drop_column('flash_item_id')

    with op.batch_alter_table('followers', schema=None) as batch_op:
        batch_op.drop_column('last_message_at')

    with op.batch_alter_table('shop_customers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('points', sa.INTEGER(), server_default='0',
                                      nullable=False))
        batch_op.drop_index(batch_op.f('ix_shop_customers_tier_level'))
        batch_op.drop_column('tier_checked_month')
        batch_op.drop_column('tier_pending_level')
        batch_op.drop_column('tier_since')
        batch_op.drop_column('tier_level')

    with op.batch_alter_table('flash_purchases', schema=None) as batch_op:
        batch_op.drop_index('ix_flash_purchase_item_openid')

    op.drop_table('flash_purchases')
    with op.batch_alter_table('flash_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_flash_items_sku_id'))
        batch_op.drop_index(batch_op.f('ix_flash_items_session_id'))

    op.drop_table('flash_items')
    with op.batch_alter_table('promo_coupons', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_promo_coupons_valid_until'))
        batch_op.drop_index(batch_op.f('ix_promo_coupons_order_id'))
        batch_op.drop_index('ix_promo_coupons_openid_state')
        batch_op.drop_index(batch_op.f('ix_promo_coupons_batch_id'))

    op.drop_table('promo_coupons')
    with op.batch_alter_table('flash_reminders', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_flash_reminders_session_id'))

    op.drop_table('flash_reminders')
    with op.batch_alter_table('promo_coupon_batches', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_promo_coupon_batches_trigger'))
        batch_op.drop_index(batch_op.f('ix_promo_coupon_batches_bundle'))

    op.drop_table('promo_coupon_batches')
    op.drop_table('points_lots')
    with op.batch_alter_table('points_entries', schema=None) as batch_op:
        batch_op.drop_index('ix_points_entries_openid_id')

    op.drop_table('points_entries')
    op.drop_table('notice_optins')
    with op.batch_alter_table('member_birthdays', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_member_birthdays_birthday'))

    op.drop_table('member_birthdays')
    with op.batch_alter_table('flash_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_flash_sessions_state'))
        batch_op.drop_index(batch_op.f('ix_flash_sessions_ends_at'))

    op.drop_table('flash_sessions')
    with op.batch_alter_table('customer_notices', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_customer_notices_state'))
        batch_op.drop_index(batch_op.f('ix_customer_notices_openid'))
        batch_op.drop_index(batch_op.f('ix_customer_notices_due_at'))

    op.drop_table('customer_notices')
