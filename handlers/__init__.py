"""Chat handlers, one router per conversation area.

The order of ROUTERS is the precedence: earlier routers win. Explicit keywords and clicks come
first, then help; the catalog search takes any other text; the fallback answers the rest.
"""

from handlers import (
    after_sale,
    bargain,
    browse,
    cart,
    coupons,
    flash_sale,
    flows,
    menu,
    order,
    questions,
    service,
    subscribe,
)

ROUTERS = [
    flows.router,  # wraps the rest: in a flow, a command is answered and the flow set aside
    subscribe.router,
    service.router,  # an open ticket takes every message first; 人工, 结束, the rating
    flows.resume_router,  # 继续: a paused flow where it was left
    # 砍价, 发起砍价, 我的砍价, 帮砍 CODE, 砍价下单: before order, so its own purchase flow
    # (address, read-back) answers its steps, 取消订单 included
    bargain.router,
    order.router,  # a buying flow under way answers first; 买 …, 加入购物车, 我的订单
    after_sale.router,  # 修改地址, 退货, 确认收货 (and their flows), 我的会员
    cart.router,  # 购物车, 删除 N, N 改 M, 结算
    flash_sale.router,  # 秒杀, 抢 N, 提醒我
    coupons.router,  # 我的优惠券, 领券 <code>
    browse.router,  # 逛逛, 分类 …, 商品 …, numbers and paging
    menu.router,  # help, and menu areas not built yet
    questions.router,  # any other text: the FAQ, else the catalog, else 人工 offered
    menu.fallback_router,  # images, events and the rest: keep last
]
