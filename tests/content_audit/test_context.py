"""The context checks, on the labelling standard's own examples of each class.

The standard (../shared/AUDIT_STANDARD.md) names these as clean or flagged; they are no
measure of quality (that is eval/score_audit.py on copy written by others), only a guard
that each checker still does its one job.
"""

from __future__ import annotations

import pytest

from content_audit import default_screener


def categories(text: str) -> list[str]:
    return [flag.category for flag in default_screener().screen(text).flags]


@pytest.mark.parametrize(
    "text",
    [
        "每单最多买3件",
        "最大功率2000W，最低工作温度零下10度",
        "开封后最好冷藏，最好饭后吃",
        "最佳饮用期是三个月内",
        "最感动的是大家一直在",
        "我们店这几款里这款最轻",
        "第一次下单的朋友看这里，第一步先领券",
        "取餐号NO.12",
        "唯一不足的是颜色少，每个订单有唯一编号",
        "至尊版和标准版的区别",
        "我们的农场紧邻国家级自然保护区",
        "直播间专供款，超市专供装",
        "100%羊毛，充电到100%会自动断电",
        "七天无理由退货，保证24小时内发货，我们绝对不会泄露您的信息",
        "绝对湿度，永久磁铁，万能胶，万能表",
        "不舒服请及时就医，本品不能代替药物",
        "给大家分享一个做法",
        "欢迎关注我们，每周上新",
        "已转给售后同事处理",
        "我们不搞转发抽奖",
        "有人问这是不是最好的，我们不这么说",
        "保湿、美白、防脱、祛痘、抗皱、修护、舒缓",
    ],
)
def test_the_standards_clean_uses_stay_clean(text):
    assert categories(text) == []


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("这件是今年最保暖的外套", "superlative"),
        ("全网最低价", "superlative"),
        ("销量第一", "superlative"),
        ("不是第一的我们不进货", "superlative"),
        ("全国唯一", "superlative"),
        ("送礼首选", "superlative"),
        ("国家级工艺", "authority"),
        ("机关特供", "authority"),
        ("央视推荐", "authority"),
        ("驰名商标", "authority"),
        ("无效退款", "absolute_guarantee"),
        ("保证瘦10斤", "absolute_guarantee"),
        ("不过退费", "absolute_guarantee"),
        ("永不褪色", "absolute_guarantee"),
        ("绝对安全", "absolute_guarantee"),
        ("根治鼻炎", "absolute_guarantee"),
        ("治疗鼻炎", "medical_claim"),
        ("预防流感", "medical_claim"),
        ("降尿酸", "medical_claim"),
        ("医用级", "medical_claim"),
        ("转发到朋友圈即可领取小样", "induced_sharing"),
        ("集满15个赞", "induced_sharing"),
        ("关注后才能领取", "induced_sharing"),
        ("不转不是中国人", "induced_sharing"),
    ],
)
def test_the_standards_flagged_uses_are_flagged_in_their_category(text, category):
    assert categories(text) == [category]


def test_a_testimonial_in_the_merchants_copy_is_still_its_claim():
    assert categories("买家秀：“这是我穿过最舒服的鞋！”") == ["superlative"]
    assert categories("有宝妈说我们是“全网最便宜”，其实不是") == []
