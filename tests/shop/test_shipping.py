"""Shipping one order, and many from a CSV: each row ships or is refused with its line and why."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from shop import catalog, orders, shipping
from shop.carriers import TrackingError
from shop.orders import Order, OrderError, OrderEvent

HOME = {"name": "张三", "phone": "13800138000", "province": "浙江", "city": "杭州市",
        "district": "西湖区", "street": "文三路100号"}


def paid_orders(storage, count: int, state: str = "paid") -> list[str]:
    with storage.sessions.begin() as db:
        sku = catalog.add_product(db, name="土蜂蜜", category_name="杂货",
                                  skus=[("默认", 5_000, 99)]).skus[0]
        numbers = []
        for _ in range(count):
            order = orders.place(db, "o1", [(sku.id, 1)], address=HOME)
            if state != "pending_payment":
                orders.transition(db, order, "paid", actor="wxpay")
            numbers.append(order.number)
        return numbers


def test_one_order_ships_with_a_listed_carrier_and_a_number_in_its_format(storage):
    [number] = paid_orders(storage, 1)
    with storage.sessions.begin() as db:
        order = db.scalar(select(Order).where(Order.number == number))
        with pytest.raises(TrackingError, match="不是中通快递的单号格式"):
            shipping.ship(db, order, "中通", "SF1234567890123", actor="manager")
        assert order.state == "paid"
        shipping.ship(db, order, "中通", "73123456789012", actor="manager")
    with storage.sessions() as db:
        order = db.scalar(select(Order).where(Order.number == number))
        assert (order.state, order.carrier, order.tracking_no) == ("shipped", "ZTO",
                                                                    "73123456789012")
        assert orders.history(db, order.id)[-1].note == "中通快递 73123456789012"
        with pytest.raises(OrderError, match="订单已发货，不能发货"):
            shipping.ship(db, order, "中通", "73123456789013", actor="manager")


def test_a_csv_ships_what_it_can_and_says_why_for_each_other_line(storage):
    ok, ok2, twice, unpaid, odd = paid_orders(storage, 5)
    with storage.sessions.begin() as db:
        order = db.scalar(select(Order).where(Order.number == unpaid))
        orders.transition(db, order, "refunded", actor="manager")
    text = "\n".join([
        "订单号,快递公司,快递单号",
        f"{ok},顺丰,SF1234567890123",
        f"{ok2},圆通速递,yt 1234567890123",
        f"{twice},中通,73123456789012",
        f"{twice},中通,73123456789012",
        "",
        f"{unpaid},韵达,431234567890123",
        "2026120100000000,顺丰,SF1234567890124",
        f"{ok},顺丰,SF1234567890123",
        ",顺丰,SF1234567890125",
        "2.02612E+15,顺丰,SF1234567890126",
        f"{odd},闪电侠,SF1234567890127",
    ])
    with storage.sessions.begin() as db:
        report = shipping.ship_from_csv(db, text, actor="manager")
    assert report.shipped == [(2, ok, "顺丰速运 SF1234567890123"),
                              (3, ok2, "圆通速递 YT1234567890123"),
                              (4, twice, "中通快递 73123456789012")]
    assert [(line, why) for line, _, why in report.refused] == [
        (5, "订单号在文件中重复出现，只按第一次发货"),
        (7, "订单已退款，不能发货"),
        (8, "没有这个订单号"),
        (9, "订单号在文件中重复出现，只按第一次发货"),
        (10, "缺少订单号"),
        (11, "数字被 Excel 改成了科学计数法（如 2.02612E+15），请把该列设为「文本」后重新导出"),
        (12, "快递公司「闪电侠」不在列表中（可选：顺丰速运、中通快递、圆通速递、韵达快递、"
             "申通快递、邮政EMS、京东物流、极兔速递、德邦快递）"),
    ]
    with storage.sessions() as db:
        states = dict(db.execute(select(Order.number, Order.state)).all())
        assert [states[n] for n in (ok, ok2, twice, unpaid, odd)] == [
            "shipped", "shipped", "shipped", "refunded", "paid"]
        shipped_events = db.scalars(select(OrderEvent).where(OrderEvent.to_state == "shipped"))
        assert len(list(shipped_events)) == 3  # the same file again would ship nothing twice


def test_a_file_without_titles_and_one_from_chinese_excel_are_read(storage):
    first, second = paid_orders(storage, 2)
    gbk = f"订单编号,物流公司,运单号\r\n{first},邮政,1123456789012\r\n".encode("gbk")
    with storage.sessions.begin() as db:
        report = shipping.ship_from_csv(db, shipping.read_text(gbk), actor="manager")
        assert [number for _, number, _ in report.shipped] == [first]
        bare = shipping.ship_from_csv(db, f"{second},京东,JDVA12345678901", actor="manager")
        assert bare.shipped == [(1, second, "京东物流 JDVA12345678901")]
    with pytest.raises(ValueError, match="表头缺少「快递单号」列"), storage.sessions() as db:
        shipping.ship_from_csv(db, "订单号,快递公司\n1,2", actor="manager")
