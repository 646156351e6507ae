"""Carriers from a list, and their tracking-number formats checked before anyone is told."""

from __future__ import annotations

import pytest

from shop import carriers
from shop.carriers import TrackingError


@pytest.mark.parametrize("carrier", carriers.CARRIERS, ids=lambda c: c.code)
def test_every_carrier_accepts_its_own_example_and_is_found_by_its_names(carrier):
    assert carriers.check(carrier.code, carrier.example) == (carrier, carrier.example)
    for name in (carrier.name, *carrier.aliases):
        assert carriers.find(name) is carrier


@pytest.mark.parametrize(("carrier", "number", "cleaned"), [
    ("顺丰", "sf 1234 5678 90123", "SF1234567890123"),  # copied from a label: spaces, lower case
    ("中通", "7312-3456-7890-12", "73123456789012"),
    ("邮政", "EA123456789CN", "EA123456789CN"),
    ("京东", "JDVA12345678901", "JDVA12345678901"),
])
def test_numbers_are_cleaned_of_spaces_dashes_and_case(carrier, number, cleaned):
    assert carriers.check(carrier, number)[1] == cleaned


@pytest.mark.parametrize(("carrier", "number", "why"), [
    ("", "SF1234567890123", "请选择快递公司"),
    ("闪电侠快递", "SF1234567890123", "不在列表中"),
    ("顺丰", "", "请填写快递单号"),
    ("顺丰", "SF123456789012", "不是顺丰速运的单号格式（例如 SF1234567890123）"),  # a digit short
    ("顺丰", "YT1234567890123", "请检查是否选错快递公司"),  # 圆通's number under 顺丰
    ("圆通", "YT12345678901234", "不是圆通速递的单号格式"),
])
def test_a_wrong_carrier_or_number_is_refused_with_an_example(carrier, number, why):
    with pytest.raises(TrackingError, match=why):
        carriers.check(carrier, number)


@pytest.mark.parametrize(("text", "code", "number"), [
    ("SF1234567890123", "SF", "SF1234567890123"),
    ("顺丰 SF1234567890123", "SF", "SF1234567890123"),
    ("退货单号：中通 73123456789012", "ZTO", "73123456789012"),
    ("圆通YT1234567890123", "YTO", "YT1234567890123"),
    ("jdva12345678901", "JD", "JDVA12345678901"),
    ("123456789012", "", "123456789012"),  # 12 digits: 顺丰 or 中通, the merchant will see
])
def test_a_customer_may_send_the_number_with_or_without_the_carrier(text, code, number):
    carrier, found = carriers.read_sent(text)
    assert ((carrier.code if carrier else ""), found) == (code, number)


@pytest.mark.parametrize("text", ["13800138000", "顺丰 YT1234567890123", "你好"])
def test_a_phone_number_or_a_mismatch_is_not_taken_for_a_parcel(text):
    with pytest.raises(TrackingError):
        carriers.read_sent(text)


def test_labels_show_the_carrier_and_keep_numbers_recorded_before_the_list():
    assert carriers.label("SF", "SF1234567890123") == "顺丰速运 SF1234567890123"
    assert carriers.label("", "顺丰 SF1234567") == "顺丰 SF1234567"
