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


# The classes the context rules were widened by after the seventh blind set (eval/README.md).
# The examples are ours, written for each class; none is a line of any evaluation set.


@pytest.mark.parametrize(
    "text",
    [
        # denial scope: refusing to say a thing covers the whole proposition, 的 included
        "我们不敢说自家的蜂蜜是最纯的，只说是自己养的蜂",
        "说这款是最好的那是吹牛，我们只讲参数",
        "不少机构号称包过，我们做不到",
        "集赞活动已经结束了，以后也不会再搞",
        # someone else's words, warned about
        "有骗子冒充本店客服，说分享链接就送红包，本店从未发过这类消息",
        # a reported question asking which
        "您问哪款最保暖？我们这三款里加绒款最厚",
        # tips: a setting, a season, a tip noun
        "洗澡水温控制在38度左右最合适",
        "这个季节最适合种菠菜",
        "这双凉鞋最适合夏天穿",
        "最适宜的发酵温度是28度",
        # the merchant's own options, field and range; its feelings; the customer's people
        "方案都列在表里了，我们最推荐的是A方案",
        "园子里最甜的是朝南坡那几棵树的果子",
        "我们家最便宜的是基础款",
        "店主最爱的是这款桂花乌龙",
        "送给最好的朋友正合适",
        "没有最好的面霜，只有最适合自己的",
        # ordinary 第一 and 唯一
        "每月第一笔提现免手续费，第一回见面送小样",
        "这是我们在本县唯一的直营门店",
        # following or sharing that gates nothing and earns nothing
        "关注店铺能看直播预告，不关注也能正常下单",
        "欢迎把买家秀分享到评价区，不返现不送礼",
        "欢迎转发，转不转都送试吃装",
        "感谢大家一直以来的关注和转发，谢谢宝妈们的分享",
        # 保证 about its own service, prices and care, or denied
        "下单后保证三天内寄到",
        "我们的价格保证一个月内不涨",
        "为了保证口感，建议收到后尽快食用",
        "这个价格很难保证长期不变",
        # a question, not a promise; "that is enough", not "cured"
        "成分表里有没有宝宝不能吃的，可以先问客服",
        "不能降血压，喝着舒服就好",
    ],
)
def test_the_widened_context_rules_clear_clean_uses(text):
    assert categories(text) == []


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("不是我吹，这是最香的茶叶", "superlative"),
        ("我们是全国唯一的授权经销商", "superlative"),
        ("有人问哪家最便宜，当然是我们家", "superlative"),
        ("这款最适合干皮", "superlative"),
        ("老顾客都说“这是全网最划算的”", "superlative"),
        ("这款面霜真的醉好用", "superlative"),
        ("本市排名第壹", "superlative"),
        ("这个口味别家都做不到", "superlative"),
        ("全城找不到第二家", "superlative"),
        ("旗舰机皇", "superlative"),
        ("不分享到朋友圈不返现", "induced_sharing"),
        ("关注店铺才能领券，不关注不给红包", "induced_sharing"),
        ("这款大米有国家背书", "authority"),
        ("手机摔不坏", "absolute_guarantee"),
        ("吹风机零损伤", "absolute_guarantee"),
        ("交钱就能保送", "absolute_guarantee"),
        ("老寒腿一敷见效", "medical_claim"),
        ("比打针还管用", "medical_claim"),
        ("精华专门治疗眼袋", "medical_claim"),
    ],
)
def test_the_widened_rules_still_flag_the_claims_beside_them(text, category):
    assert categories(text) == [category]
