"""Addresses as customers type them, read against the national division list."""

from __future__ import annotations

import pytest

from shop.addresses import Address, combine, official, parse


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("张三 13800138000 浙江省杭州市西湖区文三路100号",
         Address("张三", "13800138000", "浙江省", "杭州市", "西湖区", "文三路100号")),
        ("浙江省杭州市西湖区文三路100号 张三 138-0013-8000",
         Address("张三", "13800138000", "浙江省", "杭州市", "西湖区", "文三路100号")),
        ("李四，+86 139 1234 5678，上海市浦东新区世纪大道1号",
         Address("李四", "13912345678", "上海市", "上海市", "浦东新区", "世纪大道1号")),
        ("王五 15012345678 广西壮族自治区南宁市青秀区民族大道88号",
         Address("王五", "15012345678", "广西壮族自治区", "南宁市", "青秀区", "民族大道88号")),
        ("收件人：赵六 电话：18612345678 地址：北京朝阳区建国路1号",
         Address("赵六", "18612345678", "北京市", "北京市", "朝阳区", "建国路1号")),
        # a city alone implies its province; the street does not repeat the city
        ("李四 13700137000 杭州西湖区文一路5号",
         Address("李四", "13700137000", "浙江省", "杭州市", "西湖区", "文一路5号")),
        ("浙江杭州市杭州西湖区文一路5号 李四 13700137000",
         Address("李四", "13700137000", "浙江省", "杭州市", "西湖区", "文一路5号")),
        # short forms, autonomous prefectures, county-level cities, former names
        ("浦东 世纪大道1号 李四 13912345678",
         Address("李四", "13912345678", "上海市", "上海市", "浦东新区", "世纪大道1号")),
        ("延边州 延吉市 光明街8号 金顺姬 13612345678",
         Address("金顺姬", "13612345678", "吉林省", "延边朝鲜族自治州", "延吉市", "光明街8号")),
        ("恩施 施州大道1号 向华 13912345678",
         Address("向华", "13912345678", "湖北省", "恩施土家族苗族自治州", "", "施州大道1号")),
        ("义乌 稠城街道工人北路1号 陈海燕 15162551881",
         Address("陈海燕", "15162551881", "浙江省", "金华市", "义乌市", "稠城街道工人北路1号")),
        ("昆山 前进中路1号，王芳，13812345678",
         Address("王芳", "13812345678", "江苏省", "苏州市", "昆山市", "前进中路1号")),
        ("襄樊市樊城区人民路1号 刘洋 13912345678",
         Address("刘洋", "13912345678", "湖北省", "襄阳市", "樊城区", "人民路1号")),
        # full-width digits, a landline with its area code
        ("范琳，广东深圳市福田区金地社区22栋2002，电话：（0755）4985 3530",
         Address("范琳", "0755-49853530", "广东省", "深圳市", "福田区", "金地社区22栋2002")),
        ("侯思远、+86 １５８-３２１６-８３５８、洛阳市洛龙区育才路1号",
         Address("侯思远", "15832168358", "河南省", "洛阳市", "洛龙区", "育才路1号")),
        # a remark to the courier, an extension, a name after its label, a county that moved
        ("顺德区大良街道新桂中路38号 梁嘉欣 13927746281 麻烦放快递柜",
         Address("梁嘉欣", "13927746281", "广东省", "佛山市", "顺德区", "大良街道新桂中路38号")),
        ("兰州市安宁区安宁西路6号 电话 0931—7612345 转 802 马主任",
         Address("马主任", "0931-7612345", "甘肃省", "兰州市", "安宁区", "安宁西路6号")),
        ("陕西省延安市宝塔区枣园路12号 收件人 贺兰 13912345678",
         Address("贺兰", "13912345678", "陕西省", "延安市", "宝塔区", "枣园路12号")),
        ("四川资阳简阳市雄州大道286号 刘涛 15982411637",
         Address("刘涛", "15982411637", "四川省", "成都市", "简阳市", "雄州大道286号")),
        ("重庆 解放碑 13983012399 小刘",
         Address("小刘", "13983012399", "重庆市", "重庆市", "", "解放碑")),
        # parts in reverse order
        ("梧桐街876号，槐荫区，济南市，山东省 彭雅婷 15184412017",
         Address("彭雅婷", "15184412017", "山东省", "济南市", "槐荫区", "梧桐街876号")),
    ],
)
def test_addresses_as_customers_type_them(typed, expected):
    assert parse(typed) == expected


def test_a_district_several_cities_have_is_asked_about_not_guessed():
    address = parse("赵六 18612345678 朝阳区建国路1号")
    assert (address.province, address.city, address.district) == ("", "", "")
    assert address.ambiguous == ("北京市/北京市/朝阳区", "吉林省/长春市/朝阳区")
    assert address.missing == ["province", "city"]
    assert address.street == "建国路1号"
    by_city = combine(address, "北京")
    assert (by_city.province, by_city.city, by_city.district) == ("北京市", "北京市", "朝阳区")
    assert by_city.missing == [] and by_city.ambiguous == ()
    by_number = combine(address, "2")
    assert by_number.city == "长春市" and by_number.street == "建国路1号"
    assert combine(address, "3").ambiguous  # no such candidate: still asked


def test_a_city_without_districts_needs_none():
    assert parse("东莞市 南城街道鸿福路1号 张三 13800138000").missing == []
    assert parse("张三 13800138000 杭州市 文一路5号").missing == ["district"]


def test_missing_parts_are_named_so_only_they_are_asked_for():
    partial = parse("张三 浙江省杭州市西湖区文三路100号")
    assert partial.missing == ["phone"]
    assert parse("13800138000").missing == ["name", "province", "city", "district", "street"]
    completed = combine(partial, "13800138000")
    assert completed.missing == [] and completed.phone == "13800138000"


def test_a_number_that_is_not_a_phone_is_not_taken_for_one():
    assert parse("张三 12345 浙江省杭州市西湖区文三路100号").phone == ""
    assert parse("张三 1380013800 浙江省杭州市西湖区文三路").phone == ""


def test_a_street_named_after_a_place_stays_the_street():
    assert parse("上海市 浦东大道100号 张三 13800138000").district == ""
    assert parse("北京市东城区长安街1号 张三 13800138000").street == "长安街1号"


def test_the_read_back_hides_the_middle_of_the_phone():
    address = parse("张三 13800138000 上海市浦东新区世纪大道1号")
    assert address.one_line() == "张三 138****8000 上海市浦东新区世纪大道1号"


def test_an_address_stored_before_the_division_list_is_offered_in_official_names():
    stored = Address("张三", "13800138000", "浙江", "杭州市", "西湖区", "文三路100号")
    assert official(stored) == Address("张三", "13800138000", "浙江省", "杭州市", "西湖区",
                                       "文三路100号")
    unknown = Address("张三", "13800138000", "", "", "", "文三路100号")
    assert official(unknown) == unknown
