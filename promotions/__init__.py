"""Promotions: coupons, points that pay, daily flash sales and bargains, on top of the shop.

The shop knows nothing of them: each registers a listener on the shop's order changes
(shop.orders.on_change), so a coupon comes back, points return and a flash unit goes back to
its session in the same transaction as the cancellation or refund that causes it.
"""

from __future__ import annotations

from core.registry import Registry


def register(registry: Registry) -> None:
    """Each promotion's tables, listeners, jobs and console pages."""
    from promotions import bargains, birthdays, coupons, flash, points

    coupons.register(registry)
    points.register(registry)
    birthdays.register(registry)
    flash.register(registry)
    bargains.register(registry)
