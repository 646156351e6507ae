"""Customer-facing wording shared by several handlers, in one place for the copy reviewers."""

MENU_TEXT = (
    "您可以：\n"
    "1. 点击菜单「逛逛」浏览商品、看每日秒杀和我的优惠券\n"
    "2. 点击「砍价」看看砍价活动：好友每人可帮砍一刀，砍到底价即可按底价购买\n"
    "3. 回复「我的订单」「购物车」「我的会员」「我的优惠券」查看订单、购物车、积分和优惠券\n"
    "4. 回复「客服」联系人工客服\n"
    "回复「帮助」随时查看本菜单。"
)
