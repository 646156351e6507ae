"""Addresses typed in one line, split into the parts a courier needs."""

from __future__ import annotations

import pytest

from shop.addresses import Address, parse


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("张三 13800138000 浙江省杭州市西湖区文三路100号",
         Address("张三", "13800138000", "浙江", "杭州市", "西湖区", "文三路100号")),
        ("浙江省杭州市西湖区文三路100号 张三 138-0013-8000",
         Address("张三", "13800138000", "浙江", "杭州市", "西湖区", "文三路100号")),
        ("李四，+86 139 1234 5678，上海市浦东新区世纪大道1号",
         Address("李四", "13912345678", "上海", "上海", "浦东新区", "世纪大道1号")),
        ("王五 15012345678 广西壮族自治区南宁市青秀区民族大道88号",
         Address("王五", "15012345678", "广西", "南宁市", "青秀区", "民族大道88号")),
        ("收件人：赵六 电话：18612345678 地址：北京朝阳区建国路1号",
         Address("赵六", "18612345678", "北京", "北京", "朝阳区", "建国路1号")),
    ],
)
def test_one_line_addresses(typed, expected):
    assert parse(typed) == expected


def test_missing_parts_are_named_so_only_they_are_asked_for():
    partial = parse("张三 浙江省杭州市西湖区文三路100号")
    assert partial.missing == ["phone"]
    assert parse("13800138000").missing == ["name", "province", "city", "district", "street"]
    completed = partial.merged(parse("13800138000"))
    assert completed.missing == [] and completed.phone == "13800138000"


def test_a_number_that_is_not_a_phone_is_not_taken_for_one():
    assert parse("张三 12345 浙江省杭州市西湖区文三路100号").phone == ""
    assert parse("张三 1380013800 浙江省杭州市西湖区文三路").phone == ""


def test_the_read_back_hides_the_middle_of_the_phone():
    address = parse("张三 13800138000 上海市浦东新区世纪大道1号")
    assert address.one_line() == "张三 138****8000 上海浦东新区世纪大道1号"
