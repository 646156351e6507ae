"""Shared set-up of the bargain tests: a SKU, a campaign on it, launches and helps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from promotions import bargain_ledger
from promotions.bargains import BargainCampaign, BargainHelp, BargainLaunch, BargainRefused
from shop import catalog
from shop.catalog import Sku
from shop.followers import Follower

NOW = datetime(2026, 3, 2, 7, 30, tzinfo=UTC)
ADDRESS = {"name": "张三", "phone": "13800138000", "province": "浙江省", "city": "杭州市",
           "district": "西湖区", "street": "文三路100号"}


def make_sku(sessions, *, price: int = 3990, stock: int = 50, name: str = "高山有机小米") -> int:
    with sessions.begin() as db:
        product = catalog.add_product(db, name=name, skus=[("2斤装", price, stock)])
        return product.skus[0].id


def make_campaign(sessions, sku_id: int, **overrides) -> int:
    fields = dict(title="3人帮砍，1元带走", sku_id=sku_id, floor_fen=100, helpers_needed=3,
                  hours_per_launch=24, starts_at=NOW - timedelta(days=1),
                  ends_at=NOW + timedelta(days=30), stock_quota=20, units_used=0,
                  launches_per_customer=1, helps_per_day=3, helps_per_campaign=10,
                  starter_cuts=False, buy_before_floor=False, new_customers_only=False,
                  reserve_at_launch=False, front_loading=60, state="on", created_at=NOW)
    fields.update(overrides)
    with sessions.begin() as db:
        campaign = BargainCampaign(**fields)
        db.add(campaign)
        db.flush()
        return campaign.id


def known_follower(sessions, openid: str, *, days: int = 30) -> None:
    """A follower the shop has known for `days` (no new-account risk)."""
    seen = NOW - timedelta(days=days)
    with sessions.begin() as db:
        db.add(Follower(openid=openid, subscribed=True, subscribed_at=seen,
                        first_seen_at=seen, last_interaction_at=seen))


def start(storage, campaign_id: int, openid: str = "o-starter", now: datetime = NOW) -> int:
    return bargain_ledger.start(storage, campaign_id, openid, now).launch_id


def cut(storage, launch: int | str, helper: str, *, key: str | None = None,
        now: datetime = NOW, source: str = "code"):
    return bargain_ledger.help_cut(storage, launch, helper, source=source,
                                   key=key or f"test:{launch}:{helper}", now=now)


def refusal(storage, launch: int | str, helper: str, **kwargs) -> str:
    with pytest.raises(BargainRefused) as caught:
        cut(storage, launch, helper, **kwargs)
    return caught.value.code


def launch(sessions, launch_id: int) -> BargainLaunch:
    with sessions() as db:
        found = db.get(BargainLaunch, launch_id)
        db.expunge(found)
        return found


def counted(sessions, launch_id: int) -> list[tuple[str, int, int]]:
    """(helper, position, fen) of the counted helps, by position."""
    with sessions() as db:
        return [tuple(row) for row in db.execute(
            select(BargainHelp.openid, BargainHelp.seq, BargainHelp.amount_fen)
            .where(BargainHelp.launch_id == launch_id, BargainHelp.state == "counted")
            .order_by(BargainHelp.seq))]


def help_count(sessions, launch_id: int) -> int:
    with sessions() as db:
        return db.scalar(select(func.count()).select_from(BargainHelp)
                         .where(BargainHelp.launch_id == launch_id)) or 0


def sku_stock(sessions, sku_id: int) -> int:
    with sessions() as db:
        return db.scalar(select(Sku.stock).where(Sku.id == sku_id))
