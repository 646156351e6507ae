"""Today's schema: every table as the models declared it on 2026-12-04.

On a database made before migrations existed (tables created at start, no alembic_version) it
creates only the tables and indexes that are missing and adds the columns a table lacks, as the
start-up code it replaces did; such columns were nullable or had a server default.

Revision ID: 0001_baseline
Revises: 
Create Date: 2026-12-04 15:02:50.635965
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = '0001_baseline'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    _create_table('audit_exemptions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('rule_id', sa.String(length=64), nullable=False),
    sa.Column('term', sa.String(length=64), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('source_ref', sa.String(length=64), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    _create_index('ix_audit_exemptions_source', 'audit_exemptions', ['source'], unique=False)

    _create_table('audit_ruleset_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version', sa.String(length=32), nullable=False),
    sa.Column('rules', sa.Text(), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('version')
    )
    _create_table('console_accounts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=32), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('password_hash', sa.String(length=256), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('session_epoch', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_login_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('username')
    )
    _create_table('console_audit_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('target', sa.String(length=128), nullable=False),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.Column('address', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    _create_index('ix_console_audit_log_action', 'console_audit_log', ['action'], unique=False)
    _create_index('ix_console_audit_log_actor_id', 'console_audit_log', ['actor_id'], unique=False)
    _create_index('ix_console_audit_log_at', 'console_audit_log', ['at'], unique=False)

    _create_table('daily_counts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('day', sa.String(length=10), nullable=False),
    sa.Column('metric', sa.String(length=16), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('day', 'metric', 'key', name='uq_daily_counts')
    )
    _create_index('ix_daily_counts_day', 'daily_counts', ['day'], unique=False)

    _create_table('follower_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('openid', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('day', sa.String(length=10), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    _create_index('ix_follower_events_day', 'follower_events', ['day'], unique=False)
    _create_index('ix_follower_events_openid', 'follower_events', ['openid'], unique=False)

    _create_table('followers',
    sa.Column('openid', sa.String(length=64), nullable=False),
    sa.Column('subscribed', sa.Boolean(), nullable=False),
    sa.Column('subscribed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('unsubscribed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('first_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_interaction_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('source_scene', sa.String(length=64), nullable=True),
    sa.PrimaryKeyConstraint('openid')
    )
    _create_index('ix_followers_last_interaction_at', 'followers', ['last_interaction_at'], unique=False)

    _create_table('review_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('diff', sa.Text(), nullable=False),
    sa.Column('ruleset_version', sa.String(length=32), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    _create_index('ix_review_events_item_id', 'review_events', ['item_id'], unique=False)

    _create_table('review_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('source_ref', sa.String(length=64), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=24), nullable=False),
    sa.Column('verdict', sa.String(length=8), nullable=False),
    sa.Column('flags', sa.Text(), nullable=False),
    sa.Column('hit_signature', sa.String(length=64), nullable=False),
    sa.Column('ruleset_version', sa.String(length=32), nullable=False),
    sa.Column('author', sa.String(length=64), nullable=False),
    sa.Column('reviewer', sa.String(length=64), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('send_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('source', 'content_hash', name='uq_review_source_hash')
    )
    _create_index('ix_review_items_hit_signature', 'review_items', ['hit_signature'], unique=False)
    _create_index('ix_review_items_send_at', 'review_items', ['send_at'], unique=False)
    _create_index('ix_review_items_source', 'review_items', ['source'], unique=False)
    _create_index('ix_review_items_source_ref', 'review_items', ['source_ref'], unique=False)
    _create_index('ix_review_items_state', 'review_items', ['state'], unique=False)

    _create_table('service_faq',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('question', sa.String(length=200), nullable=False),
    sa.Column('answer', sa.Text(), nullable=False),
    sa.Column('keywords', sa.String(length=255), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('hits', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    _create_table('service_ticket_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('sender', sa.String(length=10), nullable=False),
    sa.Column('author', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('delivery', sa.String(length=32), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    _create_index('ix_service_ticket_messages_ticket_id', 'service_ticket_messages', ['ticket_id'], unique=False)

    _create_table('service_tickets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('openid', sa.String(length=64), nullable=False),
    sa.Column('state', sa.String(length=12), nullable=False),
    sa.Column('priority', sa.Integer(), nullable=False),
    sa.Column('priority_reason', sa.String(length=64), nullable=False),
    sa.Column('agent', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('first_response_due', sa.DateTime(timezone=True), nullable=False),
    sa.Column('first_response_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_customer_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_by', sa.String(length=64), nullable=False),
    sa.Column('rating', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    _create_index('ix_service_tickets_agent', 'service_tickets', ['agent'], unique=False)
    _create_index('ix_service_tickets_openid', 'service_tickets', ['openid'], unique=False)
    _create_index('ix_service_tickets_state', 'service_tickets', ['state'], unique=False)

    _create_table('service_unanswered',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('text', sa.String(length=200), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('first_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('handled', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('text')
    )
    _create_index('ix_service_unanswered_last_at', 'service_unanswered', ['last_at'], unique=False)

    _create_table('shop_cart_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('openid', sa.String(length=64), nullable=False),
    sa.Column('sku_id', sa.Integer(), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('added_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('openid', 'sku_id', name='uq_cart_openid_sku')
    )
    _create_index('ix_shop_cart_items_openid', 'shop_cart_items', ['openid'], unique=False)

    _create_table('shop_categories',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=32), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('return_exception', sa.String(length=16), server_default='', nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name')
    )
    _create_table('shop_customers',
    sa.Column('openid', sa.String(length=64), nullable=False),
    sa.Column('first_order_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_order_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_paid_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('paid_orders', sa.Integer(), nullable=False),
    sa.Column('spend_fen', sa.Integer(), nullable=False),
    sa.Column('points', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('openid')
    )
    _create_index('ix_shop_customers_last_order_at', 'shop_customers', ['last_order_at'], unique=False)
    _create_index('ix_shop_customers_last_paid_at', 'shop_customers', ['last_paid_at'], unique=False)
    _create_index('ix_shop_customers_spend_fen', 'shop_customers', ['spend_fen'], unique=False)

    _create_table('shop_order_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('from_state', sa.String(length=20), nullable=False),
    sa.Column('to_state', sa.String(length=20), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    _create_index('ix_shop_order_events_order_id', 'shop_order_events', ['order_id'], unique=False)

    _create_table('shop_orders',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=24), nullable=False),
    sa.Column('openid', sa.String(length=64), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('total_fen', sa.Integer(), nullable=False),
    sa.Column('address', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('pay_by', sa.DateTime(timezone=True), nullable=False),
    sa.Column('tracking_no', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('number')
    )
    _create_index('ix_shop_orders_openid', 'shop_orders', ['openid'], unique=False)
    _create_index('ix_shop_orders_pay_by', 'shop_orders', ['pay_by'], unique=False)
    _create_index('ix_shop_orders_state', 'shop_orders', ['state'], unique=False)

    _create_table('shop_return_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('openid', sa.String(length=64), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decided_by', sa.String(length=64), nullable=False),
    sa.Column('note', sa.String(length=200), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    _create_index('ix_shop_return_requests_openid', 'shop_return_requests', ['openid'], unique=False)
    _create_index('ix_shop_return_requests_order_id', 'shop_return_requests', ['order_id'], unique=False)
    _create_index('ix_shop_return_requests_state', 'shop_return_requests', ['state'], unique=False)

    _create_table('console_api_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('hint', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['console_accounts.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('digest')
    )
    _create_index('ix_console_api_tokens_account_id', 'console_api_tokens', ['account_id'], unique=False)

    _create_table('service_faq_reach',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('faq_id', sa.Integer(), nullable=False),
    sa.Column('text', sa.String(length=200), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('last_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['faq_id'], ['service_faq.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('faq_id', 'text', 'outcome')
    )
    _create_index('ix_service_faq_reach_faq_id', 'service_faq_reach', ['faq_id'], unique=False)

    _create_table('service_faq_wording',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('faq_id', sa.Integer(), nullable=False),
    sa.Column('text', sa.String(length=200), nullable=False),
    sa.Column('added_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('added_by', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['faq_id'], ['service_faq.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('faq_id', 'text')
    )
    _create_index('ix_service_faq_wording_faq_id', 'service_faq_wording', ['faq_id'], unique=False)

    _create_table('shop_payments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=True),
    sa.Column('out_trade_no', sa.String(length=32), nullable=False),
    sa.Column('transaction_id', sa.String(length=64), nullable=False),
    sa.Column('amount_fen', sa.Integer(), nullable=False),
    sa.Column('outcome', sa.String(length=24), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['shop_orders.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('transaction_id')
    )
    _create_index('ix_shop_payments_order_id', 'shop_payments', ['order_id'], unique=False)
    _create_index('ix_shop_payments_out_trade_no', 'shop_payments', ['out_trade_no'], unique=False)

    _create_table('shop_products',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('category_id', sa.Integer(), nullable=True),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('tags', sa.String(length=255), nullable=False),
    sa.Column('image_url', sa.String(length=512), nullable=False),
    sa.Column('on_shelf', sa.Boolean(), nullable=False),
    sa.Column('sold_count', sa.Integer(), nullable=False),
    sa.Column('return_exception', sa.String(length=16), server_default='', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['category_id'], ['shop_categories.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    _create_table('shop_skus',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('variant', sa.String(length=64), nullable=False),
    sa.Column('price_fen', sa.Integer(), nullable=False),
    sa.Column('original_price_fen', sa.Integer(), nullable=True),
    sa.Column('stock', sa.Integer(), nullable=False),
    sa.CheckConstraint('price_fen > 0', name='ck_sku_price_positive'),
    sa.CheckConstraint('stock >= 0', name='ck_sku_stock_not_negative'),
    sa.ForeignKeyConstraint(['product_id'], ['shop_products.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    _create_index('ix_shop_skus_product_id', 'shop_skus', ['product_id'], unique=False)

    _create_table('shop_order_lines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('sku_id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('product_name', sa.String(length=64), nullable=False),
    sa.Column('variant', sa.String(length=64), nullable=False),
    sa.Column('unit_price_fen', sa.Integer(), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['shop_orders.id'], ),
    sa.ForeignKeyConstraint(['sku_id'], ['shop_skus.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    _create_index('ix_shop_order_lines_order_id', 'shop_order_lines', ['order_id'], unique=False)


def _create_table(name: str, *elements: Any, **options: Any) -> None:
    """Create `name`, or on a pre-migration database add only the columns it lacks."""
    inspector = sa.inspect(op.get_bind())
    if not inspector.has_table(name):
        op.create_table(name, *elements, **options)
        return
    have = {column["name"] for column in inspector.get_columns(name)}
    for element in elements:
        if isinstance(element, sa.Column) and element.name not in have:
            op.add_column(name, element)


def _create_index(name: str, table: str, columns: list[str], unique: bool) -> None:
    """Create the index unless a pre-migration database already has it."""
    indexes = sa.inspect(op.get_bind()).get_indexes(table)
    if not any(index["name"] == name for index in indexes):
        op.create_index(name, table, columns, unique=unique)


def downgrade() -> None:
    with op.batch_alter_table('shop_order_lines', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_shop_order_lines_order_id'))

    op.drop_table('shop_order_lines')
    with op.batch_alter_table('shop_skus', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_shop_skus_product_id'))

    op.drop_table('shop_skus')
    op.drop_table('shop_products')
    with op.batch_alter_table('shop_payments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_shop_payments_out_trade_no'))
        batch_op.drop_index(batch_op.f('ix_shop_payments_order_id'))

    op.drop_table('shop_payments')
    with op.batch_alter_table('service_faq_wording', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_service_faq_wording_faq_id'))

    op.drop_table('service_faq_wording')
    with op.batch_alter_table('service_faq_reach', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_service_faq_reach_faq_id'))

    op.drop_table('service_faq_reach')
    with op.batch_alter_table('console_api_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_console_api_tokens_account_id'))

    op.drop_table('console_api_tokens')
    with op.batch_alter_table('shop_return_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_shop_return_requests_state'))
        batch_op.drop_index(batch_op.f('ix_shop_return_requests_order_id'))
        batch_op.drop_index(batch_op.f('ix_shop_return_requests_openid'))

    op.drop_table('shop_return_requests')
    with op.batch_alter_table('shop_orders', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_shop_orders_state'))
        batch_op.drop_index(batch_op.f('ix_shop_orders_pay_by'))
        batch_op.drop_index(batch_op.f('ix_shop_orders_openid'))

    op.drop_table('shop_orders')
    with op.batch_alter_table('shop_order_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_shop_order_events_order_id'))

    op.drop_table('shop_order_events')
    with op.batch_alter_table('shop_customers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_shop_customers_spend_fen'))
        batch_op.drop_index(batch_op.f('ix_shop_customers_last_paid_at'))
        batch_op.drop_index(batch_op.f('ix_shop_customers_last_order_at'))

    op.drop_table('shop_customers')
    op.drop_table('shop_categories')
    with op.batch_alter_table('shop_cart_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_shop_cart_items_openid'))

    op.drop_table('shop_cart_items')
    with op.batch_alter_table('service_unanswered', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_service_unanswered_last_at'))

    op.drop_table('service_unanswered')
    with op.batch_alter_table('service_tickets', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_service_tickets_state'))
        batch_op.drop_index(batch_op.f('ix_service_tickets_openid'))
        batch_op.drop_index(batch_op.f('ix_service_tickets_agent'))

    op.drop_table('service_tickets')
    with op.batch_alter_table('service_ticket_messages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_service_ticket_messages_ticket_id'))

    op.drop_table('service_ticket_messages')
    op.drop_table('service_faq')
    with op.batch_alter_table('review_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_review_items_state'))
        batch_op.drop_index(batch_op.f('ix_review_items_source_ref'))
        batch_op.drop_index(batch_op.f('ix_review_items_source'))
        batch_op.drop_index(batch_op.f('ix_review_items_send_at'))
        batch_op.drop_index(batch_op.f('ix_review_items_hit_signature'))

    op.drop_table('review_items')
    with op.batch_alter_table('review_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_review_events_item_id'))

    op.drop_table('review_events')
    with op.batch_alter_table('followers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_followers_last_interaction_at'))

    op.drop_table('followers')
    with op.batch_alter_table('follower_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_follower_events_openid'))
        batch_op.drop_index(batch_op.f('ix_follower_events_day'))

    op.drop_table('follower_events')
    with op.batch_alter_table('daily_counts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_daily_counts_day'))

    op.drop_table('daily_counts')
    with op.batch_alter_table('console_audit_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_console_audit_log_at'))
        batch_op.drop_index(batch_op.f('ix_console_audit_log_actor_id'))
        batch_op.drop_index(batch_op.f('ix_console_audit_log_action'))

    op.drop_table('console_audit_log')
    op.drop_table('console_accounts')
    op.drop_table('audit_ruleset_versions')
    with op.batch_alter_table('audit_exemptions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_exemptions_source'))

    op.drop_table('audit_exemptions')
