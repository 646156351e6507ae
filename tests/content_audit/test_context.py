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


# The classes the context rules were widened by after the eighth blind set (eval/README.md).
# Again our own examples of each class; none is a line of any evaluation set.


@pytest.mark.parametrize(
    "text",
    [
        # a denial of what something implies; warnings about impostors; an offer turned down
        "标签上写的是产地，不代表我们的茶是最贵的",
        "有骗子冒充本店发集赞送礼的链接，千万别点",
        "去年有人劝我们做转发抽奖，我们拒绝了",
        # a set the merchant names itself; which item of its own range
        "礼盒一共8种口味，其中唯一一种带坚果的是抹茶味",
        "春季那批里最抢手的是浅蓝色",
        # 最 as frequency, difficulty, nature, knowing, timing, handling, setting, spec, age
        "初学者最常问的是怎么调音",
        "第三单元最难理解的是虚拟语气",
        "长江是中国最长的河",
        "新手爸爸最清楚了，夜里换尿布最怕手忙脚乱",
        "烤红薯刚出炉的时候最好吃",
        "茶叶密封后放冰箱冷藏最好",
        "冬天把暖气调到20度，最省钱",
        "这根绳子最大拉力是200公斤",
        "园子里最老的那棵梨树有八十岁了",
        "绘画启蒙最适合的年龄是4岁左右",
        # history, technical terms, the merchant's own content and conduct, cannot-treat
        "他是中国第一位获得这个奖的作家",
        "实验室用的万能试纸可以粗测酸碱",
        "今天给大家录了段视频，分享一下我们怎么腌咸菜",
        "旧批次已经下架，绝对不会寄给大家",
        "我们卖的是枕头，治不好颈椎病，不舒服请就医",
        "每个批次都能用溯源码扫码查到产地",
        # the new guarantee and medical patterns stay off ordinary copy
        "这双鞋走一天脚也不疼",
        "这茶跟喝中药一样苦，怕苦慎拍",
        "比药店还便宜一半",
        "不用打农药，虫子靠人工捉",
        "谁都可以报名，什么都不用带",
        "怎么搭都不出错，通勤约会都合适",
        "再小的订单我们也不会怠慢",
        "头发一定要吹干再睡",
        "路上漏了包赔，拍照联系客服",
        "选礼物再也不头疼了",
    ],
)
def test_the_eighth_round_context_rules_clear_clean_uses(text):
    assert categories(text) == []


@pytest.mark.parametrize(
    ("text", "category"),
    [
        # the market stays a market, and goods stay goods
        ("市面上的面霜很多，其中最好用的就是我们家", "superlative"),
        ("这是全网最老牌的茶庄", "superlative"),
        ("这款空调最省电", "superlative"),
        ("中国第一个获得有机认证的大米品牌", "superlative"),
        ("分享一下到朋友圈就送小样", "induced_sharing"),
        # an ailment that goes away, a reading that drops, medicine or a doctor no longer needed
        ("这款茶喝了三天，咽炎就好了", "medical_claim"),
        ("抹上一晚，湿疹就消下去了", "medical_claim"),
        ("喝了一个月，尿酸都降下来了", "medical_claim"),
        ("用了这个枕头，我爸的降压药都停了", "medical_claim"),
        ("比吃降压药还管用", "medical_claim"),
        ("宝宝吃了一冬天，医院都没去过", "medical_claim"),
        ("孩子穿了矫正鞋，扁平足一年就正过来了", "medical_claim"),
        ("这款牙膏能把口腔里的细菌全部杀死", "medical_claim"),
        ("用了以后肚子就不胀气了", "medical_claim"),
        # everyday absolute guarantees
        ("这款面膜谁用都不会过敏", "absolute_guarantee"),
        ("这口锅用多少年都不会坏", "absolute_guarantee"),
        ("吃了我们的钙片，孩子个子一定会长高", "absolute_guarantee"),
        ("保准你一个月瘦十斤", "absolute_guarantee"),
        ("一点副作用都没有，放心吃", "absolute_guarantee"),
        ("手表从三楼摔下去也不会坏", "absolute_guarantee"),
        ("100%能看到皮肤变白", "absolute_guarantee"),
    ],
)
def test_the_eighth_round_rules_flag_the_claims_beside_them(text, category):
    assert categories(text) == [category]


@pytest.mark.parametrize(
    "text",
    [
        # the merchant promising not to pass goods off or cheat on weight: its own dealing
        "这批大米绝对不会以次充好，每袋都足秤",
        # a Latin brand name followed by its Chinese rendering
        "Winner冠军运动袜正品，吊牌齐全",
        # the end of a scale a rule or standard sets
        "新规允许标注的最高等级是五星",
        # a pupil's place in a competition the sentence names
        "小明参加了区里的书法比赛，拿了初中组第一名，恭喜！",
        # denials: 别相信, 也不送, and the customer's own words quoted back
        "我们不做这种承诺，请别相信任何包过的说法",
        "我们不搞转发送礼，也不送集赞奖品",
        "你说的冠军款其实是别的店卖的，我们没有卖过",
        # pointing the customer to a pharmacy
        "我们这是日用款，想要医用的请到药店购买",
    ],
)
def test_the_ninth_round_clean_uses_stay_clean(text):
    assert categories(text) == []


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("这款辣椒酱最下饭", "superlative"),
        ("全网最下酒的花生米", "superlative"),
        ("这瓶精华坚持用一个月100%淡纹", "absolute_guarantee"),
        ("这款是best冠军单品", "superlative"),
    ],
)
def test_the_ninth_round_rules_flag_the_claims_beside_them(text, category):
    assert set(categories(text)) == {category}


@pytest.mark.parametrize(
    "text",
    [
        # after-sales commitments: damaged goods and warranty repairs are the shop's service
        "我们保证烂果包赔，拍照找客服就行",
        "保证在质保期内免费维修",
        # an ordinal batch of an official designation
        "本村入选全国第一批美丽乡村示范村",
        # entitlements of the shop's own service last as long as it says
        "录播课程永久有效，随时回看",
        # the guarantee refused outright
        "我们不包过，只负责把课讲好",
        # a class that does not open is refunded: the shop's own dealing, no result promised
        "满8人开班，不满8人全额退款",
        # the merchant sharing free material
        "这些食谱都是免费分享的，大家随意看",
        # the shop's own group buy is out of the standard's scope
        "邀请朋友一起拼团，两人成团就发货",
        # a moment to eat it, a tip
        "香蕉放到有点斑点了再吃最香",
        # a quantity delivered is a delivery commitment
        "认养一只羊，保底30斤羊肉，不够补足",
    ],
)
def test_the_tenth_round_clean_uses_stay_clean(text):
    assert categories(text) == []


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("这款药膏专治反复长痘", "medical_claim"),
        ("这双鞋是今年的断货王", "superlative"),
        ("这款茶喝半个月老胃病就能断根", "absolute_guarantee"),
        ("这贴膏药比吃药管用", "medical_claim"),
        ("特供人民大会堂的小米", "authority"),
        ("报了我们的班，上了就能考进全校前五十", "absolute_guarantee"),
        ("这块电池用八年不衰减", "absolute_guarantee"),
        ("孩子的成绩百分百提sheng", "absolute_guarantee"),
        ("宝宝喝了这奶粉，一整个冬天都没感冒", "medical_claim"),
        ("我们班包过，不过退费", "absolute_guarantee"),
    ],
)
def test_the_tenth_round_rules_flag_the_claims_beside_them(text, category):
    assert set(categories(text)) == {category}


@pytest.mark.parametrize(
    "text",
    [
        # a process term on food, not a medical claim
        "鲜奶经过巴氏杀菌，开盒后请冷藏",
        # the customer told not to treat food as medicine
        "红枣就是零食，别把它当药吃",
        # a store named by its number
        "取货点在第一百货大楼东门",
        # a guess about a match
        "世界杯期间猜对冠军的顾客送饮料一瓶",
        # nothing asked in return for sharing
        "直播回放可以转给朋友看，不用截图也不用点赞",
        "没关注的朋友也可以直接下单，一样发货",
        # ripe fruit tastes best: a tip
        "芒果放到软了最好吃",
        # a Latin brand with its Chinese rendering in brackets
        "Victory（胜利）牌羽毛球拍，正品授权",
    ],
)
def test_the_eleventh_round_clean_uses_stay_clean(text):
    assert categories(text) == []


@pytest.mark.parametrize(
    ("text", "category"),
    [
        # a customer's story of a check-up is still the merchant's claim
        ("一位顾客喝了三个月，胃病基本好了，去医院复查医生都很惊讶", "medical_claim"),
        ("喝了两个月，体检时血糖从8点多降到了5", "medical_claim"),
        ("用了这个坐垫，腰椎间盘突出再也没发作过", "medical_claim"),
        ("这款护膝穿上以后，医院都不用去了", "medical_claim"),
        ("这款足贴比吃止痛药还管用", "medical_claim"),
        ("同价位的蓝牙耳机，别家根本比不上", "superlative"),
        ("整个县城找不出第二家这种口味", "superlative"),
        ("这款跑鞋在跑步圈没对手", "superlative"),
        ("这家的手艺在全市数一数二", "superlative"),
        ("机身用了航天级钛合金", "authority"),
        ("这套茶具作为国礼赠送给过外国元首", "authority"),
        ("零基础21天过六级", "absolute_guarantee"),
        ("这床被子钻绒算我的", "absolute_guarantee"),
        ("不转发这条，今年的运气永远好不了", "induced_sharing"),
    ],
)
def test_the_eleventh_round_rules_flag_the_claims_beside_them(text, category):
    assert set(categories(text)) == {category}


@pytest.mark.parametrize(
    "text",
    [
        # the copy says the word is a series name
        "帝王蟹礼盒里的“至尊”是品牌的系列名，不代表等级",
        # vouching for where the goods come from, and a delivery date
        "我们保证每一箱车厘子都是从正规口岸进口的",
        "20号前下单保证元旦前到",
        # what the course does promise, after a hedge
        "成绩因人而异，我们保证的是每节课都有课后反馈",
        # how to enjoy it: a time or a step closes the clause
        "开封后一周内吃完口感最好",
        "加热时微波炉高火1分钟味道最好",
        "初春喝最合适",
        "趁清早摘的黄瓜最脆",
        # addressing those who already follow
        "已经关注的朋友，点菜单就能看到新品",
    ],
)
def test_the_twelfth_round_clean_uses_stay_clean(text):
    assert categories(text) == []


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("这个价位的吹风机，谁还能比？", "superlative"),
        ("干了十年，没见过哪家的粽子比我们更香", "superlative"),
        ("这种口味别家根本吃不到", "superlative"),
        ("全网最低价，别家绝对拿不到", "superlative"),
        ("我们的老腊肉，十里八乡头一份", "superlative"),
        ("这款耳机真的yyds", "superlative"),
        ("考不上一本，学费一分不收", "absolute_guarantee"),
        ("穿上这条收腹裤，腰围减3厘米", "absolute_guarantee"),
        ("孕期吃这款DHA，宝宝一定聪明", "absolute_guarantee"),
        ("不转发的客户，不给发货", "induced_sharing"),
        ("吃完血糖不升，糖友放心吃", "medical_claim"),
        ("喝了两个月，三高全降", "medical_claim"),
        ("这款霜专门针对湿疹", "medical_claim"),
    ],
)
def test_the_twelfth_round_rules_flag_the_claims_beside_them(text, category):
    assert set(categories(text)) == {category}


@pytest.mark.parametrize(
    "text",
    [
        # thawing is handling: the tip names how
        "牛排冷藏室慢慢解冻最好",
        # a class kept small so each child is heard: the course's own service
        "小班教学，保证每位学员都能被老师点到",
        # a hair tie given away, not a post to Moments
        "下单送一根同色发圈",
        # a lottery that asks for no sharing
        "下单就能抽奖，不需要转发、点赞或集赞",
    ],
)
def test_the_thirteenth_round_clean_uses_stay_clean(text):
    assert categories(text) == []


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("精华100%qu斑", "absolute_guarantee"),
        ("奶粉行业NO·1", "superlative"),
        ("喝了宝宝一定变聪明", "absolute_guarantee"),
        # a warning elsewhere in the sentence does not clear the claim beside it
        ("灵芝孢子粉抗肿瘤，孕妇不宜", "medical_claim"),
    ],
)
def test_the_thirteenth_round_rules_flag_the_claims_beside_them(text, category):
    assert set(categories(text)) == {category}


@pytest.mark.parametrize(
    "text",
    [
        # a whole list of sharing conditions refused
        "参与抽奖不设任何转发、点赞或关注要求",
        # what a group leader's fee does not depend on
        "团长佣金按成交件数算，与转发次数无关",
        # a product line's name
        "这款是永久系列的新配色",
        # the merchant reposting a review with permission
        "（经顾客授权转载）收到了，尺码刚好",
        # a setting named by its rank on the product's own scale
        "风扇最低档几乎听不到声音",
        # a pupil's place in class, from a testimonial
        "孩子期末考了全班第一，谢谢老师",
        # a plain invitation to follow
        "邀请您关注我们的服务号，发货提醒都在这里",
        # the merchant refusing to stock what fails its bar
        "不合格的货我们绝不上架",
    ],
)
def test_the_fourteenth_round_clean_uses_stay_clean(text):
    assert categories(text) == []


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("这款香水是全网 N O 1", "superlative"),
        ("不是最好吃的，我敢卖这个价吗？", "superlative"),
        ("每天一杯，增强免疫力", "medical_claim"),
        ("这支精华能治痘印", "medical_claim"),
        ("定型枕能预防斜颈", "medical_claim"),
        ("医学级配方的洗面奶", "medical_claim"),
        ("中科院专家推荐的护眼灯", "authority"),
        ("我们班没有不过的学员", "absolute_guarantee"),
        ("不转的朋友今年运气差", "induced_sharing"),
    ],
)
def test_the_fourteenth_round_rules_flag_the_claims_beside_them(text, category):
    assert set(categories(text)) == {category}


@pytest.mark.parametrize(
    "text",
    [
        # the shop's own handling time and the weight it sends
        "付款后保证不超过12小时",
        "保证每袋净重不少于2斤",
        # a service promise, said firmly
        "我们绝对保证所有奶粉都在保质期内寄出",
        # "as long as it helps", "a little is enough"
        "纯粹分享，对你有用就好",
        "面霜取一点就好，别涂太厚",
        # a customer's report of a few washes
        "洗了几次也没起球",
        # the pick among the volumes of a set the shop sells
        "这套有8册，最受欢迎的是第2册",
        # what customers shared, collected by the shop: no one is asked to share
        "顾客分享的买家秀我们会整理成合集",
        # 调经 only as a word, not inside 空调经常
        "空调经常开着也不费电",
        # advice to follow the doctor's dose
        "请按医生推荐的剂量服用",
    ],
)
def test_the_fifteenth_round_clean_uses_stay_clean(text):
    assert categories(text) == []


@pytest.mark.parametrize(
    ("text", "category"),
    [
        # a disease that got better, patients told to buy, health functions
        ("过了这个月，痛经明显减轻了", "medical_claim"),
        ("喝了半年，脂肪肝都好转了", "medical_claim"),
        ("心脑血管不好的老人一定要喝", "medical_claim"),
        ("这款红枣茶补气血", "medical_claim"),
        ("腰椎病按一按就不疼", "medical_claim"),
        # doctors vouching, named medicine beaten, a disease's risk lowered
        ("牙科医生都在用的牙线", "medical_claim"),
        ("这贴膏比布洛芬管用", "medical_claim"),
        ("常喝能降低中风的风险", "medical_claim"),
        # state occasions and institutes
        ("接待外宾用的就是这款茶", "authority"),
        ("农科院专家推荐的小米", "authority"),
        ("国宴级别的做工", "authority"),
        # rivals beaten without 最, a look-alike and pinyin
        ("同价位难逢对手", "superlative"),
        ("别的品牌比不了", "superlative"),
        ("全省只有我们一家", "superlative"),
        ("本店的饭盒是同品类里卖得最好的", "superlative"),
        ("这条裙子醉显瘦", "superlative"),
        ("降噪wu敌", "superlative"),
        # results promised in everyday words
        ("越喝越年轻", "absolute_guarantee"),
        ("不瘦你来找我", "absolute_guarantee"),
        ("雅思一次就过", "absolute_guarantee"),
        # likes collected by a look-alike verb, bad luck for not sharing
        ("攒够30个赞送杯子", "induced_sharing"),
        ("不转发的人运气都不好", "induced_sharing"),
    ],
)
def test_the_fifteenth_round_rules_flag_the_claims_beside_them(text, category):
    assert set(categories(text)) == {category}



@pytest.mark.parametrize(
    "text",
    [
        "我们承诺：体验课不满意不收费",
        "物流单号已转发给您，请查收",
        "照片冲印完我们绝对不留底",
        "请关注群通知，按时来取货",
        "有人用我们的名义在群里搞集赞，那不是官方活动",
        "这是护肤品，请不要拿它代替药物",
        "顾客说外套穿了三年还没起球",
        "退热贴一盒六片",
        "破损包赔，保证不让大家吃亏",
        "王老师最擅长带零基础的学员",
        "发膜只抹在发尾就好",
    ],
)
def test_the_sixteenth_round_clean_uses_stay_clean(text):
    """Service promises, the shop forwarding to the customer, 关注 as "keep an eye on", a
    warning about impostors, a disclaimer, a customer's report, names of goods, a teacher's
    speciality and an instruction (tune17 and tune18's classes, in examples of my own)."""
    assert categories(text) == []


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("这款腰贴，腰肌劳损一次就缓解", "medical_claim"),
        ("吃了两天烧就退了", "medical_claim"),
        ("病人吃了恢复得快", "medical_claim"),
        ("有机菜，农残绝对为零", "absolute_guarantee"),
        ("驱蚊手环1 0 0 % 有效", "absolute_guarantee"),
        ("这条围巾颜色终身不褪", "absolute_guarantee"),
        ("局长办公室摆的就是这款茶具", "authority"),
        ("防晒霜bao有效", "absolute_guarantee"),
        ("顾客说：“这是我吃过的最好的月饼”", "superlative"),
        ("转发的人今年都顺顺利利", "induced_sharing"),
        ("试问还有哪家的面比我们更筋道", "superlative"),
        ("近视度数一个月下降50度", "medical_claim"),
        ("无论基础多差都能学会", "absolute_guarantee"),
        ("医院都在用的洗手液", "medical_claim"),
        ("痛风的朋友必备", "medical_claim"),
        ("这款茶具是zheng府接待专用", "authority"),
    ],
)
def test_the_sixteenth_round_rules_flag_the_claims_beside_them(text, category):
    assert set(categories(text)) == {category}



@pytest.mark.parametrize(
    "text",
    [
        "第12次课做一次小测",
        "语文第一册第3课",
        "妈妈同意我们分享这个好消息",
        "把猫窝放在猫咪最常待的角落",
        "收到后当天煮最甜",
        "芦笋大火快炒40秒出锅最脆",
        "三个品种里水蜜桃最甜",
        "保暖内衣能不能治关节炎？不能，它只管保暖",
        "苦瓜茶降不降血糖？这种话我们不说，控糖请听医生的",
        "宝宝发烧请先就医，本店不卖退烧产品",
        "有宝妈问要不要集赞才有赠品，不用的",
        "买家秀：“袜子洗了也不变形”",
        "上期没跟上的同学可以免费补看回放",
        "淘米水比例1:1.2最好",
    ],
)
def test_the_seventeenth_round_clean_uses_stay_clean(text):
    """第12次 is no 第一; ordinals of volumes, the shop sharing news, frequency, cooking and
    ratio tips, a variety among the farm's own, questions the shop answers no, doctor advice,
    a customer's report and a course's catch-up policy (tune19 and tune20's classes)."""
    assert categories(text) == []


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("学员没有一个失败的", "absolute_guarantee"),
        ("政治稳上70分", "absolute_guarantee"),
        ("报名即100%拿毕业证", "absolute_guarantee"),
        ("包就业，月薪不低于5000元", "absolute_guarantee"),
        ("模板照搬就能拿高分", "absolute_guarantee"),
        ("宝宝舔了都没事", "absolute_guarantee"),
        ("阅卷组老师审定的真题", "authority"),
        ("国家质检总局推荐的插座", "authority"),
        ("这款护眼灯能改善视力", "medical_claim"),
        ("猫粮能预防猫咪泌尿结石", "medical_claim"),
        ("这款奶瓶专治宝宝吐奶", "medical_claim"),
        ("泡脚包能对付各种炎症", "medical_claim"),
        ("奶粉行业NO。1", "superlative"),
        ("榴莲品质说第二没人敢说第一", "superlative"),
        ("不转发的今年走霉运", "induced_sharing"),
        ("在朋友圈连续晒课7天返学费", "induced_sharing"),
    ],
)
def test_the_seventeenth_round_rules_flag_the_claims_beside_them(text, category):
    assert set(categories(text)) == {category}



@pytest.mark.parametrize(
    "text",
    [
        "拼团拼不成会自动退款",
        "两人拼单，拼不成原价发货",
        "有粉丝说用了痘痘全没了，这种效果我们不承诺",
        "点赞过千了，谢谢大家",
        "和电竞冠军战队联名的鼠标",
        "汤圆从冷冻室拿出来解冻20分钟口感最软",
        "栗子皮薄好剥，糖炒最香",
        "这是我种了十年里最甜的一季",
        "我们永久保修的只有拉链",
        "出门在外，安全第一",
        "签收48小时后不再受理口感类退款",
        "年卡有效期12个月，课包有效期6个月",
        "纯蜂蜜，绝对不掺糖，掺一赔十",
        "等不及可以直接申请退款",
    ],
)
def test_the_eighteenth_round_clean_uses_stay_clean(text):
    """A group buy that fails, a testimonial the shop will not promise, a champion team, thawing
    and cooking tips, the farm's own years, a warranty, a motto, a refund window, a pack's
    validity, purity vouched for, an impatient buyer's refund (tune21 and tune22's classes)."""
    assert categories(text) == []


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("谢谢大家～集满30个赞截图发我，送一盒草莓", "induced_sharing"),
        ("不强制转发，愿意分享到朋友圈的截图给客服多送一包", "induced_sharing"),
        ("这不是医疗器械，不过每晚用能预防鼻炎复发", "medical_claim"),
        ("宝宝便秘吃它就能调好", "medical_claim"),
        ("三天消退湿疹", "medical_claim"),
        ("痛风的叔叔喝了马上不疼", "medical_claim"),
        ("喝了半年都不用打胰岛素了", "medical_claim"),
        ("同尺寸里容量最大的充电宝", "superlative"),
        ("县领导来调研时点名要了两箱", "authority"),
        ("100%无刺激的洗衣液", "absolute_guarantee"),
        ("任何小偷都打不开", "absolute_guarantee"),
        ("本店质量万无一失", "absolute_guarantee"),
        ("提分班效果lì竿见影", "absolute_guarantee"),
        ("防晒霜bao有效", "absolute_guarantee"),
    ],
)
def test_the_eighteenth_round_rules_flag_the_claims_beside_them(text, category):
    assert set(categories(text)) == {category}



@pytest.mark.parametrize(
    "text",
    [
        "我不知道最不最火，我自己很喜欢",
        "第一次吃野生菌少吃点，以防过敏",
        "课程唔保证分数，老师会尽力",
        "最细的一款面条适合宝宝",
        "超过五天没到，我们保证帮您追件到底",
        "最打动我的是结尾那句话",
        "最让我惊喜的是他主动举手了",
    ],
)
def test_the_nineteenth_round_clean_uses_stay_clean(text):
    """An A-not-A question, 以防, Cantonese 唔, a thin noodle, chasing a parcel, a teacher's
    feelings (tune23 and tune24's classes, in examples of my own)."""
    assert categories(text) == []


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("手感蕞细腻的羊绒衫", "superlative"),
        ("价格还是最低的", "superlative"),
        ("十里八村头一份", "superlative"),
        ("这位老师是考研圈的顶流", "superlative"),
        ("特 供 级别的鸡蛋", "authority"),
        ("纳豆胶囊溶血栓", "medical_claim"),
        ("点赞数越多奖品越大", "induced_sharing"),
        ("不转的这周财运一般", "induced_sharing"),
        ("毛囊炎吹一吹就好", "medical_claim"),
        ("暑期班数学稳提30分", "absolute_guarantee"),
        ("这条裤子谁穿谁显瘦", "absolute_guarantee"),
        ("穿上立马小一个码", "absolute_guarantee"),
        ("从三楼摔下来手机绝对完好", "absolute_guarantee"),
        ("本区第一家夜间配送的便利店", "superlative"),
        ("全国仅此一家手工旗袍店", "superlative"),
        ("国家级实验室研发的配方", "authority"),
        ("交警部门指定推荐的记录仪", "authority"),
        ("是中国人就转出去", "induced_sharing"),
        ("留言获赞最多的前十位送化妆包", "induced_sharing"),
        ("关节炎的老人冬天必备", "medical_claim"),
        ("阿姨说今年冬天风湿都没犯过", "medical_claim"),
        ("贫血的毛病慢慢就调理好了", "medical_claim"),
    ],
)
def test_the_nineteenth_round_rules_flag_the_claims_beside_them(text, category):
    assert set(categories(text)) == {category}


@pytest.mark.parametrize(
    "text",
    [
        "我对榴莲一直不感冒，但店里卖得很好",
        "店长最放心不下的是冷链路上的温度",
        "最多人问的是能不能寄到新疆",
        "每箱发出前都挑过一遍，保证不发烂果给大家",
        "每盒都能扫码查批次，保证盒盒可追溯",
        "请假的课我们保证给孩子补上",
        "发票当天开好，这个保证做到",
        "晚上回复慢，绝对不是故意不回",
        "我们是这个品牌在本市唯一的官方授权维修点",
        "谁跟你说包过谁就是忽悠",
        "报名后可以永久回看全部直播",
        "镇上的合作社是农业农村部认定的示范社",
        "本月No.1阅读之星是五班的小雨",
        "店里几款大衣里这件最保暖",
    ],
)
def test_the_twentieth_round_clean_uses_stay_clean(text):
    """不感冒 as "not keen", feelings, customers' questions, the shop's own checks and lessons,
    a firm 绝对不是 about its replies, its own authorised outlet, whoever promises a pass is
    lying, course replays, a co-operative, a pupil's award, its own range (tune26's classes, in
    examples of my own)."""
    assert categories(text) == []


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("秧视报道过的老字号", "authority"),
        ("这款面膜是超市里卖得zui好的", "superlative"),
        ("连续两年冲进全国前五", "superlative"),
        ("全网都找不到比我们更正宗的腊肉", "superlative"),
        ("只有我们家的桃子能做到这么脆", "superlative"),
        ("说到口碑，我们家数一数二", "superlative"),
        ("这罐蜂蜜以前是专门给市里领导准备的", "authority"),
        ("局长都把孩子送到我们这里学画画", "authority"),
        ("芹菜汁是血管清道夫", "medical_claim"),
        ("除螨仪还能杀灭真菌", "medical_claim"),
        ("儿童牙膏加了杀 🦠 成分", "medical_claim"),
        ("老人小孩怎么吃都安全", "absolute_guarantee"),
        ("这种苗什么土都能种活", "absolute_guarantee"),
        ("驱蚊灯百分百赶走蚊子", "absolute_guarantee"),
        ("0副作用的纯草本配方", "absolute_guarantee"),
        ("寒假一个月提20分", "absolute_guarantee"),
        ("集👍满20个送钥匙扣", "induced_sharing"),
        ("集满 10 个 ❤️ 可换杯子", "induced_sharing"),
        ("不转这条，福气就溜走了", "induced_sharing"),
        ("你不分享，就是不心疼孩子", "induced_sharing"),
        ("把报名海报发到家长群，凭截图领资料", "induced_sharing"),
        ("晒单朋友圈返5元", "induced_sharing"),
        ("未关注的中奖作废", "induced_sharing"),
    ],
)
def test_the_twentieth_round_rules_flag_the_claims_beside_them(text, category):
    assert set(categories(text)) == {category}


@pytest.mark.parametrize(
    "text",
    [
        "复习资料和答案单独一份，下单后发邮箱",
        "今天转一篇人民日报的文章给大家，讲的是茶农的故事",
        "宝宝起疹子请去看儿科，按医生开的药用",
        "冲奶粉用温水泡一下就没了结块",
        "镇上的供销合作社明天开门",
    ],
)
def test_the_twenty_first_round_clean_uses_stay_clean(text):
    """单独一份, an article passed on, a doctor's prescription, warm water, a co-operative
    (tune25's classes, in examples of my own)."""
    assert categories(text) == []


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("我婆婆的骨质增生疼得轻多了", "medical_claim"),
        ("用了半个月，腋下狐臭没了", "medical_claim"),
        ("上了三个月课，口吃也治好了", "medical_claim"),
        ("护膝戴了一冬，老寒腿zhi好了", "medical_claim"),
        ("烫伤起的水泡抹上就消", "medical_claim"),
        ("比药店的米诺地尔还灵", "medical_claim"),
        ("腰椎间盘突出再也没疼过", "medical_claim"),
        ("每天一杯，能防胃癌", "medical_claim"),
        ("喝两天就不咳了", "medical_claim"),
        ("老人喝了血糖稳稳的", "medical_claim"),
        ("降压药都可以减半了", "medical_claim"),
        ("脚上的湿疹全消了", "medical_claim"),
        ("每天一杯稳血压", "medical_claim"),
        ("做完化疗的人吃了恢复得快", "medical_claim"),
        ("区长来店里视察时尝过", "authority"),
        ("人民网报道过的小店", "authority"),
        ("给中南海供过货的大米", "authority"),
        ("C C T V 报道过的课程", "authority"),
        ("县里的特供酒", "authority"),
        ("部队品质的迷彩服", "authority"),
        ("小孩乱摸也不会触电", "absolute_guarantee"),
        ("种下去包丰收", "absolute_guarantee"),
        ("学费当月就赚回来", "absolute_guarantee"),
        ("腰围至少小三圈", "absolute_guarantee"),
        ("西海岸独一家的做法", "superlative"),
        ("集满20个zan送水杯", "induced_sharing"),
        ("转了的家人好运连连", "induced_sharing"),
        ("需要关注服务号后方可查询", "induced_sharing"),
        # a disease gone is medical, but permanence and universality stay guarantees
        ("用了这款洗发水，永久告别脱发", "absolute_guarantee"),
        ("这瓶喷雾能杀死一切病毒", "absolute_guarantee"),
    ],
)
def test_the_twenty_first_round_rules_flag_the_claims_beside_them(text, category):
    assert set(categories(text)) == {category}


@pytest.mark.parametrize(
    "text",
    [
        "粽子蒸着吃最简单，上锅二十分钟就行",
        "腰围拿自己的裤子量一下对比最准",
        "下雨天泡杯姜茶最舒服",
        "两种米最直观的区别是颜色",
        "这双是我们卖过最耐穿的一款",
        "开课后按没上的课时退费，写在合同里",
        "三人成团，没凑齐的自动退款",
        "会员卡没用完的余额可以退",
        "我们店的半永久眉需要提前预约",
        "店里第一个到的顾客送一份小菜",
    ],
)
def test_the_twenty_second_round_clean_uses_stay_clean(text):
    """The easiest way to cook, measure or drink it, what it has sold itself, refunds of what
    was not used or not formed, 半永久 as a service, the first customer of the day (tune27's
    classes, in examples of my own)."""
    assert categories(text) == []


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("这款面霜针对激素脸专门研发", "medical_claim"),
        ("产后喝一个月，恶露排得干净", "medical_claim"),
        ("每天洗一次，还能预防头虱", "medical_claim"),
        ("练满一期，近视度数能降五十度", "medical_claim"),
        ("开着它能冶好咽炎", "medical_claim"),
        ("每天读十分钟，不灵就退", "absolute_guarantee"),
        ("跟着我们学，考研上岸稳了", "absolute_guarantee"),
        ("这家店是全网第l的口碑", "superlative"),
        ("我们的面包是全城弟一的", "superlative"),
        ("我们是国内第一个做这种锁的品牌", "superlative"),
        ("市领导的孩子也在我们这学", "authority"),
        ("品质由政府把关", "authority"),
        ("直播间点赞到五万就上福利", "induced_sharing"),
        ("晒图返现，多晒多返", "induced_sharing"),
        ("转发的人逢考必过", "induced_sharing"),
    ],
)
def test_the_twenty_second_round_rules_flag_the_claims_beside_them(text, category):
    assert set(categories(text)) == {category}


def test_the_sharing_flag_falls_on_the_action_whose_condition_stands_beside_it():
    """扫码关注我们，关注后才可以领取: the second 关注 is the one the reward hangs on."""
    text = "进门请扫码关注我们，关注后才可以领取入园券。"
    flags = default_screener().screen(text).flags
    assert [text[f.start : f.end].startswith("关注后才可以领取") for f in flags] == [True]


@pytest.mark.parametrize(
    "text",
    [
        "您说别家宣传‘喝了能降血脂’，我们不这么说，血脂高请遵医嘱",
        "有买家夸我们的橙子‘全省最甜’，谢谢，但我们自己不敢这么讲",
        "您问有没有问题，这批桃子发货前都挑过",
        "胃不舒服用热水袋敷一敷，严重的请去医院",
        "别听网上说的喝醋能软化血管",
        "我们不会以任何理由要求您转发或集赞",
        "群里有人转发的抽奖链接不是我们发的，请别点",
        "您的电话号码我们保证不会卖给任何人",
        "地址只用于发货，绝对不会给第三方",
        "紫薯蒸着吃最粉，十五分钟就熟",
        "这辆是和永久联名的通勤车",
        "我们只讲日常养护，不教治病",
    ],
)
def test_the_twenty_third_round_clean_uses_stay_clean(text):
    """Quotations in single curly quotes, 问题 is no question, 不舒服用 is no 服用, advice not
    to believe a claim, refusals and warnings about other people's links, the customer's
    data, a cooking tip, the 永久 bicycle brand, what a course does not teach (tune28, tune29
    and tune30's classes, in examples of my own)."""
    assert categories(text) == []


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("坚持用两瓶，掉发问题能根治", "absolute_guarantee"),
        ("效果是永久的，停了也不会反弹", "absolute_guarantee"),
        ("整晚一只蚊子都近不了身", "absolute_guarantee"),
        ("啥体质都能吃，放心买", "absolute_guarantee"),
        ("孩子走到哪都能找到", "absolute_guarantee"),
        ("这批土豆绝对没打过农药", "absolute_guarantee"),
        ("这个蜂蜜百分之bai健康", "absolute_guarantee"),
        ("背古诗一遍就记住", "absolute_guarantee"),
        ("口算课上完错误率能降到零", "absolute_guarantee"),
        ("百试百灵的去渍笔", "absolute_guarantee"),
        ("宝宝吃了少生病", "medical_claim"),
        ("贫血的人长期喝能改善", "medical_claim"),
        ("这袜子能预防脚气和灰指甲", "medical_claim"),
        ("每天一杯控血糖", "medical_claim"),
        ("蒜是地里长出来的青霉素", "medical_claim"),
        ("推拿学会了，孩子发烧自己在家就能治好", "medical_claim"),
        ("当年被选作外事接待用酒", "authority"),
        ("以前直供北京某部委食堂", "authority"),
        ("这是银保监会认可的理财", "authority"),
        ("这款奶粉在母婴行业排头一名", "superlative"),
        ("把这条推文发到你的宝妈群，截图就送小样", "induced_sharing"),
        ("把海报设成朋友圈封面三天，给您改价", "induced_sharing"),
        ("凑满10个新朋友进群送鸡蛋", "induced_sharing"),
        ("转出去的人下个月必有好事", "induced_sharing"),
        ("获赞超过50个的留言送正装", "induced_sharing"),
        ("这条动态点满30个赞送试吃", "induced_sharing"),
    ],
)
def test_the_twenty_third_round_rules_flag_the_claims_beside_them(text, category):
    assert set(categories(text)) == {category}


@pytest.mark.parametrize(
    "text",
    [
        "国家标准里最高的等级是一级，这批茶达到了",
        "这是我们家唯一一款不含香精的面霜",
        "本店开业以来卖得最好的一款",
        "这款面膜最大规格是10片装",
        "洗了三十多次也不起球",
        "抽奖和点赞、转发无关，每人一次",
        "分享给大家一个腌萝卜的小窍门",
        "不想等的可以随时申请退款",
        "最佳观看距离是两米",
        "红星第一机床厂的老师傅手工打磨",
        "手机第一pi现货到了",
        "您的聊天记录绝dui不会外流",
        "欢迎关注我们的果园日记，秋天果子直接寄到家",
    ],
)
def test_the_twenty_fourth_round_clean_uses_stay_clean(text):
    """The top grade of a scale, its own range and its years, a size, a record of use, what a
    draw does not depend on, the merchant sharing a tip, a refund for waiting, a viewing
    distance, a factory's name, a batch and a privacy promise in pinyin, a plain invitation
    (tune31, tune32 and tune33's classes, in examples of my own)."""
    assert categories(text) == []


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("这款面膜是世jie级的补水效果", "superlative"),
        ("卫生bu推荐过的消毒柜", "authority"),
        ("先guanzhu我们再回复关键词才能领资料", "induced_sharing"),
        ("晒到pyq返现3元", "induced_sharing"),
        ("集满叁拾个赞送花生油", "induced_sharing"),
        ("全省独1份的手艺", "superlative"),
        ("这把伞的防晒是业内弟一", "superlative"),
        ("止痒膏，zhi痒特别快", "medical_claim"),
        ("新华she点名表扬的机构", "authority"),
        ("雅思⑥分保障班", "absolute_guarantee"),
        ("这批苗包你翻倍结果", "absolute_guarantee"),
        ("承诺30天淡斑", "absolute_guarantee"),
        ("尿不湿漏了包退", "absolute_guarantee"),
        ("这口锅一辈子都不会坏", "absolute_guarantee"),
        ("滤网100%无死角", "absolute_guarantee"),
        ("喝一周不通便原价退", "absolute_guarantee"),
        ("转了就是给家人积福", "induced_sharing"),
        ("不转这条小心错过好运", "induced_sharing"),
        ("不转就是耽误孩子", "induced_sharing"),
        ("转满5个群送两斤橘子", "induced_sharing"),
        ("分享到业主群可抵扣20元", "induced_sharing"),
        ("本条在看过200就抽奖", "induced_sharing"),
        ("不少局领导都是我们的老顾客", "authority"),
        ("糖尿病人的救星", "medical_claim"),
        ("常喝护心血管", "medical_claim"),
    ],
)
def test_the_twenty_fourth_round_rules_flag_the_claims_beside_them(text, category):
    assert set(categories(text)) == {category}


@pytest.mark.parametrize(
    "text",
    [
        "冬天最冷那几天，加一件我们的羊毛背心就够",
        "周星驰至尊宝联名款T恤到货",
        "会员卡升级为至尊卡，积分不清零",
        "报名后7天内没上过课的可以全额退",
        "您的电话我们保证不外传",
        "您的地址我们绝不会卖给任何人",
        "他年轻时在国家级林场当过护林员",
        "家长问“你们是不是包过”，我们说：不包过，也不签任何保过协议",
        "转发抽奖这类活动我们一律不做",
        "关于转发抽奖：本号从不做，请勿相信冒名链接",
        "这款连衣裙是店里的销冠，回购的姐妹很多",
    ],
)
def test_the_twenty_fifth_round_clean_uses_stay_clean(text):
    """The weather, names and cards, refunds of lessons not taken, the customer's data, a
    designation stated as a fact, refusals and a notice's heading, the shop's own best seller
    (tune34, tune35 and tune36's classes, in examples of my own)."""
    assert categories(text) == []


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("整个平台只有我们敢把价格压到这么低", "superlative"),
        ("翻遍全网都没我们便宜", "superlative"),
        ("稳居同类销量榜首", "superlative"),
        ("全国独创的教学法", "superlative"),
        ("大品牌都比不上我们", "superlative"),
        ("这个狗粮是宠物零食里的弟一名", "superlative"),
        ("ji满20个赞送一包瓜子", "induced_sharing"),
        ("转发保丰收", "induced_sharing"),
        ("快来转发这张锦鲤图", "induced_sharing"),
        ("把海报发到你的业主群，运费我们包了", "induced_sharing"),
        ("加好友需要先关注公众号才能通过", "induced_sharing"),
        ("真出了事故孩子也能毫发无伤", "absolute_guarantee"),
        ("坚持吃100%长高", "absolute_guarantee"),
        ("整个夏天都不会被咬", "absolute_guarantee"),
        ("家里用完全没有任何安全隐患", "absolute_guarantee"),
        ("30天说一口流利英语", "absolute_guarantee"),
        ("慢性鼻炎喝一季能去根", "absolute_guarantee"),
        ("老茶每年升值20%", "absolute_guarantee"),
        ("抗紫外线100%", "absolute_guarantee"),
        ("所有宝宝都百分百适用", "absolute_guarantee"),
        ("画画课一学就会", "absolute_guarantee"),
        ("刷一周牙龈就不出血了", "medical_claim"),
        ("滴两滴能治疗耳螨", "medical_claim"),
        ("喷一喷预防猫瘟", "medical_claim"),
        ("这是当年进贡给中南海的茶", "authority"),
        ("国家级婴幼儿配方研究成果", "authority"),
        ("军用级发热包", "authority"),
        ("专供老干部疗养院", "authority"),
        ("民政局推荐的助浴服务", "authority"),
    ],
)
def test_the_twenty_fifth_round_rules_flag_the_claims_beside_them(text, category):
    assert set(categories(text)) == {category}


@pytest.mark.parametrize(
    "text",
    [
        "这是普通的果汁，不能治病，当饮料喝就好",
        "不转发不集赞，到店直接领一杯豆浆",
        "假一赔十，鉴定不是正品直接全额退",
        "给家长们分享一篇讲午睡习惯的文章",
    ],
)
def test_the_twenty_sixth_round_clean_uses_stay_clean(text):
    """A drink called a drink, the conditions waived, an authenticity promise, the merchant
    sharing an article (tune38's classes, in examples of my own)."""
    assert categories(text) == []


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("用满一个月，头发一定变黑", "absolute_guarantee"),
        ("喝完三盒，腰围肯定松两个码", "absolute_guarantee"),
        ("跟着练，作文一定能拿高分", "absolute_guarantee"),
        ("眼霜效果立刻见", "absolute_guarantee"),
        ("抬头纹一抹就平", "absolute_guarantee"),
        ("这批苗百分百结果", "absolute_guarantee"),
        ("科目四跟着刷，保你一次过", "absolute_guarantee"),
        ("晒单发朋友圈返现5元", "induced_sharing"),
        ("拉满20个赞送杯子", "induced_sharing"),
        ("转完才能进群", "induced_sharing"),
        ("是亲妈就转给身边的宝妈", "induced_sharing"),
        ("看到就转，转了今年生意不愁", "induced_sharing"),
        ("区教委推荐的课程", "authority"),
        ("理疗级的颈椎枕", "medical_claim"),
        ("关节炎不用愁", "medical_claim"),
        ("驱蚊贴还能预防乙脑", "medical_claim"),
        ("快递最快的就是我们家", "superlative"),
    ],
)
def test_the_twenty_sixth_round_rules_flag_the_claims_beside_them(text, category):
    assert set(categories(text)) == {category}


@pytest.mark.parametrize(
    "text",
    [
        "三人拼团，24小时没拼成会自动退款",
        "按国家规定最高只能标SPF50+",
        "至尊海鲜披萨今晚加送薯条",
        "店里的卤汁配方十年都没换过",
        "这盒点心是从上海第一食品商店买的",
        "我们最珍惜的是老顾客的信任",
        "模特身高165，她最满意的是这条裙子的领口",
        "教书这些年，最有成就感的是孩子敢举手了",
        "机构所在的园区是国家级大学科技园",
        "序列号官网可查，查不到的全额退款",
        "有粉丝建议搞个转发抽奖，想了想还是算了",
    ],
)
def test_the_twenty_seventh_round_clean_uses_stay_clean(text):
    """Group-buy refunds, a limit the rules set, a pizza's name, a recipe kept, a shop's name,
    feelings, a designation stated as a fact, an authenticity refund, an idea dropped
    (tune37's classes, in examples of my own)."""
    assert categories(text) == []


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("这条推文点赞攒够30个送小样", "induced_sharing"),
        ("转发给亲友，新一年财运亨通", "induced_sharing"),
        ("爽身粉能fang止痱子", "medical_claim"),
        ("不是全网最好吃的，我们根本不会上架", "superlative"),
        ("这件T恤的颜色终身不褪", "absolute_guarantee"),
        ("艾草贴一贴见效", "absolute_guarantee"),
    ],
)
def test_the_twenty_seventh_round_rules_flag_the_claims_beside_them(text, category):
    assert set(categories(text)) == {category}


@pytest.mark.parametrize(
    "text",
    [
        "永久花纯露是从科西嘉岛进的",
        "有顾客说我们的枸杞能降血糖，我们从来没这样说过",
        "说实话，没有哪双袜子能做到永远不破",
        "报名后保证两天内排好老师，排不上全额退",
        "有网友说这是全网最便宜的，我们查过，不是",
    ],
)
def test_the_twenty_eighth_round_clean_uses_stay_clean(text):
    """A flower's name, a customer's claim the shop never made, a denial of any such product,
    its own scheduling promise, a claim checked and denied (tune40's classes, in examples of my
    own)."""
    assert categories(text) == []


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("这款奶茶醉顺滑", "superlative"),
        ("转了的今年生意兴隆、全家平安", "induced_sharing"),
    ],
)
def test_the_twenty_eighth_round_rules_flag_the_claims_beside_them(text, category):
    assert set(categories(text)) == {category}


@pytest.mark.parametrize(
    "text",
    [
        "面膜编号No.1是补水款，No.2是修护款",
        "排队号No.1到No.30请到前台",
        "不是最好的，也不要紧",
    ],
)
def test_the_twenty_ninth_round_clean_uses_stay_clean(text):
    """No.1 opening a series of numbers, and 不要紧 after a denial (tune42's classes, in examples
    of my own)."""
    assert categories(text) == []


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("销量No.1，甩开No.2一大截", "superlative"),
        ("不是顶级的可可豆，我们家巧克力一颗都不用", "superlative"),
        ("这批茶叶只供高级领导", "authority"),
        ("跟着老师练三个月，包你会弹十首曲子", "absolute_guarantee"),
        ("痱子涂一晚就能xiao退", "medical_claim"),
    ],
)
def test_the_twenty_ninth_round_rules_flag_the_claims_beside_them(text, category):
    assert set(categories(text)) == {category}


@pytest.mark.parametrize(
    "text",
    [
        "收货地址只用于发货，绝对不会外传",
        "试穿后不满意的，这边保证给您换一双新的",
        "运输压坏的蛋，保证全额赔",
        "新闻联播里播过的那道红烧肉，我们也试着做了",
        "这条裤子整条最费工夫的是裤脚的手缝",
        "觉得好用就转给朋友，我们从不搞转发送礼",
    ],
)
def test_the_thirtieth_round_clean_uses_stay_clean(text):
    """Privacy said with 绝对, amends for the shop's own slip, a dish seen on television, the
    parts of one item, a reward that only a refused share action mentions (tune41's classes,
    in examples of my own)."""
    assert categories(text) == []


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("报名网课，保证100%学得会", "absolute_guarantee"),
        ("截图发朋🈶圈领试吃装", "induced_sharing"),
        ("老寒腿喝了就好", "medical_claim"),
        ("我们不搞转发抽奖，但转发朋友圈可以领红包", "induced_sharing"),
    ],
)
def test_the_thirtieth_round_rules_flag_the_claims_beside_them(text, category):
    assert set(categories(text)) == {category}


@pytest.mark.parametrize(
    "text",
    [
        "这款面霜是本店近半年价格最低的一次，历史价可以在详情页核对",
        "这双鞋上架以来最低价，就这三天",
        "评论区抽5位送围巾，和转发、点赞没有任何关系",
        "没关注公众号的学员，老师也会单独打电话通知",
    ],
)
def test_the_thirty_first_round_clean_uses_stay_clean(text):
    """The shop's own price history, a draw unrelated to sharing, the same notice had without
    following (tune43's classes, in examples of my own)."""
    assert categories(text) == []


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("这款行李箱撞不坏", "absolute_guarantee"),
        ("晒盆友圈送运费险", "induced_sharing"),
        ("关注公众号才能领券，没关注的也会被取消资格", "induced_sharing"),
    ],
)
def test_the_thirty_first_round_rules_flag_the_claims_beside_them(text, category):
    assert set(categories(text)) == {category}


@pytest.mark.parametrize(
    "text",
    [
        "身高170体重60的男生拍L码最合适",
        "这三款其中这款最轻",
    ],
)
def test_the_thirty_second_round_clean_uses_stay_clean(text):
    """The size to pick, and 其中 over the shop's own goods (tune44's classes, in examples of
    my own)."""
    assert categories(text) == []


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("回访的老客户其中九成都说这是最好喝的米酒", "superlative"),
        ("五天祛斑，告别暗沉", "absolute_guarantee"),
        ("树苗不成活全额赔偿", "absolute_guarantee"),
        ("看完转发保ping安", "induced_sharing"),
    ],
)
def test_the_thirty_second_round_rules_flag_the_claims_beside_them(text, category):
    assert set(categories(text)) == {category}


@pytest.mark.parametrize(
    "text",
    [
        "泡茶用八十度的水就好",
        "精油在掌心抹一抹就好",
        "新毛巾有点棉絮味，洗两次就会消失",
        "我最心疼的是那些熬夜赶作业的孩子",
        "最让店长着急的是快递停运",
        "开课满15天后不再退费",
        "关注公众号不需要您做任何事，推送也可以随时关闭",
        "没晒单的顾客正常参与抽奖",
    ],
)
def test_the_thirty_third_round_clean_uses_stay_clean(text):
    """Advice ending in 就好, a verb said twice, a smell that goes, the merchant's own worries,
    a refund deadline, following that asks nothing, the same draw without sharing (tune45's
    classes, in examples of my own)."""
    assert categories(text) == []


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("种下去包你产量翻一倍", "absolute_guarantee"),
        ("孩子不长高退训练营的钱", "absolute_guarantee"),
        ("涂完黑眼圈必淡", "absolute_guarantee"),
        ("孕期多喝能预防腿抽筋和妊娠高血压", "medical_claim"),
        ("发在朋友圈保留一天，到店送甜品", "induced_sharing"),
        ("喝一杯就好", "absolute_guarantee"),
    ],
)
def test_the_thirty_third_round_rules_flag_the_claims_beside_them(text, category):
    assert set(categories(text)) == {category}


@pytest.mark.parametrize(
    "text",
    [
        "没有哪款防晒能百分百挡住紫外线",
        "建议每天至少保证40分钟的阅读时间",
        "保证都是当季的新果",
        "为了万无一失，我们每单都拍视频",
        "快递送不到全额退款",
    ],
)
def test_the_thirty_fourth_round_clean_uses_stay_clean(text):
    """A denial of a percentage, advice on the customer's own habits, vouching for what the
    goods are, the aim of the shop's care, a delivery refund (tune46's classes, in examples of
    my own)."""
    assert categories(text) == []


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("无论什么土质，种下去都能高产", "absolute_guarantee"),
        ("谁穿都显瘦", "absolute_guarantee"),
        ("这批树苗卖了三年，没有一棵种死过", "absolute_guarantee"),
        ("用了这个祛斑霜，斑肯定会淡", "absolute_guarantee"),
        ("孩子穿上这双鞋肯定不会摔跤", "absolute_guarantee"),
        ("用一个月，同学肯定说你年轻了五岁", "absolute_guarantee"),
        ("吃了💯不上火", "absolute_guarantee"),
        ("认养一头羊，三年翻一番", "absolute_guarantee"),
        ("跟着练，至少能考90分", "absolute_guarantee"),
        ("洗一百次颜色都不会褪", "absolute_guarantee"),
        ("行李箱随便踩都不会坏", "absolute_guarantee"),
        ("保证每颗都是甜的", "absolute_guarantee"),
        ("保险柜让财物万无一失", "absolute_guarantee"),
        ("喝了就不会再三天两头感冒", "medical_claim"),
        ("果树三年bao结果", "absolute_guarantee"),
    ],
)
def test_the_thirty_fourth_round_rules_flag_the_claims_beside_them(text, category):
    assert set(categories(text)) == {category}


@pytest.mark.parametrize(
    "text",
    [
        "菜刀刀身100%不锈钢",
        "报名后保证两天内给您排好教练",
        "修表保证当天修好，修不好的不收钱",
        "这道菜的做法很简单，十分钟学会",
        "这款保险柜是国家标准里防盗等级最高的一级",
    ],
)
def test_the_thirty_fifth_round_clean_uses_stay_clean(text):
    """Composition, a job done by a time, a knack shared, the top of a standard's scale
    (tune47's classes, in examples of my own)."""
    assert categories(text) == []


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("跟着老师的方法，三天学会五十个单词", "absolute_guarantee"),
        ("这口樟木箱千年不腐", "absolute_guarantee"),
    ],
)
def test_the_thirty_fifth_round_rules_flag_the_claims_beside_them(text, category):
    assert set(categories(text)) == {category}


@pytest.mark.parametrize(
    "text",
    [
        "每人最duo限购两件",
        "bu敢保证明天一定到",
        "我们保证今晚全部打包好",
        "永久五金店开业二十年",
    ],
)
def test_the_thirty_sixth_round_clean_uses_stay_clean(text):
    """A limit and a refusal in pinyin, packing by tonight, a shop's name (tune49's classes,
    in examples of my own)."""
    assert categories(text) == []


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("这面膜敷一个月，痘印包你淡没了", "absolute_guarantee"),
        ("这条围巾一辈子不带起球的", "absolute_guarantee"),
        ("头发不长我退你钱", "absolute_guarantee"),
        ("跟着练半年，考级过八级妥妥的", "absolute_guarantee"),
        ("用完白发保准全都变黑", "absolute_guarantee"),
        ("宝宝吃一点害处都没有", "absolute_guarantee"),
        ("这个理财一点风险都没有", "absolute_guarantee"),
        ("吃了咱家的蜂蜜，孩子一冬天都不带咳嗽的", "medical_claim"),
        ("气虚的喝这个也给你补回来", "medical_claim"),
        ("湿疹的根儿给断了", "absolute_guarantee"),
        ("贴了这个，一个蚊子包都不会有", "absolute_guarantee"),
        ("喝了半年，血压都给你降下来", "medical_claim"),
        ("泡脚以后血管里的堵都给你通开", "medical_claim"),
        ("戴上就不会晒伤", "absolute_guarantee"),
        ("这双鞋谁穿谁合脚", "absolute_guarantee"),
        ("啥油渍都能给你擦掉", "absolute_guarantee"),
        ("用了没效果我倒贴你钱", "absolute_guarantee"),
    ],
)
def test_the_thirty_sixth_round_rules_flag_the_claims_beside_them(text, category):
    assert set(categories(text)) == {category}


def test_a_tail_joins_the_ranking_claim_before_it():
    """没有之一 finishes the claim before it in its sentence: one flag over both, whether a
    reviewer marks the tail or not; after a full stop it stands alone."""
    joined = default_screener().screen("全市最便宜的，没有之一").flags
    assert [(f.term, f.category) for f in joined] == [("最便宜的，没有之一", "superlative")]
    apart = default_screener().screen("全网最低价。没有之一").flags
    assert [f.term for f in apart] == ["最低价", "没有之一"]


@pytest.mark.parametrize(
    "text",
    [
        "直播间我不跟大家说什么三天变白",
        "泡茶用多少度的水最好？85度左右",
        "能降血糖吗？这是普通食品，不能治病，血糖高请看医生。",
        "系带时留两指宽最合适",
        "鸡蛋运输有破损，我们保证破一个赔一个",
        "克重不足按差额退款",
        "这批菜最好最后下锅",
        "价格最高不会高于原价",
        "最好的办法是先备份数据",
        "可以转给身边的朋友看看，觉得写得好就行",
    ],
)
def test_the_thirty_seventh_round_clean_uses_stay_clean(text):
    """Long copy's asides: a claim the merchant says it will not make, a question of use, a
    question answered no, a fit, breakage and weight made good, advice, a bound on a price,
    sharing with 得 only in 觉得 (tune48's classes, in examples of my own)."""
    assert categories(text) == []


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("有家长问孩子缺钙怎么办，我推荐我们家的钙片，专治缺钙，没有添加蔗糖", "medical_claim"),
        ("一个寒假提分40分", "absolute_guarantee"),
        ("多动症的孩子，练半年可以治愈", "medical_claim"),
        ("上完课记忆力立刻提升", "absolute_guarantee"),
        ("这把菜刀终身不生锈", "absolute_guarantee"),
        ("集🉐满20个赞送面膜", "induced_sharing"),
    ],
)
def test_the_thirty_seventh_round_rules_flag_the_claims_beside_them(text, category):
    assert set(categories(text)) == {category}


@pytest.mark.parametrize(
    "text",
    [
        "按医嘱吃药，别自己停药",
        "本品为保健食品（国食健注G2020），保健功能：有助于增强免疫力",
        "复诊请找主治医生",
    ],
)
def test_the_thirty_eighth_round_clean_uses_stay_clean(text):
    """Advice to follow the doctor, a registered 保健食品's approved function, a doctor's title
    (tune50's classes, in examples of my own)."""
    assert categories(text) == []


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("医用级面膜，术后修复期也能用", "medical_claim"),
        ("头顶秃的地方长出新头发", "medical_claim"),
        ("这款眼霜效果堪比打针", "medical_claim"),
        ("喝两周湿气全排出", "medical_claim"),
        ("糖友的福音", "medical_claim"),
        ("猫咪拉稀一包就好", "medical_claim"),
        ("湿疹宝宝穿了不再痒", "medical_claim"),
        ("近视治愈不是梦", "medical_claim"),
        ("登革热再也不怕", "medical_claim"),
        ("胎位不正睡一个月就能调正", "medical_claim"),
        ("乳腺结节喝它就散", "medical_claim"),
        ("从根上解决长痘", "absolute_guarantee"),
        ("顺产率100%", "absolute_guarantee"),
        ("我们的钙片专治缺钙", "medical_claim"),
        ("护腰带戴上，腰椎间盘突出不用做手术", "medical_claim"),
        ("弱视孩子上完课就能摘掉眼镜", "medical_claim"),
    ],
)
def test_the_thirty_eighth_round_rules_flag_the_claims_beside_them(text, category):
    assert set(categories(text)) == {category}


@pytest.mark.parametrize(
    "text",
    [
        "我们全面杜绝假货",
        "赠品与是否转发、是否点赞无关",
    ],
)
def test_the_thirty_ninth_round_clean_uses_stay_clean(text):
    """The shop's own conduct, and what a gift does not depend on, each one named with 是否
    (tune53's classes, in examples of my own)."""
    assert categories(text) == []


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("我们是国内有机茶领域的开创者", "superlative"),
        ("开创了国内冻干咖啡之先河", "superlative"),
        ("业内公认的标杆", "superlative"),
        ("百分之百实现美白效果", "absolute_guarantee"),
        ("全面杜绝漏奶", "absolute_guarantee"),
        ("坚持用，皮肤必将改善", "absolute_guarantee"),
        ("效果必然显现", "absolute_guarantee"),
        ("认养一棵树，年均回报12%", "absolute_guarantee"),
        ("每年稳定分红", "absolute_guarantee"),
        ("这款面霜适合所有肤质", "absolute_guarantee"),
        ("任何年龄均适用", "absolute_guarantee"),
        ("品质终身无忧", "absolute_guarantee"),
        ("全天零侧漏", "absolute_guarantee"),
        ("阻断病毒传播", "medical_claim"),
        ("修复受损细胞", "medical_claim"),
        ("晒图发布至朋友圈，返现10元", "induced_sharing"),
        ("与国家市场监督管理总局达成合作", "authority"),
    ],
)
def test_the_thirty_ninth_round_rules_flag_the_claims_beside_them(text, category):
    assert set(categories(text)) == {category}


@pytest.mark.parametrize(
    "text",
    [
        "抗菌面料检测：按GB/T 20944.3-2008，对金黄色葡萄球菌抑菌率≥99%。",
        "心得分享：怎么挑西瓜",
        "这款茶叫清肺茶，只是个名字",
        "除螨喷雾杀灭螨虫",
        "不用再去医院配镜，店里就能验光",
    ],
)
def test_the_fortieth_round_clean_uses_stay_clean(text):
    """A rate with its test, content the merchant shares, a tea's name, killing pests, an
    optician's service (tune52's classes, in examples of my own)."""
    assert categories(text) == []


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("矫正带戴一个月，脊柱侧wan拉直", "medical_claim"),
        ("上了我们的课，很多孩子完全康复", "medical_claim"),
        ("这款香皂能把真菌全部杀死", "medical_claim"),
        ("孕妇枕防止早产", "medical_claim"),
        ("放化疗病人必备的营养粉", "medical_claim"),
        ("比去医院做理疗省钱", "medical_claim"),
        ("比吃止痛药管用", "medical_claim"),
        ("儿科医院推荐的爽身粉", "medical_claim"),
        ("颈椎病患者告别手术", "medical_claim"),
        ("戴一个月听力就恢复了", "medical_claim"),
        ("近视度数每期降低50度", "medical_claim"),
        ("宝宝手足口病好得快", "medical_claim"),
        ("口水疹不再来", "medical_claim"),
        ("这个枕头治好了我二十年的鼻炎", "medical_claim"),
        ("喝了感帽好得快", "medical_claim"),
    ],
)
def test_the_fortieth_round_rules_flag_the_claims_beside_them(text, category):
    assert set(categories(text)) == {category}


@pytest.mark.parametrize(
    "text",
    [
        "分享店铺链接不会获得积分",
        "开封后一周内，这段时间口感最脆",
        "有几位朋友转来一条新闻，说央视新闻报道了奶粉新国标的征求意见稿",
        "会员资格终身有效，一年不消费降一级",
        "参观工厂时，最让我们放心的是金属检测仪",
        "挑桃子时，靠近果柄的部分最甜",
        "冷藏两三个小时口感最好",
        "每天至少保证一个小时的练习",
        "大部分学员三个月能听懂日常对话，但因人而异",
        "本店没有转发、集赞或关注的要求",
        "有人自称本店客服，要求转发链接到群里才能退款，这是诈骗",
        "这是我们在本市唯一的线下店",
        "维修时我们绝对不会查看您的照片",
        "我们保证说到做到",
        "店里四款茶怎么选：龙井三款里最贵；碧螺春价格最实惠",
    ],
)
def test_the_forty_first_round_clean_uses_stay_clean(text):
    """Long manuals' asides: no points for sharing, the best days, news of a rule, a
    membership's term, the visitors' reassurance, the best part of one fruit, a chilling time,
    practice advice, a hedged expectation, conditions not set, an impostor, the shop's only
    store, privacy, keeping its word, a list that keeps its scope past a semicolon (tune51's
    classes, in examples of my own)."""
    assert categories(text) == []


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("这款辅食不会有任何副作用", "absolute_guarantee"),
        ("好多领导都在yong这款茶杯", "authority"),
    ],
)
def test_the_forty_first_round_rules_flag_the_claims_beside_them(text, category):
    assert set(categories(text)) == {category}


@pytest.mark.parametrize(
    "text",
    [
        "一喝就停不下来",
        "王中王火腿肠切片",
        "村里拔河比赛我们合作社拿了冠军",
    ],
)
def test_the_forty_second_round_clean_uses_stay_clean(text):
    """A taste hard to stop at, a sausage's brand, a game people won (tune54's classes, in
    examples of my own)."""
    assert categories(text) == []


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("没有一款能打得过我们的面霜", "superlative"),
        ("别家的榨汁机都做不到我们这么细", "superlative"),
        ("比菜市场任何一家都便宜", "superlative"),
        ("我们的卤味谁都比不了", "superlative"),
        ("除了我们家，没人能把这个价做到这个品质", "superlative"),
        ("把同价位对手按在地上摩擦", "superlative"),
        ("全网找不到更低的价格", "superlative"),
        ("同价位吊打所有品牌", "superlative"),
        ("我们家卖的手机壳，是整个深圳最耐摔的", "superlative"),
        ("敢说全杭州弟一", "superlative"),
        ("扫地机里的T0", "superlative"),
        ("手感🔝级", "superlative"),
        ("跟着我们学的孩子都能考上重点高中", "absolute_guarantee"),
        ("我们的茶叶拿了品鉴会冠军", "superlative"),
    ],
)
def test_the_forty_second_round_rules_flag_the_claims_beside_them(text, category):
    assert set(categories(text)) == {category}


@pytest.mark.parametrize(
    "text",
    [
        "转发集赞这种玩法我们不参与",
        "转发抽奖、点赞送礼这些我们一概不做",
        "请大家不要转发扩散",
        "有宝子问转发能不能多抽一次？我们抽奖只看订单，不看转发。",
        "博主自发分享了我们的围巾，谢谢她",
        "冒充我们发集赞换苹果，这种活动我们一次都没搞过",
        "警惕转发领网课的链接，本机构从不通过转发、集赞送课",
        "凡是要求您转发、集赞的消息都不是本店发布的",
        "本店已整改，不再开展任何转发抽奖、集赞送礼活动",
        "您的退费申请已转给班主任",
        "邀请你关注我们的视频号",
        "欢迎关注我们，每周一推送本周优惠",
    ],
)
def test_the_forty_third_round_clean_uses_stay_clean(text):
    """Schemes refused or warned against in many wordings, asked not to share, shared of one's
    own accord, a form passed to a teacher, an invitation (tune56's classes, in examples of my
    own)."""
    assert categories(text) == []


@pytest.mark.parametrize(
    "text",
    [
        "直播间点赞破5万就上福袋",
        "转发朋友圈的宝宝加送一支",
        "邀好友关注店铺各得5元券",
        "领试用装：把这篇推文发到你所在的两个妈妈群，截图发我",
        "关注置顶公众号的宝妈，每月抽一罐奶粉",
        "转发这条，来年财源滚滚",
        "发一条视频号夸夸我们，截图给客服就包邮",
        "不关注就看不到答案解析",
        "関注本店才可以领取新人券",
        "不转发的姐妹，今年皮肤都不会好",
        "再没人转发我真的要关店了",
        "爱孩子的妈妈都会转发，你转了吗",
        "这条一定要转给班级群的家长",
        "打卡并每天分享到朋友圈，结营退学费",
        "点亮👍满99个下单立减",
        "获得20个zan就能抵10元",
        "点赞本条的朋友抽一位送火龙果",
        "关注店铺立减10元",
    ],
)
def test_the_forty_third_round_rules_flag_induced_sharing(text):
    assert set(categories(text)) == {"induced_sharing"}


@pytest.mark.parametrize(
    "text",
    [
        "防脱洗发水不能让已经秃的地方重新长出头发",
        "手气最佳的三位送挂面",
        "宝宝便秘，您问换这款奶粉是不是就好了，说实话不一定",
        "采摘前停药超过安全间隔期",
        "之前有人说要转发三个群才能领，那是误传",
    ],
)
def test_the_forty_fourth_round_clean_uses_stay_clean(text):
    """What the goods cannot do, a red-packet term, a customer's question answered 不一定, a
    pesticide interval, a rumour corrected (tune55's classes, in examples of my own)."""
    assert categories(text) == []


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("这种白酒以前只有领导才喝得到", "authority"),
        ("没关注店铺公众号的亲先关注，关注后才能参与抽奖", "induced_sharing"),
    ],
)
def test_the_forty_fourth_round_rules_flag_the_claims_beside_them(text, category):
    assert set(categories(text)) == {category}


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("吃了黑蒜，3高都降下来了", "medical_claim"),
        ("全国销量弟一的辣条", "superlative"),
        ("國宴専用蜜源", "authority"),
        ("老牌子，池名商标", "authority"),
        ("纷享到3个群并截图就能抽奖", "induced_sharing"),
        ("朋友圈jz满38个送酸奶", "induced_sharing"),
        ("医院専用款护臀膏", "medical_claim"),
        ("店庆转一转，福气满满", "induced_sharing"),
    ],
)
def test_the_forty_fifth_round_reads_disguised_spellings(text, category):
    """3 for 三 in 三高, 弟 after 量, the Japanese form 専, 池 for 驰, 纷 for 分, jz for 集赞
    (tune58's classes, in examples of my own)."""
    assert set(categories(text)) == {category}


def test_3_gao_stays_a_number_before_other_words():
    assert categories("餐具经3高温消毒") == []


@pytest.mark.parametrize(
    "text",
    [
        "这三款奶瓶里，玻璃那款最耐高温；硅胶那款最软",
        "喜欢就推荐给朋友，我们很感谢，但绝不强求",
        "要彻底解决还是得换接头",
        "医生的建议比任何护肤品都重要",
        "多开窗通风比什么除味产品都管用",
        "谁跟您保证能提多少分，您都要多留个心眼",
        "尺码对不上包退",
        "我们保证不推诿",
    ],
)
def test_the_forty_sixth_round_clean_uses_stay_clean(text):
    """A list kept in its range past a semicolon, not pressing anyone, what a real fix takes,
    advice above all goods, a warning against promises, a size exchange, the shop's conduct
    (tune59's classes, in examples of my own)."""
    assert categories(text) == []


@pytest.mark.parametrize(
    ("text", "category"),
    [
        (
            "【买家反馈】李女士回购了第三罐，她说：“喝过五六个牌子，你家这个是最好喝的。”",
            "superlative",
        ),
        ("不是全网最软的面料，我们不会拿来做", "superlative"),
        ("老一辈说吃鹅蛋去胎毒", "medical_claim"),
        ("孩子常吃少感冒", "medical_claim"),
        ("报名高阶班，100%升入重点中学", "absolute_guarantee"),
        ("央视推鉴的编程课", "authority"),
    ],
)
def test_the_forty_sixth_round_rules_flag_the_claims_beside_them(text, category):
    assert set(categories(text)) == {category}


@pytest.mark.parametrize(
    "text",
    [
        "查询步骤附在详情页最底部",
        "客服不会为了成交乱承诺效果",
        "坏单包赔的承诺继续有效",
        "这款卸妆油乳化很快，十秒左右就能变白",
        "皂不是万能的，头皮屑严重的还是要找原因，不要全指望它",
        "母乳是婴儿最好的食物",
        "量一下最常穿的那件衣服",
        "孩子不适应想退费，按协议退还未上课时",
        "设备调试确保大家都能正常连麦",
        "一年内接触不良可以免费换新",
        "驰名商标这几个字不能用在包装上",
        "用了再也不想手工捣泥了",
        "这支精华能改善闭口",
    ],
)
def test_the_forty_seventh_round_clean_uses_stay_clean(text):
    """Long pages' asides: a place on the page, promises refused, a policy still standing, an
    oil turning milky, a denial not undone by 不要, the formula notice, a habit, a customer's
    request, a live class's set-up, a defect replaced, the rule explained, a preference, a
    cosmetic concern (tune57's classes, in examples of my own)."""
    assert categories(text) == []


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("戴上能缓解疼痛", "medical_claim"),
        ("暑期班提分有保障", "absolute_guarantee"),
        ("护眼灯能缓解度数加深", "medical_claim"),
        ("不是顶级的原料我们不要", "superlative"),
    ],
)
def test_the_forty_seventh_round_rules_flag_the_claims_beside_them(text, category):
    assert set(categories(text)) == {category}


@pytest.mark.parametrize(
    "text",
    [
        "我们不搞转发抽奖，也不让大家集赞",
        "朋友圈在传“手工皂能治皮肤病”，这是谣言，我们的皂不治任何病",
        "这几个品种里，本地老品种香味最重",
        "验收没问题后24小时内原路退回押金",
        "这款头纱别的店拿不到授权，只在我们这里能租到",
        "谢谢大家点赞，这条返图是开店以来点赞最多的一条",
        "没有绝对打不开的锁",
        "用的是万能开孔器",
    ],
)
def test_the_forty_eighth_round_clean_uses_stay_clean(text):
    """Likes not asked for, a rumour denied, a local variety, a deposit returned, a licence
    held alone, thanks, no absolute lock, a tool's name (tune61's classes, in examples of my
    own)."""
    assert categories(text) == []


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("不是头道顶级的油，我们一滴都不往外卖", "superlative"),
        ("不是冠军款我们不上架", "superlative"),
        ("100%成为全场焦点", "absolute_guarantee"),
        ("孕妇穿着还能安胎", "medical_claim"),
        ("不转发这条，孩子的暑假就白过了", "induced_sharing"),
    ],
)
def test_the_forty_eighth_round_rules_flag_the_claims_beside_them(text, category):
    assert set(categories(text)) == {category}


@pytest.mark.parametrize(
    "text",
    [
        "谁跟你这么保证都别信",
        "蜂蜜是食品，网上说它能治咳嗽的别信",
        "我最直观的感受是干净",
        "婴幼儿纺织品的A类，甲醛限值要求最严",
        "西瓜红水分多，蒸着吃最合适",
        "以前这里是盐碱地，种什么都不长",
        "这片地有一部分是永久基本农田",
        "想要永远不褪色的牛仔裤？那种是不存在的",
        "王师傅说他最得意的活儿是一套三件套",
        "最低价？我们做不到",
        "小雨这周一次都没忘写单位",
        "写得最生动的那篇作文我在课上读了",
        "我们保证做到三件事：按时反馈、提前请假、七天到账",
        "用按摩仪之前，正在吃止痛药的先问一下医生",
        "送晚了是我们的错，保证不再出现这种情况",
        "老师会把课堂反馈发到家长群，退费七天内到账",
    ],
)
def test_the_forty_ninth_round_clean_uses_stay_clean(text):
    """Long posts' asides: warnings against promises and hearsay, impressions, a standard's
    strictness, a way to eat, barren land, a legal term, absolutes denied, pupils' work, the
    shop's undertakings, doctor's advice, the teacher's own posts (tune60's classes, in examples
    of my own)."""
    assert categories(text) == []
