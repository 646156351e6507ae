"""The commerce domain: plain Python over SQLAlchemy and Redis, no Flask outside its views.

Chat handlers, console pages and scheduled jobs all call these functions, so a rule lives once.
"""

from __future__ import annotations

from typing import Any

from core.registry import Registry


def register(registry: Registry) -> None:
    """The shop's tables, recurring jobs, configuration check and pages."""
    from shop import jobs, orders, returns_config, tiers

    registry.add_models(
        "shop.catalog", "shop.orders", "shop.payments", "shop.cart", "shop.after_sale",
        "shop.followers", "shop.members", "shop.notices",
    )
    registry.add_config_check(tiers.check_config)
    registry.add_config_check(returns_config.check_config)
    registry.add_job("shop", "flush_follower_touches", 10, jobs.flush_follower_touches)
    registry.add_job("shop", "release_unpaid_orders", 30, jobs.release_unpaid_orders)
    registry.add_job("shop", "complete_received_orders", 3600, jobs.complete_received_orders)
    registry.add_job("shop", "send_customer_notices", 15, jobs.send_customer_notices)
    # Member tiers: upgrades when an order is paid, downgrades at the start of a month.
    orders.on_change(tiers.on_order_change)
    registry.add_job("shop", "review_member_tiers", 3600, tiers.review_tiers)
    _register_shelf(registry)
    registry.add_web(init_app)


def _register_shelf(registry: Registry) -> None:
    """Product copy approved by the reviewer puts a product waiting for it on the shelf: at
    once through the review queue's hook, or by the job for decisions made elsewhere."""
    from content_audit import review
    from shop import shelf

    review.on_decided("product", shelf.on_copy_decided)
    registry.add_job("shop", "shelve_approved_products", 60, shelf.shelve_approved_products)


def init_app(app: Any) -> None:
    """The customer pages (/shop) and the manager's console pages (/admin/shop)."""
    from console.shell import add_nav
    from shop import admin_views, service_views, storefront_views

    app.register_blueprint(storefront_views.bp)
    app.register_blueprint(admin_views.bp)
    _register_pictures(app)
    app.register_blueprint(service_views.bp)
    add_nav(app, "订单", "shop_admin.list_orders", "orders")
    add_nav(app, "退货退款", "shop_service.list_returns", "orders")
    add_nav(app, "商品", "shop_admin.list_products", "catalog")
    add_nav(app, "顾客", "shop_service.list_customers", "customers")


def _register_pictures(app: Any) -> None:
    """Product pictures: managed in the console, served to phones and WeChat under /shop/media."""
    from shop import image_views, media_views

    app.register_blueprint(image_views.bp)
    app.register_blueprint(media_views.bp)
