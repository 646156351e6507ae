"""Shipping orders: one from its console page, or many from the CSV a courier's system exports.

Each order moves by the same conditional UPDATE as every state change (shop/orders.py), so a
customer's cancellation or address change racing the shipment is decided by the database.
The CSV is checked row by row and each row ships or is refused on its own: a manager with 300
parcels fixes the five refused rows (each with its line and reason) and uploads those again,
and an order already shipped is refused, so uploading the same file twice ships nothing twice.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from shop import carriers, orders
from shop.carriers import TrackingError
from shop.orders import STATES, Order, OrderError

MAX_ROWS = 5000
#: Column titles a shipping CSV may use (ours, and what courier systems and Excel call them).
COLUMNS = {
    "number": ("订单号", "订单编号", "商户订单号", "order", "order_no", "order_number"),
    "carrier": ("快递公司", "物流公司", "快递", "承运商", "carrier", "express"),
    "tracking": ("快递单号", "运单号", "物流单号", "单号", "tracking", "tracking_no",
                 "tracking_number"),
}
#: Excel shows long numbers as 2.02612E+15 and saves them that way unless the column is text.
_SCIENTIFIC = re.compile(r"^\d(?:\.\d+)?E\+\d+$", re.IGNORECASE)


def ship(db: Session, order: Order, carrier_text: str, number_text: str, *, actor: str,
         now: datetime | None = None) -> carriers.Carrier:
    """Ship `order` with a listed carrier and a number in its format; raises OrderError (a
    TrackingError for the carrier or number) with the reason, changing nothing."""
    carrier, number = carriers.check(carrier_text, number_text)
    if order.state != "paid":
        raise OrderError(f"订单{STATES.get(order.state, order.state)}，不能发货")
    note = carriers.label(carrier.code, number)
    if not orders.transition(db, order, "shipped", actor=actor, note=note, now=now):
        raise OrderError("订单状态刚刚被改变，请刷新后再试")
    order.carrier, order.tracking_no = carrier.code, number
    db.flush()
    return carrier


@dataclass
class ShippingReport:
    """What a CSV upload did: (line, order number, carrier and number) shipped, and
    (line, order number as written, reason) refused."""

    shipped: list[tuple[int, str, str]] = field(default_factory=list)
    refused: list[tuple[int, str, str]] = field(default_factory=list)
    shipped_orders: list[Order] = field(default_factory=list)  # whom to tell


def read_text(data: bytes) -> str:
    """UTF-8 (with or without Excel's BOM), else GB18030: what Chinese Excel saves as CSV."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("gb18030")


def _columns(header: list[str]) -> dict[str, int] | None:
    """Column positions by title, or None when the first row is data, not titles."""
    titles = [cell.strip().lower() for cell in header]
    found = {}
    for key, names in COLUMNS.items():
        for position, title in enumerate(titles):
            if title in names:
                found[key] = position
                break
    if not found:
        return None
    if len(found) < len(COLUMNS):
        missing = [COLUMNS[key][0] for key in COLUMNS if key not in found]
        raise ValueError(f"表头缺少「{'」「'.join(missing)}」列")
    return found


def ship_from_csv(db: Session, text: str, *, actor: str,
                  now: datetime | None = None) -> ShippingReport:
    """Ship every row of a CSV of 订单号,快递公司,快递单号 (a title row is optional) that can be
    shipped. Raises ValueError when the file as a whole is unreadable (csv.Error included)."""
    rows = list(csv.reader(io.StringIO(text)))
    if not rows:
        raise ValueError("文件是空的")
    columns = _columns(rows[0])
    start = 2 if columns else 1
    columns = columns or {"number": 0, "carrier": 1, "tracking": 2}
    body = rows[start - 1:]
    if len(body) > MAX_ROWS:
        raise ValueError(f"一次最多 {MAX_ROWS} 行，请拆分后分批上传")
    table = [[cell.strip() for cell in row] for row in body]
    wanted = {cells[columns["number"]] for cells in table if columns["number"] < len(cells)}
    # One query for the file's orders, not one per row (a file may hold thousands).
    known = {order.number: order
             for order in db.scalars(select(Order).where(Order.number.in_(wanted)))}
    report, seen = ShippingReport(), set()
    for line, cells in enumerate(table, start=start):
        if not any(cells):
            continue
        number, carrier, tracking = (cells[columns[key]] if columns[key] < len(cells) else ""
                                     for key in ("number", "carrier", "tracking"))
        why = _row_problem(number, tracking, seen)
        order = None if why else known.get(number)
        if not why and order is None:
            why = "没有这个订单号"
        if not why:
            try:
                ship(db, order, carrier, tracking, actor=actor, now=now)
            except (OrderError, TrackingError) as error:
                why = str(error)
        if why:
            report.refused.append((line, number[:32], why))
        else:
            seen.add(number)
            report.shipped.append((line, number, carriers.shipment_label(order)))
            report.shipped_orders.append(order)
    return report


def _row_problem(number: str, tracking: str, seen: set[str]) -> str | None:
    if not number:
        return "缺少订单号"
    if _SCIENTIFIC.match(number) or _SCIENTIFIC.match(tracking):
        return "数字被 Excel 改成了科学计数法（如 2.02612E+15），请把该列设为「文本」后重新导出"
    if number in seen:
        return "订单号在文件中重复出现，只按第一次发货"
    return None
