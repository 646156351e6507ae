"""Decide each candidate by its context: the words around it, not the word alone.

The one-pass scan finds every place a banned word could be; most of the judgement is here.
A checker gets the normalised text and the candidate's span and returns the span to flag
(perhaps widened to the words that carry the claim) or None when the context makes the use
clean: 最 in 最近 or 最大功率2000W, 第一 in 第一次, 唯一 in 唯一不足的是,
国家级 in 国家级自然保护区, 绝对 in 绝对湿度, a word inside a customer's quoted question
or the merchant's own denial.

Every rule gets `framed` (quotation, denial, a reported question); a rule names its other
checkers in its `context` list. Each list below is one class of words the labelling standard
(../shared/AUDIT_STANDARD.md) describes; the lists were then widened from the misses of the
blind tuning sets (eval/README.md), never from the reported sets' lines.
"""

from __future__ import annotations

import re
from collections.abc import Callable

Span = tuple[int, int]
Checker = Callable[[str, int, int], Span | None]

CLAUSE_END = ",;:!?。\n\r、"
SENTENCE_END = ";!?。\n\r"
_CLAUSE = re.compile(f"[{CLAUSE_END}]")
_SENTENCE_MARK = re.compile(f"[{SENTENCE_END}]")
QUOTES = {"“": "”", "「": "」", "『": "』", "《": "》", '"': '"', "‘": "’", "'": "'"}

#: Where a scope word before 最, 唯一 or 首家 makes the claim one about the whole market.
MARKET_SCOPE = re.compile(
    "全网|全国|全球|全世界|全中国|世界|全省|全市|全县|全城|全平台|全行业|史上|有史以来|业内|行业|"
    "业界|市面上|市场上|同价位|同类|同行|同级|国内|天下|本地(?!老?品种)|本市|本省|全区|亚洲|[一-龥]{1,4}界|"
    "本区|本县|本镇|十里八村|同品类|同档次|同尺寸|同规格|同容量|同体积|省里|市里|县里|镇上|全镇|"
    "十里八乡|方圆|"
    # 全杭州第一, 整个深圳最耐摔: a city named as the market
    "(?:整个|全)(?:北京|上海|广州|深圳|杭州|成都|重庆|武汉|南京|西安|天津|苏州|长沙|郑州|青岛|"
    "[一-龥]{1,2}(?:市|省|县|区|城|镇))"
)
#: Scope inside the merchant's own range (我们家三款里, 店里): comparison, not a market claim.
OWN_RANGE = re.compile(
    # 店里 is the merchant's shop; 母婴店里 is every shop of a kind, the market
    "(?:(?<![婴妆药花卖营锁货饰菜果书鞋装品利体])店|本店|我们家|我家|咱家|自家|我们店|店铺|我们)"
    "[^,;:!?。]{0,10}?(?:里|中|内|之中|当中)|这几|那几|"
    "(?:我们店|本店|(?<![婴妆药花卖营锁货饰菜果书鞋装品利体])店里|我们家)[^,;:!?。]{0,8}?(?:卖得|卖的|销量|回购)|"
    # what it has sold itself: 我们卖过最火的, 我们卖得最好的一款
    "(?:我们|我家|咱家|本店)(?:家)?(?:卖过|卖得)|"
    "(?<![第几两三四五六七八九十0-9])[几两三四五六七八九十0-9]+(?:个)?(?:款|种|件|色|颜色|口味|味|样|个系列|支|瓶|双|套|档|个档|号|码|"
    "个型号|个尺码|个规格|个色号|个品种|品种)|系列(?:里|中)|色号|"
    # a set the merchant names itself: 这组里, 那箱当中, 其中
    "[这那](?:一|几)?(?:套|组|批|箱|盒|系列|堆|筐|篮|袋|份|拨)(?:里|中|当中|里面|之中)|"
    # 其中 of the goods, not of people asked (其中99%都说)
    "其中(?![^,;:!?。]{0,3}?(?:[0-9]+ ?%|[0-9一二两三四五六七八九十百千]+(?:位|人|名|个人|成)))|"
    # its own years: 我种了二十年里最甜的一季
    "(?:我|我们|自家|咱家)[^,;:!?。]{0,4}?[0-9一二两三四五六七八九十几]+年(?:里|来|中|以来)|往年|历年|"
    # since the shop opened, since the goods went on sale: 开店以来卖得最好的一款
    "(?:开店|开业|建店|开张|上架|上线|开售|开卖)以来|"
    # its own price history: 本店近一年价格最低的一次, 本店今年以来标价最低
    "(?:本店|我们店|店里|我们家|自家)[^,;:!?。]{0,4}?(?:近[一二两三半0-9]+(?:年|个月)|今年以来|今年|这一年)|"
    # the parts of one item: 腰线是整件最用心的地方
    "整(?:件|条|套|只|台|双|支|瓶|盒|张|本|块)"
)


def own_range(sentence: str) -> bool:
    """The sentence scopes a comparison to the merchant's own range; 其中 only when the
    sentence named no market before it (市面上的面霜很多，其中… stays a market claim)."""
    match = OWN_RANGE.search(sentence)
    if match is None:
        return False
    return match.group() != "其中" or not MARKET_SCOPE.search(sentence, 0, match.start())


DENIALS = re.compile(
    "(?:不是|并非|并不是|算不上|谈不上|称不上|不敢|不说|不叫|不能说|不会说|不宣传|不搞|不做|从不|"
    "从来不|从来没|没这么|不承诺|不保证|不能保证|没法保证|无法保证|不具有|不具备|不能代替|不可代替|代替|"
    "不能|无法|不属于|不宣称|不存在|不教|不会教|拒绝|禁止|严禁|不得|不允许|无需|不需要|不用(?!再)|没有哪|"
    "别信|别相信|不要相信|不要信|别听|不要听|别被|别把|不要把|勿把|不能把|不要拿|别拿|不能拿|勿拿|不可拿|不可以|不可能|没有|并没有|不含|不会(?:用|搞|做|让|要求|发)|不要求|不强制|不送|不发|不看|不计|不统计|不让(?:大家|你|您)?)"
    "[^,;:!?。的]{0,4}$"
)
#: 与转发次数无关: what a reward or fee does not depend on (after 与, 跟 or 和).
_UNRELATED = re.compile(
    "[^,;:!?。]{0,10}?(?:无关|没关系|没有关系|没有任何关系|没任何关系|毫无关系|不挂钩)"
)
#: 与转发、分享无关: the list of what a reward does not depend on.
_ALONGSIDE = re.compile(
    "(?:与|跟|和)(?:(?:是否|有没有|有无)?[一-龥]{1,4}、)*(?:是否|有没有|有无)?$"
)
#: 不 right before a guarantee word (不包过, 从不保本) refuses it.
_BARE_DENIAL = re.compile("(?:不|从不|绝不|决不|不会|不敢|不能)$")
#: A denial that still asserts: 不是第一的我们不进货.
ASSERTED_AFTER = re.compile(
    "^[^,;:!?。]{0,3}的[^,;:!?。]{0,6}(?:不|坚决不|绝不|从不|一律不)|"
    # 不是今年最火的款，我们压根不上架
    "^[^,;:!?。]{0,3}的[^;!?。]{0,16}?(?:不|坚决不|绝不|从不|一律不|压根不|根本不)会?"
    "(?:上架|进货|卖|收|要(?=[,;。!?的了]|$)|加|用|摘|采|拿来|做|往外卖)|"
    # 不是冠军款我们不上架
    "^[^,;:!?。]{0,3}(?:我们|本店|咱)(?:不|坚决不|一律不|从不|绝不)会?(?:上架|进货|卖|收|用)|"
    # 不是最强的我敢拿出来卖吗?: a rhetorical question asserting it
    "^[^,;:!?。]{0,3}的,?[^;!?。]{0,10}?敢[^;!?。]{0,10}?[吗?]"
)
_CANNOT_MAKE = re.compile("(?:不能|不会|没法|无法|做不到)让[^,;:!?。]{0,10}$")
#: 没有分享助力、集赞或关注公众号的要求: a list of conditions the shop says it does not set.
_NO_SUCH_BEFORE = re.compile("(?:没有|无|不设|不需要|无需)[^,;:!?。]{0,12}$")
_AS_A_RULE = re.compile("[^。!?;]{0,14}?的?(?:要求|门槛|规则|条件)")
#: Refusals that cover a whole list: 我们不搞转发抽奖、集赞送礼.
STRONG_DENIALS = re.compile(
    "(?:不搞|从不搞|从来不搞|不做|不参与|拒绝|禁止|严禁|杜绝|不需要|无需|不用|不必|不设|不设置|没有任何|无任何|不签|"
    "没有哪|"
    "不会(?:以任何[一-龥]{1,3})?要求|从不|从未|从来不|从来没|不再(?:开展|搞|做|举办)|不开展|停止开展|停止)"
    "[^,;:!?。]{0,14}$"
)
#: Refusing to say a thing covers the whole proposition, 的 included: 我们不说自己的橙子最甜.
SPEECH_DENIALS = re.compile(
    "(?:不说|不敢说|不会说|不能说|不好说|不敢讲|不讲|不吹|不敢吹|不夸|不敢夸|不号称|不标榜|不自称|"
    "不是说|并不是说|不代表|并不代表|不等于|并不等于|不意味着|并不意味着|"
    "不(?:跟|和|与)[^,;:!?。]{0,6}比|别听|不要听|"
    # 我不跟大家说什么一抹就白
    "不(?:跟|和|给|对|向)(?:大家|你们|您|你|各位)(?:说|讲|吹|承诺))[^,;:!?。]{0,10}$"
)
#: A customer's question, or what other shops say of themselves (别家说自己是第一).
REPORTED = re.compile(
    "问(?!题)|咨询|(?:您|你)(?:说|提到|讲|看到)的|(?:别家|别人家|同行|人家|有人|有网友|(?:有的|有些|不少|很多|某些|一些)"
    "(?:店|店铺|商家|卖家|机构|品牌|厂家))[^,;:!?。]{0,4}?(?:说|号称|自称|宣传|承诺)"
)
#: Someone else's words the merchant warns about (有人冒充我们说转发就送…, 那不是我们发的).
IMPOSTOR = re.compile(
    "冒充|假冒|仿冒|自称|骗子|诈骗|谣言|谣传|网传|传言|山寨|名义|警惕|谨防|提防|凡是要求|凡是让|有人说|有人$"
)
IMPOSTOR_DENIED = re.compile(
    "不是我们|不是本店|不是官方|非官方|与本店无关|与我们无关|不要相信|不要上当|别上当|别信|勿信|请勿相信|谨防|"
    "是诈骗|是骗局|是骗子|是误传|误传|谣言|不实|(?:都|从来|从)没(?:有)?(?:发|搞|做|办)过|"
    "从不|从来不|从没|从未|没有(?:发|搞|做)过|不会(?:发|搞|做)|"
    "(?:请|千万)?(?:不要|别|勿|切勿)(?:点|点击|点开|打开|扫|扫码|理会|转账|付款|填|登记|回复)"
)
#: What a customer said, and the merchant's refusal to promise it.
_CUSTOMER_SAID = re.compile("有(?:粉丝|顾客|客户|买家|宝妈|家长|学员|网友)(?:反馈|说)")
_EFFECT_DISCLAIMED = re.compile(
    "不承诺|不保证|因人而异|不敢保证|不代表|仅代表个人|没这样说|没这么说|不这么说|没说过|不这样说"
)
#: 有人问能不能治鼻炎: the customer's question, not the merchant's claim.
QUESTION_FORM = re.compile(
    "能不能|是不是|有没有|可不可以|会不会|能否|是否|可以不可以|要不要|需不需要|哪(?:款|个|种|家|件|一|样)"
)
LATER_DENIAL = re.compile(
    "不一定|未必|不这么|不敢|不做|不是|其实不|并不|没有|不能|不会|说不好|不好说|澄清|不搞|不承诺|不保证|"
    "不宣传|没这么|不比较|不对比|不比这|不比那|不去比|不跟着|不跟风|做不到|不这样|不用|不需要|用不着"
)
#: 有人问哪家最便宜，当然是我们: the merchant answering its reported question with itself.
SELF_ANSWER = re.compile(
    "(?:当然|肯定|必须|自然|那就|就)是(?:我们|本店|咱家|我家|小店|这款|这家)|非[^,;:!?。]{0,6}莫属"
)
_ASKED_AND_DENIED = re.compile(
    "^[^,;:!?。]{0,8}[?？][^,;:!?。]{0,2}(?:不是|并不是|没有|不会|不能)|"
    # 土蜂蜜治胃病？这种话我们不说: a question the merchant refuses to answer yes
    "^[^,;:!?。]{0,8}[?？][^。!?]{0,12}?(?:我们不说|不这么说|不敢说|不能说|没有资格|不敢这么|不会这么|"
    "不这样说|不能这么|这种话)|"
    # 想要永远不褪色的牛仔裤？那种是不存在的; 最低价？我们做不到
    "^[^,;:!?。]{0,8}[?？][^。!?]{0,6}?(?:不存在|没有这种|没这种|做不到)|"
    # 能治咳嗽吗？蜂蜜是普通食品，不能治病: asked, then answered no in the next clause
    "^[^,;:!?。]{0,8}[?？][^。!?]{0,16}?(?:不能|不可以|无法|没法)(?:治|治疗|治病|代替|替代)"
)
#: Explaining the rule: 任何机构承诺包过都违反广告法.
RULE_EXPLAINED = re.compile("违反广告法|违反《广告法》|违反规定|违法|违规|不合规|属于违禁|是违禁")
#: 集赞活动已经结束了，以后也不会再搞: an offer that is over, announced as such.
ENDED_AFTER = re.compile(
    "^[^。!?;\n]{0,8}?(?:已经结束|已结束|已经取消|已取消|已经停止|已停止|不会再(?:搞|做|办)|不再(?:搞|做|办))"
)
#: 说是最好的那是吹牛: the merchant dismissing the words it just quoted.
DISMISSED_AFTER = re.compile(
    "^[^,;:!?。]{0,8}?[,;]?(?:那|这)(?:就)?(?:是|都是|纯属|叫)?(?:吹牛|骗人|忽悠|瞎说|胡说|乱说|夸大|"
    "假的|虚假宣传)"
)
#: 有商家找我们合作集赞送礼，我们拒绝了: the merchant turning down what it just named.
TURNED_DOWN_AFTER = re.compile(
    "^[^。!?;\n]{0,10}?(?:我们|本店|咱们|咱家|我家|小店)(?:从来|一直|也|都|当时|当然)?"
    "(?:没(?:有)?(?:弄|搞|做|办|答应|同意|参与|接)|拒绝了|婉拒了|回绝了|"
    # 转发抽奖这类活动我们一律不做
    "(?:一律|从来|从不|坚决|绝)(?:不做|不搞|不办|不参与|不参加))|"
    # 有粉丝建议我们搞个转发抽奖，想了想还是算了
    "^[^。!?;\n]{0,14}?(?:还是算了|就算了|没有采纳|没采纳)"
)
#: 谁承诺包过谁就是骗你: whoever says it is lying, the merchant's warning.
_WHOEVER_SAYS = re.compile("谁(?:承诺|说|敢说|保证|号称|宣传|跟你说|给你说)[^,;:!?。]{0,4}$")
_IS_LYING = re.compile("[^,;:!?。]{0,4}?谁(?:就)?(?:是|在)?(?:骗|忽悠|吹|瞎说|胡说|坑|不靠谱)")
#: 谁跟您保证能提多少分，您都要多留个心眼: the customer warned against such promises.
_WHO_TELLS_YOU = re.compile("谁(?:跟|和|给|对)(?:你|您)(?:这么|这样)?$")
_BE_WARY = re.compile("留个心眼|留心眼|多留心|别信|不要信|小心|警惕|当心")
DENIED_AFTER = re.compile(
    "^[^。!?;\n]{0,10}?(?:这种|这样的|这类|这些|这个|这几个)?(?:说法|词|用语|宣传|字眼|字)"
    "(?:是|都是|属于)?(?:违规|违法|违禁|不允许|不合规|虚假|夸大|不能用)|"
    # 网上说它能治咳嗽的别信: hearsay the merchant tells you not to believe
    "^[^。!?;]{0,4}?的?(?:别信|不要信|不可信|不靠谱|是谣言)|"
    # 包过这种话我们不敢承诺: the words named, then refused
    "^(?:这种话|这样的话|这话|这种承诺|这样的承诺|这个承诺)[^。!?;]{0,6}?"
    "(?:不敢|不能|不会|不说|不承诺|不做|没法)|"
    # 转发集赞这种玩法我们不参与, 转发抽奖、点赞送礼这些我们一概不做
    "^[^。!?;]{0,14}?(?:这种|这类|这些|此类)(?:玩法|活动|做法|事)?[^。!?;]{0,4}?(?:我们|本店)?"
    "(?:一概|一律|从来|从|都)?不(?:参与|做|搞|参加|承诺)"
)


LOOK_BACK = 60  # characters: no clause a checker reads is longer


def _back_to(text: str, start: int, marks: str, look_back: int = LOOK_BACK) -> str:
    floor = max(0, start - look_back)
    for index in range(start - 1, floor - 1, -1):
        if text[index] in marks:
            return text[index + 1 : start]
    return text[floor:start]


def clause_before(text: str, start: int) -> str:
    return _back_to(text, start, CLAUSE_END)


def sentence_before(text: str, start: int) -> str:
    return _back_to(text, start, SENTENCE_END)


def sentence_around(text: str, start: int, end: int) -> str:
    """The sentence the span [start, end) stands in (back at most LOOK_BACK characters)."""
    stop = _SENTENCE_MARK.search(text, end)
    return sentence_before(text, start) + text[start : stop.start() if stop else len(text)]


def clause_around(text: str, start: int, end: int) -> str:
    return clause_before(text, start) + text[start:end] + clause_after(text, end)


def clause_after(text: str, end: int) -> str:
    match = _CLAUSE.search(text, end)
    return text[end : match.start() if match else len(text)]


_ANY_QUOTE = re.compile("[" + "".join(QUOTES) + "]")


def _inside_quote(text: str, start: int) -> int | None:
    """Where the quotation around `start` opens, if `start` is inside one."""
    if not _ANY_QUOTE.search(text, 0, start):
        return None  # most copy: no quotation mark before the word, nothing to walk through
    stack: list[tuple[str, int]] = []
    for index in range(start):
        char = text[index]
        if stack and char == QUOTES[stack[-1][0]]:
            stack.pop()
        elif char in QUOTES:
            stack.append((char, index))
    return stack[-1][1] if stack else None


#: 老顾客都说“这是吃过最好吃的枣”: customers' praise the merchant repeats to sell.
_PRAISED_BY = re.compile(
    "(?:顾客|客户|客人|买家|宝妈|家长|学员|粉丝|回头客|老客|姐妹们|吃过的|用过的|穿过的)"
    "[^,;:!?。]{0,3}?(?:说|夸|评价|反馈|留言)$"
)


_QUOTED_BUYER = re.compile("买家|顾客|客户|学员|宝妈|原话|评价|反馈|好评")


def _testimonial(text: str, opened: int) -> bool:
    """A customer's words the merchant quotes to sell (买家秀：“…最舒服…”) stay its claim;
    a quoted question (有顾客说“这是最好的吗”) stays a question."""
    head = text[:opened].rstrip()
    if head.endswith(":") or (head.endswith("】") and _QUOTED_BUYER.search(head[-12:])):
        return True  # 买家秀：“…”, 【买家原话】“…”
    closed = text.find(QUOTES[text[opened]], opened + 1)
    after = closed + 1 if closed >= 0 else len(text)
    if _PRAISED_BY.search(text[max(0, opened - 12) : opened]) \
            and not re.search("[?吗呢]", text[opened + 1 : after]) \
            and not LATER_DENIAL.search(text, after, after + 30):
        return True
    return closed >= 0 and text[closed + 1 : closed + 2] in ("—", "-", "~")


def _still_reported(text: str, start: int, end: int) -> bool:
    """The words stand in the reported clause itself or in a question: 好多宝妈问积食怎么办，
    给大家推荐…专治积食 is the merchant's own answer, not the question it reports."""
    if REPORTED.search(clause_before(text, start)):
        return True
    mark = _SENTENCE_MARK.search(text, end)
    if mark is None:
        return False
    return mark.group() in "?？" or text[mark.start() - 1 : mark.start()] in ("吗", "呢")


def framed(text: str, start: int, end: int) -> bool:
    """True when the words are quoted, denied or reported rather than claimed."""
    opened = _inside_quote(text, start)
    if opened is not None and not _testimonial(text, opened):
        return True
    before = sentence_before(text, start)
    if (
        DENIALS.search(before) or STRONG_DENIALS.search(before) or SPEECH_DENIALS.search(before)
    ) and not ASSERTED_AFTER.search(text[end:]):
        return True
    if IMPOSTOR.search(before) and IMPOSTOR_DENIED.search(text, end, end + 40):
        return True
    if _CUSTOMER_SAID.search(before) and _EFFECT_DISCLAIMED.search(text, end, end + 30):
        return True  # 有粉丝说痘痘全没了，这种效果我们不承诺: reported, then disclaimed
    if REPORTED.search(before) and _still_reported(text, start, end) and (
        LATER_DENIAL.search(text, end, end + 30) or QUESTION_FORM.search(clause_before(text, start))
    ) and not SELF_ANSWER.search(text, end, end + 20):
        return True
    if text.startswith("没有绝对", start):
        return True  # 没有绝对打不开的锁: no such thing, the absolute denied
    if text[start] in "包保稳集治" and _BARE_DENIAL.search(before):
        return True  # 我们不包过, 不保本, 不集赞: the guarantee or the condition refused
    if _CANNOT_MAKE.search(before):
        return True  # 不能让已经秃的地方重新长出头发: what the goods cannot do
    if _NO_SUCH_BEFORE.search(before) and _AS_A_RULE.match(text, end):
        return True  # 本次活动没有分享助力、集赞或关注公众号的要求
    if _ALONGSIDE.search(before) and _UNRELATED.match(text, end):
        return True  # 与转发和拉人数量无关: what it does not depend on
    if before.endswith("关于") and ":" in text[end : end + 4]:
        return True  # 关于转发抽奖：…: the heading of a notice about it
    if _WHO_TELLS_YOU.search(before) and _BE_WARY.search(text, start, end + 30):
        return True  # 谁跟您保证能提多少分，您都要多留个心眼
    if _WHOEVER_SAYS.search(before) and _IS_LYING.match(text, end):
        return True  # 谁承诺包过谁就是骗你: the merchant warning against such promises
    if _ASKED_AND_DENIED.match(text[end:]):
        return True  # 冠军同款？不是的: a question the merchant answers no
    if RULE_EXPLAINED.search(clause_after(text, end) + text[end : end + 24].split("。")[0]):
        return True
    rest = text[end:]
    return bool(
        DENIED_AFTER.search(rest) or DISMISSED_AFTER.match(rest) or ENDED_AFTER.match(rest)
        or TURNED_DOWN_AFTER.match(rest)
    )


# --- superlatives -----------------------------------------------------------------------------

_ZUI_CLEAN = re.compile(
    "近|后|初|终|早|晚|迟|末|先|少|多(?!人)|新(?!鲜|潮)|关注|关心|在意|在乎|感谢|感激|惊喜|满足|"
    "佩服|心疼|怀念|擅长|拿手|放心不下|操心|牵挂|惦记|"
    # 最冷那几天: the weather, not the goods
    "(?:冷|热|闷|潮)的?(?:那几天|那几个月|几天|时候|季节|月份|日子|天)|"
    "珍惜|珍视|看重|有成就感|遗憾|难过|"
    # 最多人问的, 最多人提的是小规格: what customers ask for, not how many buy
    "多人(?:问|提|说|反馈|建议|留言|咨询|吐槽|想要|投票|催|要求)|"
    "感动|开心|高兴|喜欢|怕|担心|希望|期待|难忘|骄傲|自豪|欣慰|想|重要|关键|主要|常见|基本|起码|"
    "容易|需要|值得注意|注意|担忧|头疼|麻烦|常用|常问|常被问|频繁|迟|晚|小起订|低消费|低起|低限度|"
    "常(?:犯|错|出错|遇到|碰到|忽略|忘|搞错|踩|见|被|问|听到|待|去|在|玩|睡|躺|穿|用|吃|喝|买|戴|看)|难(?!得|忘|求|找|寻|买|抢)|易错|易忽略|"
    "大限度|大程度|大化|好不要|好别|终|"
    # 我最直观的感受是干净: the speaker's own impression
    "直观的(?:感受|感觉|印象)|"
    # a place on the page or the shelf: 详情页最底部, 最上面一层
    "底部|底层|下方|下面|上面|上方|顶部|顶端|左边|右边|左侧|右侧|里面|外面|外层|里层|前面|前排|后排"
)
_ZUI_MEASURE = re.compile(
    "(?:高|低|大|小|长|短|快|慢|重|轻|远|宽|窄|深|浅|厚|薄|久|辣|北|南|东|西|上|下(?!饭|酒)|前|里|外|粗(?!犷)|"
    "细(?!腻|致|滑|嫩|软)|"
    "老(?!牌|字号|店|品牌|味道|手艺))"
    "(?![薄巧便]|强(?!度))"
)
#: 我见过的最好的作文课: the best of all the speaker has known, a ranking.
_EXPERIENCED = re.compile("(?:见|吃|用|遇|碰|买|喝|穿|上|听|试|去)(?:过|到)的$")
_GRADED_VERB = "用吃喝看穿玩听闻卖戴抹涂擦睡坐开拍学做住"
_WORD_ENDS = "的了吗啦呀哦么呢" + CLAUSE_END + "".join(QUOTES.values())


#: 最好 before one of these nouns grades it (最好品质); before anything else it is advice.
_GRADED_NOUN = re.compile(
    "^(?:品质|口感|效果|服务|颜值|音质|画质|性价比|体验|味道|质量|用料|面料|材料|手感|工艺|品牌|产品|"
    "礼物|单品|搭档|选择[,;:!?。]|选择$|老师|课程|店|商家|卖家|货|东西)"
)


def _zuihao_grades(rest: str) -> bool:
    """最好 grades (最好的, 口碑最好, 最好吃, 最好品质) unless it means "had better" (最好冷藏,
    最好手洗, 最好30分钟以上): what follows decides."""
    if not rest or rest[0] in _WORD_ENDS or rest[0] == "最":
        return True
    if rest[0] in _GRADED_VERB:
        return len(rest) == 1 or rest[1] in _WORD_ENDS  # 最好吃的, but 最好吃完再睡
    return bool(_GRADED_NOUN.match(rest))


def _graded_verb(rest: str) -> bool:
    """最好吃的, 最好用！: 最 grading an adjective made of 好 and a verb, whatever precedes."""
    return len(rest) > 1 and rest[0] in _GRADED_VERB and rest[1] in _WORD_ENDS


_ZUIJIA_TIP = re.compile(
    "^(?:饮用|食用|赏味|品尝|使用|保存|储存|观赏|播种|采摘|冲泡|时间|时机|时期|期|温度|位置|角度|"
    "距离|方式|方法|效果|状态|搭配|尺寸|季节|口感期|上市|入手时间|浓度|解冻|烹饪|做法|吃法|喝法|用法|"
    "观看|收看|阅读|收听|"
    "配比|比例|水温|火候)"
)


def _widened(text: str, start: int, end: int, extra: int = 3) -> Span:
    """The span with the next few characters of the same clause (最 + the word it grades)."""
    stop = end
    while stop < len(text) and stop < end + extra and text[stop] not in CLAUSE_END + "的" \
            and text[stop] not in QUOTES:
        stop += 1
    return start, max(stop, end)


_GRADE_AFTER = re.compile(
    "^(?:品质|级|端|档次|标准|水平|水准|规格|工艺|配置|牌|品牌|性价比|颜值|口碑)"
)
_PRICE_BEFORE = re.compile(
    "(?:价格|价|售价|价钱|报价|性价比|折扣|优惠|口碑|人气|销量|评分|好评率|回购率)(?:也|还|都|还是|也是|就是)?$"
)
#: Words that bound the time a tip is about: 三天内吃完, 开封后, 趁热.
_WITHIN = "内|以内|之内|之前|以前|开封后|吃完|喝完|用完"
#: A clause that sets a time or a step before 最好 closes it: a tip.
_TIP_BEFORE = re.compile(
    f"(?:{_WITHIN}|(?:热|加热|复热|冲泡|饮用|食用|烘烤|烤|煮|蒸|炖|泡)时)[^,;:!?。]{{0,8}}$"
)
_TIP_TIME = re.compile(f"(?:{_WITHIN}|趁)")
#: 最适合的存放温度: the best way to keep or use it, a tip.
_ZUI_TIP_NOUN = re.compile(
    "^[一-龥]{0,2}的(?:[一-龥]{0,3}?(?:温度|湿度|水温|时间|时候|时机|时段|季节|期|浓度|比例|用量|"
    "火候|角度|距离|高度|深度)|(?:存放|保存|储存|饮用|食用|使用|冲泡)?(?:方法|方式)|办法|做法|吃法|用法)"
)
#: 最合适 closing a tip whose clause names a setting (水温85度左右最合适, 保持在20%-80%最合适).
_FITS = re.compile(f"^(?:合适|适宜|适合|理想|恰当)(?:不过)?(?:[{CLAUSE_END}了的啦]|$)")
_SETTING = re.compile(
    "(?:[0-9一二两三四五六七八九十几半]+个?(?:度|℃|%|分钟|小时|天|周|克|毫升|ml|g|cm|厘米|瓦|档|成|遍|指宽|指|横指)"
    "|左右|之间|以内)[^,;:!?。]{0,3}$|保持|控制在|调到|调至|调在|设置|设在|维持在|放在|"
    # the size to pick: 165cm的亲选m码最合适
    "(?:选|拍|穿|买|要)[^,;:!?。]{0,3}?(?:码|号|尺码|码数)$"
)
#: 这个季节最适合种菠菜: the season or hour that suits a task, not the goods ranked.
_SEASONS = "春天|夏天|秋天|冬天|春季|夏季|秋季|冬季"
_HOURS = "早上|上午|中午|下午|晚上|睡前|饭后|饭前"
_TIMING_BEFORE = re.compile(
    f"(?:季节|时候|时节|月份|时期|节气|{_SEASONS}|秋冬|春夏|初春|深秋|盛夏|隆冬|入秋|入冬|换季|{_HOURS}|"
    "晴天|阴天|[0-9一二三四五六七八九十]+月(?:份)?)[^,;:!?。]{0,2}$"
)
_TIMING_TASK = re.compile(f"^(?:适合|适宜)[^{CLAUSE_END}的]{{1,6}}(?:[{CLAUSE_END}]|$)")
_FITS_TIME = re.compile(
    f"^(?:适合|适宜)(?:在)?(?:季节|{_SEASONS}|{_HOURS}|换季|[0-9一二三四五六七八九十]+月)"
)
_GOODS_NAMED = re.compile("我们|我家|咱家|本店|这款|这个|这种|这套|这件|这支|这瓶")
#: 没有最好的，只有最适合自己的: the saying denies both halves.
_NO_BEST_ONLY = re.compile("没有最[^,;:!?。]{0,8}[,;]只有$")
#: 最推荐的是第二套: the choice among the options the merchant itself laid out.
_OPTION_ANSWER = re.compile(
    "^[^,;:!?。]{0,6}?的?(?:是|选|就是|还是|要数)(?:第[一二三四五六七八九十0-9]+|[a-d])"
    "(?:套|款|个|种|档|版|号|组|方案|个方案|种方案|型|本|册|集|件|期|季|双|只|瓶|盒|支)"
)
#: 最甜的是靠山顶那片的: which part of the merchant's own field or trees is best.
_OWN_PART_ANSWER = re.compile(
    "^[^,;:!?。]{0,6}?的?(?:是|要数|得数|当属|就是)[^,;:!?。]{0,8}?"
    "(?:那片|这片|那几棵|这几棵|那棵|这棵|那块地|这块地|那一片|这一片|那一垄|那几垄|树顶|树梢|"
    "山顶|坡上|向阳|朝南|阳面|外圈)"
)
_MODE_AFTER = re.compile("模式|档|挡|一档|一挡")
_OWN_FEELING = re.compile(
    "满意|喜欢|爱|期待|骄傲|自豪|舍不得|放不下|怕|担心|心疼|在意|在乎|看重|得意"
)
_SPEAKER = re.compile("我们|我|自己|小编|店长|店主|老板|掌柜|店员|客服|主播|她|他|模特")
#: 最好的朋友: the customer's people, not the goods.
_PEOPLE = re.compile("^的(?:朋友|闺蜜|兄弟|哥们|姐妹|伙伴|同学|室友|家人)")
#: 我们家最便宜的是基础款: which item of the merchant's own range, scope explicit.
_OWN_SUBJECT = re.compile("(?:我们家|我家|咱家|本店|店里|我们店|小店|我们)的?$")
_PICKS_ITEM = re.compile("^[一-龥]{1,3}的(?:一款|一种|一个)?(?:是|就是|要数|当属|得数)")
_FEELING = re.compile(
    "(?:让|令|叫)(?:我们|我|人|大家|店长|小编)(?:感动|开心|高兴|欣慰|骄傲|难忘|头疼|担心|暖心|惊喜|意外|"
    "印象深|满意|难受|难过|心疼|着急|揪心|遗憾|后悔|害怕|焦虑|失望)|(?:打动|触动)(?:我|我们|人)|"
    # 最让我们放心的是检针机: the speakers' own reassurance on a visit
    "(?:让|令)(?:我们|我|店长|小编)(?:放心|安心|惊讶|震撼|佩服|好奇)"
)


#: 长江是中国最长的河, 全球最大的沙漠: a fact of nature or geography, not a ranking of goods.
_NATURE_FACT = re.compile(
    "^(?:高|低|长|短|大|小|深|浅|宽|冷|热|干|古老|老)的?(?:山峰|峰|山|山脉|河|河流|江|湖|湖泊|海|海洋|"
    "大洋|岛|岛屿|沙漠|高原|平原|盆地|瀑布|峡谷|冰川|火山|城市|国家|行星|恒星|动物|植物|树|鸟|湖泊)"
)
#: 国标允许标注的最高档, 法规规定的最低含量: the end of a scale a rule or standard sets.
_SCALE_LIMIT = re.compile(
    "(?:允许|规定|准许|限定|限制|要求|可以|能)(?:标注|标示|标识|标|使用|添加|申报|评定|达到)?的?$|"
    # 按国内规定最高只能标: the rule named before its limit
    "(?:按|根据|依照)[^,;:!?。]{0,6}?(?:规定|标准|要求)$"
)
_SCALE_END = re.compile("^(?:高|低|大|小)(?:档|级|等级|值|限|限值|标准|含量|浓度|倍数|一档|一级)")
_LIMIT_SET = re.compile("^(?:高|低|多|少)(?:只能|只可|可以|能|可)(?:标|标注|写|印|到|达)")
_SCALE_NAMED = re.compile(
    "(?:标识|标准|标注|分级|评级|等级|级别)(?:里|中|当中|体系里)(?:[^,;:!?。]{0,4}?(?:等级|级别))?$"
)
_SCALE_TOP = re.compile("^(?:高|低)的?[一-龥]{0,2}?(?:等级|档|级|标注)")
#: 新手爸爸最清楚, 过来人最有体会: people who know best, the customer's own experience.
_KNOWS = re.compile("^(?:懂|了解|清楚|明白|知道|有体会|有感触|有发言权)")
_PEOPLE_BEFORE = re.compile(
    "(?:宝妈|妈妈|妈们|家长|爸爸|父母|老人|过来人|孕妈|新手妈妈|二胎妈妈|老师|学生|孩子|大家|"
    "谁|打工人|上班族|学生党|吃货|老农|果农|茶农)(?:们)?(?:都|才|自己)?$"
)
#: 刚出炉的时候最香: when it tastes best, a timing tip.
_WHEN_BEFORE = re.compile(
    "(?:的时候|时候|的时|之时|那几天|那会儿|的那一刻|(?:了|后|以后|之后)再(?:吃|喝|用|泡|煮|炖|蒸|切)|"
    "(?:软|熟|透|凉|冰|化|放凉|回软|变软|出沙)了|当天(?:煮|吃|喝|蒸|炖|做|泡|用))"
    "[^,;:!?。]{0,1}$|"
    # 第3天到第30天是最佳赏味期，这段时间风味最完整
    "(?:这段时间|这个时候|这时|此时)[^,;:!?。]{0,3}$"
)
#: 密封冷藏最好, 倒挂晾干最好: how to keep or use it best, a tip (最好 then the clause ends).
_HANDLING_BEFORE = re.compile(
    "(?:放|存|存放|保存|储存|收纳|冷藏|冷冻|密封|泡|煮|蒸|炖|洗|手洗|晾|晾干|晒|浇水|浇|种|摘|食用|"
    "饮用|冲泡|吃|喝|用|穿|戴|挂|摆|搭配|加|切|化|慢化|解冻|化冻)$"
)
#: 糖炒最香, 清蒸最鲜: how to cook it, then how it tastes.
_COOKED_BY = re.compile(
    "(?:炒|烤|煮|蒸|炖|煎|炸|焖|烧|凉拌|清蒸|红烧|白灼|冰镇|泡水|泡茶|煲汤|做汤|熬粥)"
    "(?:着吃|着|来吃|了吃|起来)?$"
)
_TASTE = re.compile("(?:香|甜|嫩|脆|软|鲜|糯|酥|粉|绵|入味|好吃|下饭|爽口)")
#: 暖气调到20度，最省钱: a setting the merchant recommends, the best of its settings.
_SET_TO = re.compile(
    "(?:设|设置|设成|设在|设为|调到|调至|调成|调在|开到|定在|保持在|控制在|放到|比例)"
    "[0-9一二两三四五六七八九十]"
)
#: 大火快炒30秒出锅最嫩, 解冻30分钟口感最软: a time in the recipe, the best of its own steps.
_COOKING_TIME = re.compile(
    "(?:炒|煮|蒸|炖|焖|烤|煎|泡|烫|焯|煲|解冻|化冻|回温|静置|冷藏|冰镇|醒)[^,;:!?。]{0,4}"
    "[0-9一二两三四五六七八九十半]+(?:秒|分钟|小时)"
)
#: 最适合的月龄是6个月以上: the age a course or toy suits, a usage tip.
_FITS_AGE = re.compile("^(?:适合|适宜)的?(?:年龄|年纪|月龄|年龄段|阶段|学段|年级)")
_SELF_PICKED = re.compile("^[一-龥]{1,2}的(?:就是|是|要数|当属|还得是)(?:我们|我家|本店|咱家|这家)")
#: 蒸着吃最简单, 量一下对比最准, 泡杯热茶最舒服: the easiest way to do something, a tip.
_WAY_BEFORE = re.compile(
    "(?:吃|喝|做|用|量|泡|煮|蒸|炒|洗|对比|比对|测|称|试|晒|躺|坐|睡|存|放|看)"
    "(?:着|起来|一下|一杯|杯[一-龥]{1,2}|[一-龥]{0,2})$"
)
_EASY = re.compile(
    "^(?:简单|方便|省事|省心|准|准确|稳妥|保险|舒服|惬意|过瘾|解馋|直观|快|合适)"
)


_HAD_BETTER_NEXT = ("最后", "先", "提前", "当天", "趁")
_SHOP_NAMED = re.compile(
    "店里|本店|我们家|我们店|咱家|自家|这[几两三四五六七八九十0-9]+(?:款|种|个)"
)
_LIST_LOOK_BACK = 160  # characters: a buying guide's list runs longer than one clause
_PERIOD_END = "!?。\n\r"  # a sentence's end, the semicolons of a list inside it left alone


def _listed_in_own_range(text: str, start: int) -> bool:
    """A list the shop introduces over its own range (店里三款大米怎么选：…；…最实惠) keeps that
    scope past its semicolons; a customer's 第三瓶 or 七八个牌子 is no such range."""
    period = _back_to(text, start, _PERIOD_END, _LIST_LOOK_BACK)
    return bool(_SHOP_NAMED.search(period)) and own_range(period)


_PART_BEFORE = re.compile("(?:的)?(?:部分|地方|位置|那头|那端|那一面|这一面|中间|中心)$")
_BOUND_AFTER = re.compile("^(?:也)?(?:不会|不|不得|不能)(?:低于|少于|高于|超过)")
_RULE_NAMED = re.compile("要求|标准|限值|规定")
_PUPILS_WORK = re.compile("(?:写|画|答|做|讲|唱|跳|练|背)得$")
_PUPIL_WORK_NAMED = re.compile("那篇|作文|作业|孩子|同学|学生|班里")
_ASKS_HOW = re.compile(
    "(?:哪里|哪儿|什么时候|何时|几点|怎么|如何|多久|多少度|什么温度|什么时间)[^,;:!?。]{0,3}$"
)
_ASKED_BEST = re.compile("^(?:好|合适|佳|适合)[吗呢]?[?？]")


def zui(text: str, start: int, end: int) -> Span | None:
    """最 + an evaluative word is a claim; 最 as a limit, time, spec, tip or feeling is not."""
    after = text[end:]
    before = clause_before(text, start)
    if _NATURE_FACT.match(after):
        return None  # 全球最大的沙漠: geography, whatever the scope word
    if _SCALE_LIMIT.search(before) and (_SCALE_END.match(after) or _LIMIT_SET.match(after)):
        return None  # 标签允许标注的最高档, 规定最高只能标50+: a limit a rule sets, not a rank
    if _SCALE_NAMED.search(before) and _SCALE_TOP.match(after):
        return None  # 防晒标识里最高的标注等级: the top grade of a labelling scale
    if after.startswith("严") and _RULE_NAMED.search(before):
        return None  # 甲醛等指标的限值要求最严: how strict a standard is
    if _PUPILS_WORK.search(before) and _PUPIL_WORK_NAMED.search(sentence_around(text, start, end)):
        return None  # 写得最生动的那篇我在课上读了: a pupil's work, no goods ranked
    if _ASKS_HOW.search(before) and _ASKED_BEST.match(after):
        return None  # 喷在哪里最好？: a question of use the copy goes on to answer
    market = bool(MARKET_SCOPE.search(before))
    sentence = sentence_before(text, start)
    if not market and (own_range(sentence) or _listed_in_own_range(text, start)):
        return None  # 店里三款大米怎么选：…；东北长粒香价格最实惠: the list keeps its scope
    if not market and _PART_BEFORE.search(before):
        return None  # 靠近瓜心的部分最甜: the best part of one item
    if not market and _KNOWS.match(after) and _PEOPLE_BEFORE.search(before):
        return None  # 新手爸爸最清楚: the customer's experience
    if not market and _WHEN_BEFORE.search(before):
        return None  # 刚出炉的时候最香: the best moment, a tip
    if not market and (_SET_TO.search(sentence) or _COOKING_TIME.search(sentence)) \
            and not _GOODS_NAMED.search(before):
        return None  # 调到20度，最省钱; 炒30秒出锅最嫩: the best of the settings or steps it gives
    if after.startswith("好"):
        rest = after[1:]
        if _PEOPLE.match(rest) and not market:
            return None
        if not market and (not rest or rest[0] in CLAUSE_END) and (
            _TIP_BEFORE.search(before) or _SETTING.search(before)
        ):
            return None  # 三天内吃完风味最好, 复热时烤5分钟口感最好: how to enjoy it
        if not market and _HANDLING_BEFORE.search(before) and (not rest or rest[0] in CLAUSE_END):
            return None  # 密封冷藏最好: how to keep it
        if not market and (_ZUI_TIP_NOUN.match(rest) or rest.startswith(_HAD_BETTER_NEXT)):
            return None  # 最好的办法是先备份, 最好最后十分钟再放: advice
        if market or (_zuihao_grades(rest) and (
            not before.endswith("的") or before.endswith("真的") or _graded_verb(rest)
            or _EXPERIENCED.search(before)
        )):
            return _widened(text, start, end)
        return None
    if after.startswith("佳"):
        tip = (
            _ZUIJIA_TIP.match(after[1:])
            or _TIP_TIME.search(sentence)
            or before.endswith("的")
        )
        return None if tip and not market else _widened(text, start, end)
    if market:
        return _widened(text, start, end)
    if after.startswith("不最") or before.endswith("最不"):
        return None  # 我不知道最不最火: the question, not an answer
    if "趁" in sentence:
        return None  # 趁露水没干摘的最水灵: the moment to pick or eat it
    if _COOKED_BY.search(before) and _TASTE.match(after):
        return None  # 糖炒最香, 清蒸最鲜: the way to cook it
    if _MODE_AFTER.match(after, 1):
        return None  # 最亮模式, 最低档: a setting of the product, named
    if _OPTION_ANSWER.match(after) or _OWN_PART_ANSWER.match(after):
        return None  # the comparison is inside the merchant's own options or field
    if _FITS.match(after) and (_SETTING.search(before) or _TIMING_BEFORE.search(before)):
        return None
    if _TIMING_BEFORE.search(before) and _TIMING_TASK.match(after) \
            and not _GOODS_NAMED.search(clause_after(text, end)):
        return None
    if _NO_BEST_ONLY.search(sentence):
        return None
    if _OWN_SUBJECT.search(before) and _PICKS_ITEM.match(after):
        return None  # the pick inside its own range: 店里最便宜的是基础款
    if _FITS_TIME.match(after) or _FITS_AGE.match(after):
        return None  # 最适合夏天穿, 最适合的月龄: a timing tip
    if _EASY.match(after) and _WAY_BEFORE.search(before) and not _GOODS_NAMED.search(before):
        return None  # 蒸着吃最简单: the easiest way, not the goods ranked
    if after.startswith("直观的") and re.match("(?:就是|是|区别|差别)", after[3:]):
        return None  # 最直观的就是颜色: how to tell two things apart
    if _ZUI_CLEAN.match(after) or _ZUI_TIP_NOUN.match(after[1:]):
        return None
    if _FEELING.match(after) or (_OWN_FEELING.match(after) and _SPEAKER.search(before)):
        return None
    if _SELF_PICKED.match(after):
        return _widened(text, start, end)  # 物流最快的就是我们家: the answer is the merchant
    if _ZUI_MEASURE.match(after):
        rest = after[1:]
        if _BOUND_AFTER.match(rest):
            return None  # 价格最低不会低于九成: a bound the shop sets itself
        if rest.startswith("规格") and after[0] in "大小":
            return None  # 最大规格是200ml: the largest size on offer
        if rest.startswith(("价", "的价")) or _GRADE_AFTER.match(rest) \
                or _PRICE_BEFORE.search(before):
            return _widened(text, start, end)  # 最低价, 性价比最高, 最高品质: a claim
        return None  # 最大功率2000W, 最小的才八岁, 最快次日达: a measure or a limit
    return _widened(text, start, end)


_ORDINAL_NEXT = re.compile(
    "次|步|天|时间|批|眼|口|单|件|期|季|部分|条|页|节|课|章|讲|周|年|月|届|轮|位|层|排|代|版|阶段|道|"
    "杯|瓶|箱|遍|句|手|印象|反应|感觉|站|场|关|号|胎|个|组|颗|粒|包|盒|袋|根|张|份|支|套|顿|餐|题|"
    "问|篇|集|段|点|项|种|环节|波|弹|趟|把|针|剂|口味|部|本|辆|台|双|件|楼|针|泡|遍|茬|桶|锅|"
    "阶|级|档|名(?=顾客|客户|下单|付款|买家|用户|学员|同学|宝妈)|个月|周期|课时|单元|模块|讲|学期|"
    "学年|年级|梯次|轮次|顺位|声|缕|印|任|站|时段|天|晚|夜|堂|款|"
    "家|中学|小学|中心|人民|医院|教室|会议室|报告厅|展厅|仓库|柜台|窗口|考场|幼儿园|实验|高中|初中|附|师范|工业|街|路|大道|村|社区|车间|分店|门店|"
    # more measure words: 第一笔订单, 第一回, 第一首, 第一封, 第一勺
    "册|卷|辑|笔|回|首|封|局|盘|圈|棒|幕|则|滴|勺|块|片|碗|棵|株|朵|拨|程|票|垄|窝|帖|贴|撮|段|行|列|格|屏|"
    "枪|刀|锅|炉|罐|壶|坛|幅|扇|间|座|栋|户|笼|筐|篮|车|船|班|场次|单元|课程|堂课|节课"
)


#: 第一位登上月球的人, 中国第一位获奖的作家: a fact about a person in history, not a market
#: rank (中国第一个获得认证的品牌 stays one).
_FIRST_PERSON = re.compile(
    "^(?:个|位|名)[^,;:!?。]{0,12}?的[一-龥]{0,2}?(?:人|君主|皇帝|帝王|国王|女王|王朝|朝代|科学家|发明家|作家|诗人|"
    "画家|宇航员|航天员|探险家|运动员|女性|男性|华人|中国人|总统|首相)"
)
_CLASS_RANK = ("全班", "班级", "班里", "全年级", "年级")
_BATCH_NEXT = re.compile("^(?:批|届|期|轮)")
_EXAM = re.compile("模考|考试|月考|期中|期末|比赛|竞赛|班级|年级|班里|测验")
_PLACE_NEXT = re.compile(
    "^(?:关|楼|泉|峰|街|桥|村|巷|路|师|团|营|连|旅|中队|大队|分队|小学|中学|"
    # institutions named by number: 第一百货, 第一人民医院, 第一中学
    "百货|人民医院|医院|附属|商场|食品厂|机床厂|纺织厂|[一-龥]{1,3}厂(?!家|商)|食品商店|商店)"
)


def ordinal(text: str, start: int, end: int) -> Span | None:
    """第一 as an ordinal (第一次, 第一批, 第一，…第二，…) ranks nothing; 天下第一关 and
    兵团第一师 are names of places and units."""
    hit = text[start:end]
    if _PLACE_NEXT.match(text[end:]):
        return None
    if hit.endswith("第一") and _FIRST_PERSON.match(text[end:]):
        return None  # 第一位登上月球的人: history
    if hit.endswith("第一") and _BATCH_NEXT.match(text[end:]):
        return None  # 全国第一批示范村: the first batch of a designation, no rank
    if hit not in ("第一", "第一名"):
        return start, end  # 销量第一, 全网第一: ranking by construction
    if "第二" in text or "第2" in text:
        return None
    if hit == "第一" and clause_before(text, start).endswith(_CLASS_RANK):
        return None  # 考到了全班第一: a pupil's place
    if text[start : start + 3] == "第一名" and _EXAM.search(sentence_before(text, start)):
        return None  # 模考第一名的作文: a pupil's place in a class test
    if hit == "第一" and _ORDINAL_NEXT.match(text[end:]):
        before = clause_before(text, start)
        if text[end:].startswith("品牌") or MARKET_SCOPE.search(before[-6:]):
            return start, end
        return None
    return start, end


_NAME_NEXT = re.compile(
    "^(?!品牌|名牌|大牌)(?:牌|版|系列|型号|型|号|商标|荣耀|对王牌|杯|赛|队|联赛|争霸|项|卡|"
    "[一-龥]{0,2}联名|[一-龥]{0,2}(?:披萨|套餐|汉堡|火锅)|"
    "[一-龥](?<!的)[一-龥]{0,2}(?<!的)(?<![品名大])(?:版|系列|型号|牌)|火腿肠|火腿)"
)


#: Champion冠军, Royal皇家: a Latin brand name followed by its Chinese rendering.
_LATIN_NAME_BEFORE = re.compile(
    "(?<![A-Za-z])(?!(?:top|best|king|first|number|world|no)[(（]?$)[A-Za-z]{4,}[(（]?$",
    re.IGNORECASE,
)


_CALLED_A_NAME = re.compile(
    "是(?:品牌|我们|厂家|官方)?的?(?:系列名|系列的名字|型号名|型号|品牌名|产品名|款名|名字|商品名)"
)


def name(text: str, start: int, end: int) -> Span | None:
    """A brand, model or interface word (至尊版, 冠军牌, 首选项, Champion冠军) is a name, not a
    claim."""
    if _NAME_NEXT.match(text[end:]) or _LATIN_NAME_BEFORE.search(text, max(0, start - 16), start):
        return None
    if _CALLED_A_NAME.search(clause_after(text, end)):
        return None  # 至尊玫瑰套盒是品牌的系列名: the copy itself says it is a name
    return start, end


_CHAMPION_FACT = re.compile(
    "(?:世界|奥运|全运|亚运|比赛|大赛|获得|拿过|夺得|夺冠|赛事|国家队)[^,;:!?。]{0,4}$|(?:赛|杯)$"
)
_GUESS_BEFORE = re.compile("(?:猜中|猜对|竞猜|预测|押中|猜)$")
_CONTEST = re.compile("杯|决赛|联赛|比赛|赛季|奥运|锦标赛|大赛|球赛")
_PERSON = re.compile("恭喜|学员|同学|选手|老师|教练|小朋友|孩子|队员")
_GAME = re.compile(
    "拔河|篮球|足球|排球|乒乓|羽毛球|运动会|趣味赛|马拉松|跑步|爬行|跳绳|象棋|围棋|棋赛|书法|"
    "绘画|演讲|歌唱|舞蹈|广场舞"
)
_OWN_SHOP = re.compile("(?:店里|本店|我们店|我们家|我家|咱家)的?$")
_TEAM_AFTER = re.compile("(?:战队|球队|车队|队伍|团队|组合|得主|选手)")


def champion(text: str, start: int, end: int) -> Span | None:
    """冠军 of a real competition (拿过全国冠军的教练, 恭喜朵朵拿到围棋赛冠军, 猜中欧洲杯
    冠军) is a fact about a person or a match."""
    before = clause_before(text, start)
    sentence = sentence_before(text, start)
    if _TEAM_AFTER.match(text, end):
        return None  # 电竞冠军战队: a team of people that won, named
    if text[start:end] == "销冠" and _OWN_SHOP.search(before) \
            and not MARKET_SCOPE.search(sentence):
        return None  # 店里的销冠: the best seller of its own range
    if "冠" not in text[start:end]:
        return start, end  # 顶流, 天花板: no contest to have won, whoever the sentence names
    if _CHAMPION_FACT.search(before) or _PERSON.search(sentence):
        return None
    if _GUESS_BEFORE.search(before) and _CONTEST.search(sentence):
        return None
    if _GAME.search(sentence):
        return None  # 村里拔河比赛我们合作社拿了冠军: people won a game, no goods ranked
    return start, end


#: 本周No.1进步之星是三班的小林: a pupil's award, no goods ranked.
_AWARD_AFTER = re.compile(r"\s?[一-龥]{0,4}之星")
_PUPIL = re.compile("恭喜|学员|同学|小朋友|孩子|学生|[0-9一二三四五六七八九十]+班|班的|班级")


#: 色号No.1是正红，No.2偏橘 / 取餐号No.1到No.50: a number in a series, nothing ranked.
_SERIES_NEXT = re.compile(
    r"[^;!?。]{0,24}?(?:n ?o ?[.·・]? ?(?:[2-9]|[1-9][0-9])(?![0-9])|[到至~～\-—]n ?o)"
)
_OUTRANKS = re.compile("比|超|甩|领先|高出|胜过|打败|碾压")
_NUMBER_NAMED = re.compile(
    "(?:色号|编号|序号|号码|款号|货号|工号|取餐号|取件码|座位|桌号|房号)[:：]?$"
)


def not_an_award(text: str, start: int, end: int) -> Span | None:
    """No.1 or 第一 in the name of an award a pupil won ranks the pupil, not the goods; No.1
    that opens a series (No.2, 到No.50) or follows 色号 or 编号 is only a number."""
    if _AWARD_AFTER.match(text, end) and _PUPIL.search(sentence_around(text, start, end)):
        return None
    if text[start] == "n":
        series = _SERIES_NEXT.match(text, end)
        if (series and not _OUTRANKS.search(series.group())) or _NUMBER_NAMED.search(
            text, max(0, start - 4), start
        ):
            return None
    return start, end


#: Words that claim a rank or uniqueness by themselves, with or without a market named.
_ONLY_ONE = ("数一数二", "独一家", "独此一家", "独一份", "头一份")
_MARKET_FOLLOW = re.compile("^(?:一家|一款|一个|一所|的品牌|的厂家|指定|认证|授权)")
#: 唯一的授权经销商, 唯一的直营门店: a fact about the merchant's own business (like 独家).
_OWN_OUTLET = re.compile(
    "^的?(?:品牌|官方)?(?:授权|指定|直营|签约|加盟|合作)?(?:的)?(?:经销商|经销店|代理商|代理|分销商|"
    "门店|分店|实体店|线下店|线下门店|体验店|专卖店|直营店|网店|店铺|校区|分校|教学点|仓库|客服|售后点|维修点|服务点)"
)
#: A scope that makes even an outlet claim a market one (全国唯一授权经销商 stays flagged).
_WIDE_SCOPE = re.compile(
    "全网|全国|全球|全世界|全中国|世界|史上|有史以来|业内|行业|业界|市面上|市场上"
)


def market_only(text: str, start: int, end: int) -> Span | None:
    """唯一, 首家, 首款 claim something only about a market (全网唯一, 业内首家)."""
    before = clause_before(text, start)
    if not MARKET_SCOPE.search(before[-8:]) and own_range(sentence_before(text, start)):
        return None  # 礼盒里8种口味，其中唯一带坚果的是抹茶味: inside its own range
    if text[start:end] == "唯一" and _OWN_SUBJECT.search(before) \
            and not _WIDE_SCOPE.search(before[-8:]):
        return None  # 我们家唯一一款无硅油的: one item of its own range
    if text[start:end] == "唯一" and _OWN_OUTLET.match(text[end:]) \
            and not _WIDE_SCOPE.search(before[-8:]):
        return None  # 本店是这个品牌在本市唯一的授权经销商
    if MARKET_SCOPE.search(text[start:end]) or MARKET_SCOPE.search(before[-8:]):
        return start, end
    if text[start:end] == "唯一" and _MARKET_FOLLOW.match(text[end:]):
        return start, end
    if text[start:end] in _ONLY_ONE and not own_range(sentence_before(text, start)) \
            and not text[:start].endswith(("单", "孤")):  # 单独一份: one portion on its own
        return start, end  # 我们数一数二, 东海岸独一家: a rank or uniqueness whatever the scope
    return None


# --- authority --------------------------------------------------------------------------------

_NATIONAL_FACT = re.compile(
    "^[^,;:!?。]{0,6}?(?:孵化器|孵化|企业|保护区|自然|非遗|非物质|文化遗产|遗产|名录|示范|贫困|开发区|新区|高新|园区|基地|"
    "重点|实验室|研究|中心|森林|公园|湿地|景区|风景|地质|地理标志|保护|产业园|龙头|运动员|教练|裁判|"
    "林场|农场|牧场|茶场|大学|科技园|"
    "考试|赛事|比赛|竞赛|项目|课题|传承人|代表性|县|村|镇|城市|湿地|标准化|农业产业|现代农业|"
    "义务教育|发展区|示范区|试验区|先行区|"
    "专精特新|高新技术企业|一级|二级|三级)"
)


#: 国家级诚信示范店铺: a shop's own 'national' honour for trustworthiness, no real designation.
_HONEST_SHOP = re.compile("[^,;:!?。]{0,2}?(?:诚信|放心|信得过|优质服务)")
#: 国家级实验室研发配方: the laboratory's standing lent to the goods.
_LAB_MADE = re.compile(
    "(?:重点)?实验室[^,;:!?。]{0,2}?(?:研发|出品|配方|研制)|"
    # 国家级婴幼儿配方研究成果: research lent to the product's formula
    "[^,;:!?。]{0,6}?(?:配方|研究成果)"
)


def national_grade(text: str, start: int, end: int) -> Span | None:
    """国家级 praising goods is borrowed authority; 国家级自然保护区 is a fact, but a formula
    from a 国家级实验室 borrows it again."""
    if _NATIONAL_FACT.match(text[end:]) and not _LAB_MADE.match(text, end) \
            and not _HONEST_SHOP.match(text, end):
        return None
    return _widened(text, start, end, 2)


# --- guarantees -------------------------------------------------------------------------------

_ABSOLUTE_CLEAN = re.compile(
    "^(?:不(?:强求|勉强|强迫|为难|打扰|催)|值|零度|湿度|温度|路径|坐标|音感|定位|压力|误差|地址|大多数|多数|主力|不能|不要|禁止|不可|不得|别)"
)
_ABSOLUTE_SERVICE = re.compile(
    "^(?:不会|不|会)?(?:泄露|透露|外泄|出卖|卖给|乱收|多收|骗|发错|卖假|售假|以次充好|强制|隐藏|"
    "私自|偷|擅自|把您的|把你的|留底|留存|备份|拷贝|存档|掺|外流|外传|查看|复制|保留|翻看)|"
    # passing goods off or cheating on weight: 绝对不会用陈茶冒充新茶
    "^(?:不会|不)[^,;:!?。]{0,8}?(?:冒充|充当|顶替|以次充好|以旧充新|以假乱真|缺斤|短斤|少秤|缺秤|"
    "偷工减料|造假|作假|调包|掉包|注水)|"
    # what it sends or sells: 绝对不会把旧货寄给您
    "^(?:不会|不)[^,;:!?。]{0,6}?(?:发给|寄给|卖给|拿给|给大家|给您|给你|给顾客)|"
    # 绝对不会给第三方: whom it passes the customer's data to
    "^(?:不会|不)(?:给|交给|提供给|透露给|转给)(?:第三方|别人|他人|外人|任何人)|"
    # 绝对不是不理人: the shop's sincerity, no promise about the goods
    "^不是[^,;:!?。]{0,4}?(?:不理|故意|敷衍|不管|不回|不想|骗|忽悠|套路)"
)
_MERCHANT_SUBJECT = re.compile(
    "(?:我们|我|本店|小店|店家|客服|商家|我司|公司|店里|平台|老板)(?:都|也|一定|承诺|保证|向您保证)?$"
)
_ABSOLUTE_CLAIM = re.compile(
    "^(?:的)?(?:安全|不|零|为零|提升|提高|保护|完好|无|没有|没问题|有效|放心|安心|耐用|结实|牢固|健康|靠谱|保证|能|可以|会|管用|见效|100|百分|有保证|万无一失|"
    "没(?:打|用|加|放|添加|掺)|"
    "有保障|防|温和|天然|[一-龥]不[一-龥]|"
    # 绝对破解不了, 里面也绝对是干的
    "[一-龥]{2}不(?:了|到|掉|坏|破|开|动)|是(?:干|安全|无毒|无害|健康)的?)"
)


_OTHER_SHOPS = re.compile("别家|别处|别的店|别人家|其他家|其他店|同价位|同行|外面")
_NOT_FOUND = (
    "找不到", "拿不到", "买不到", "喝不到", "吃不到", "见不到", "做不到", "比不上", "比不了",
)


def absolute(text: str, start: int, end: int) -> Span | None:
    """绝对 promising safety or effect; not 绝对湿度, not 绝对不会泄露您的信息."""
    after = text[end:]
    if _ABSOLUTE_CLEAN.match(after) or _ABSOLUTE_SERVICE.match(after):
        return None
    if _OTHER_SHOPS.search(clause_before(text, start)) and after.startswith(_NOT_FOUND):
        return None  # 别家绝对拿不到: a comparison with the market, the superlative rule's
    if _MERCHANT_SUBJECT.search(clause_before(text, start)):
        return None  # 我们绝对不会把您的照片外传: a commitment about its own conduct
    if after.startswith("保证") and not_service(text, end, end + 2) is None:
        return None  # 绝对保证在保质期内发出: a service promise, said firmly
    return _widened(text, start, end, 4) if _ABSOLUTE_CLAIM.match(after) else None


_TOOL_NEXT = re.compile(
    "^(?:胶|表|钥匙|扳手|充|遥控|轮|工具|插座|转换|接头|螺丝刀|开关|夹|刀|钳|笔|指示剂|试纸|试剂|溶剂|"
    "角尺|尺|铣|铣头|卡盘|支架|锁扣|开孔器|钻头)"
)


_MERCHANT_IN_CLAIM = re.compile("我们|本店|小店|店家|商家|客服|咱们|咱家|我家|我司")


def not_own_conduct(text: str, start: int, end: int) -> Span | None:
    """再小的订单我们也不会怠慢: what the merchant itself will or will not do, no promise
    about the goods."""
    if _MERCHANT_IN_CLAIM.search(text, start, end) or _MERCHANT_SUBJECT.search(
        clause_before(text, start)
    ):
        return None
    return start, end


def tool_name(text: str, start: int, end: int) -> Span | None:
    """万能胶, 万能表: the name of a tool."""
    return None if _TOOL_NEXT.match(text[end:]) else (start, end)


_SERVICE = re.compile(
    "发货|正品|退换|售后|新鲜|送达|到货|品质|质量|准时|按时|隐私|信息|价格|价保|回复|处理|安排|"
    "服务|包装|完好(?:无损)?地?(?:送|到|交)|到手|真实|原装|足量|足斤|足秤|一致|当天|及时|出库|到家|上门|照顾|老师|课时|上课|"
    "开课|发票|开票|库存|现货|批次|日期|货源|产地|源头|手工|无添加|不掺|纯|一样|同款|资金|到账|"
    "退款|退货|赔付|补发|联系|答复|解答|跟进|售价|价钱|原价|全新|未拆|卫生|干净|秩序|公平|透明|"
    "每个人|每位|每一位|每一单|每单|您的|你的|顾客的|买到|买得到|发出|响应|批改|答疑|作业|保质期|临期|"
    "送检|检测|查询|备案|客服|在线|时效|现摘|现发|现做|现烤|现杀|现磨|现采|当季|吃上|吃到|抢到|用上|"
    "领到|买上|送到|寄到|寄出|收到|配送|签收|送货|抵达|追件|查件|催件|"
    # after-sales: 保证坏单包赔, 保证在保修期内免费更换, 保证不让大家吃亏
    "吃亏|坏单|坏果|烂果|破损|压坏|漏发|错发|少发|包赔|理赔|保修|质保|维修|更换|换新|免费换|"
    # delivery dates and the course's own routine: 保证节前到, 保证每节课都有课后反馈
    "前到|到达|渠道|进货|反馈|课后|每节课|每(?:个|位|一位|名)(?:孩子|学生|学员|同学|宝宝)|"
    # a time limit on its own handling, and the weight it sends: 保证不超过24小时, 保证净重不少于5斤
    "不超过[0-9一二两三四五六七八九十]+个?(?:小时|工作日)|净重|毛重|分量|份量|斤两|克重|"
    # what it checks before sending, and lessons made up: 保证不发瑕疵品, 保证罐罐可追溯, 保证补上
    "瑕疵|次品|残次|坏的|烂的|追溯|溯源|可查|补上|补课|调课|"
    # the customer's data: 保证不会卖给任何人
    "卖给|泄露|透露|外泄|外传|第三方|任何人|"
    # what it pays back or replaces for its own slip: 超出的坏果保证全额赔, 保证给您换一件新的
    "全额赔|赔偿|换一(?:件|个|双|台|盒|箱|份|瓶|条|只|套)新|换个新|重新发|补寄|"
    # a job the shop does, by a time: 保证三天内给你排上, 保证十分钟内配好
    "排上|排好|配好|修好|装好|改好|做好|处理好|回电|打包|说到做到|推诿|敷衍|拖延|连麦|调试|"
    # 保证做到三件事, 保证不再出现这种情况: the shop's own undertakings after a slip
    "做到[三两四五0-9一二]件事|做到以下|这种情况|此类情况|类似情况|进度|当面(?:清除|删除|销毁)|"
    # breakage made good, honest goods: 保证破一个赔一个, 保证不以次充好
    "赔一(?:个|颗|枚|只|瓶|盒|箱)|以次充好|掺假|缺斤|短斤"
)
#: 电子发票24小时内发到邮箱，这个保证做到: vouching for the commitment just stated.
_THIS_COMMITMENT = re.compile("(?:这个|这点|这一点|这条|这些)(?:我们)?(?:一定|绝对|都)?$")
_DONE_AFTER = re.compile("^保证(?:做到|办到|做得到|到位|兑现)?$")


_CARE_ADVICE = re.compile(
    "^保证(?:每天|每晚|每日|充足的?|足够的?|规律的?)[^,;:!?。]{0,4}?(?:睡眠|睡够|睡满|休息|饮水|喝水|运动|作息)"
)
_PURPOSE_BEFORE = re.compile("(?:为了|为|以便)$")
_OWN_PRICE = re.compile("(?:我们|我家|本店|店里|咱家)的?(?:价格|价钱|售价|定价)$")
_ADVICE_BEFORE = re.compile(
    "(?:最好|建议|请|要|需要|务必|尽量|注意|记得|一定要)(?:每天|每晚|每日|每周|至少|最少|尽量|都)*$|"
    "(?:每天|每晚|每日|每周)(?:最少|至少)$"
)


#: 保证是100%牛肉, 保证所有奶粉都是…: vouching for what the goods are.
_VOUCHES = re.compile("保证[^,;:!?。]{0,10}?(?:是|都是|全是|均为|均是|全部是|为)(?!甜|好吃|香甜)")


def not_service(text: str, start: int, end: int) -> Span | None:
    """保证24小时内发货 is the merchant's commitment about its service, not a result promised;
    保证是100%牛肉 vouches for what the goods are."""
    claim = text[start:end] + clause_after(text, end)
    if _OWN_PRICE.search(clause_before(text, start)):
        return None  # 我们的价格保证一个月内不涨: a commitment about its own prices
    if _SERVICE.search(claim) or _VOUCHES.match(claim):
        return None
    if _DONE_AFTER.match(claim) and _THIS_COMMITMENT.search(clause_before(text, start)):
        return None
    if text[:start].endswith(
        ("不", "唔", "没", "没有", "无法", "不能", "不会", "不敢", "从不", "只能", "很难", "难以",
         "不好")
    ):
        return None
    if _CARE_ADVICE.match(claim):
        return None  # 保证每天睡够8小时: advice on the customer's own habits
    if _PURPOSE_BEFORE.search(text[:start]):
        return None  # 为了保证口感: the purpose of its own care, not a promise
    if claim.startswith(("保证不了", "保证不来")) or _ADVICE_BEFORE.search(text[:start]):
        return None  # 谁也保证不了; 考前最好保证每天8小时睡眠 is advice to the customer
    return start, end


# --- sharing ----------------------------------------------------------------------------------

_MERCHANT_SHARES = re.compile(
    "(?<![请家您你])把[^,;:!?。]{0,6}?(?:反馈|通知|作业|课表|报告|总结|讲义|资料)$|(?:给大家|和大家|跟大家|为大家|向大家|给您|给你们|给各位|给家长们|给宝妈们|给姐妹们|给朋友们|"
    "来|今天|再|免费|无偿|授权|同意|许可|(?<![帮替请])我们)$"
)
_FORWARD_INSIDE = re.compile(
    "^给?(?:售后|客服|同事|仓库|快递|师傅|店长|技术|财务|老板|主管|厂家|教务|老师|班主任|助教|店员)|"
    # 已转发给您: the shop sending the customer something, not the customer asked to pass it on
    "^给(?:您|你)(?![^,;:!?。]{0,4}(?:朋友|好友|家人|同事|闺蜜|亲戚|群|圈))"
)


_PROGRAMME = re.compile(
    "补贴|补助|以旧换新|惠民|消费券|据[^,;:!?。]{0,8}报道|来源:|来源是|转载自|"
    # 央视新闻报道了预制菜国家标准的征求意见稿: the news of a rule, not praise of goods
    "报道了?[^,;:!?。]{0,12}?(?:国家标准|标准|政策|征求意见稿|新规|通知|规定)|"
    # the shop passing on an article: 今天转一篇新华社的报道给大家
    "(?:转|分享|推荐)(?:一|几|两)?篇"
)


#: 央视纪录片里拍过的那道腌笃鲜: a dish shown on television, cooked from its recipe.
_DISH_SHOWN = re.compile("(?:拍过|播过|介绍过|讲过)的(?:那|这)道")


def not_programme(text: str, start: int, end: int) -> Span | None:
    """A state subsidy programme or a news source named as a fact lends no endorsement, nor
    does a dish state television once showed."""
    if _PROGRAMME.search(clause_around(text, start, end)):
        return None
    if _DISH_SHOWN.search(text, max(start, end - 3), end + 4):
        return None
    return start, end


#: 请关注群通知, 关注物流: 关注 as "keep an eye on", no account followed.
_ATTENTION = re.compile(
    "(?:群(?:里|内)?的?)?(?:通知|公告|短信|物流信息|物流|进度|天气|变化|身体|健康)"
)
_NOT_A_CONDITION = re.compile(
    "(?:不是|并非|无需|不需要|不用|不必)[^,;:!?。]{0,8}(?:前提|条件|必须|必要|才能)|"
    # 关注我们不需要做任何事: following asks nothing of anyone
    "^(?:我们|本号|公众号|本店|店铺)?(?:不需要|无需|不用|不必)(?:您|你)?(?:做|付出|花|完成)?(?:任何|什么)"
)


#: 分享一下我们怎么腌咸菜: the merchant showing something, no one asked to pass it on.
_SHOWS_CONTENT = re.compile("^(?:一下|一个|几个|几条|一些|些|点|下|个)(?!到|给|至)")
#: 送同色发圈, 一根发圈: 发圈 as a hair tie, not "post to Moments".
_HAIR_TIE_BEFORE = re.compile("(?:送|赠|色|个|根|款|条|只|对|套|的|配)$")
_TOLD_NOT_TO = re.compile("(?:不要|别|勿)(?:再)?(?:转发|转|分享)?$")
#: 做法分享, 经验分享: what the merchant shares, named before the word.
_CONTENT_SHARED = re.compile(
    "(?:做法|食谱|菜谱|经验|心得|攻略|教程|干货|知识|技巧|方法|好物|穿搭)$"
)
#: 分享的笔记 names what was shared; 分享的朋友可领 still rewards the people who share.
_SHARED_THING = re.compile(
    "的(?!朋友|用户|人|顾客|客户|同学|宝妈|妈妈|家长|会员|粉丝|小伙伴|伙伴|姐妹|亲|前|都|即|就|可|才|均|每|话)"
)
#: The shop's own group-buy and bargain mechanics, which the standard leaves out of scope,
#: unless a gift rides on the sharing.
_GROUP_BUY = re.compile("拼团|成团|参团|开团|砍价|帮砍|砍一刀")
_GIFT = re.compile(
    "红包|返现|抽奖|积分|奖品|奖励|礼品|赠品|小样|多送|加送|赠送|送[0-9一二两三四五六七八九十]"
)
_TO_OTHERS = re.compile("朋友圈|群|好友|朋友|亲友|家人|同事|微博|抖音|小红书|链接|海报")
_TO_AUDIENCE = re.compile(
    "给?(?:大家|各位|您|你们|宝妈们|家长们|姐妹们|朋友们)(?:一个|一下|一些|几个|个|几招|一招)"
)
#: 洗了二十多次也不变形: what happened in use, told as a record, no promise.
_RECORD_BEFORE = re.compile("了[^,;:!?。]{0,6}次(?:了)?$")


def not_a_record(text: str, start: int, end: int) -> Span | None:
    """洗了二十多次也不变形 reports what the goods went through; 洗一百次也不变形 promises it."""
    return None if _RECORD_BEFORE.search(clause_before(text, start)) else (start, end)


def customer_shares(text: str, start: int, end: int) -> Span | None:
    """The customer sharing or forwarding; not the merchant sharing a recipe, not 已转给售后,
    not thanks for what customers shared."""
    if _MERCHANT_SHARES.search(text[:start]) or _FORWARD_INSIDE.match(text[end:]):
        return None
    if _TOLD_NOT_TO.search(text, max(0, start - 6), start):
        return None  # 请大家不要转发扩散: asked not to share
    if text[:start].endswith("自发") and not _GIFT.search(sentence_around(text, start, end)):
        return None  # 博主自发分享了我们的风衣: shared of their own accord, nothing offered
    if _TO_AUDIENCE.match(text, end) and not _GIFT.search(sentence_around(text, start, end)):
        return None  # 分享给大家一个小技巧: the merchant showing something
    if text[start:end] == "分享" and _SHOWS_CONTENT.match(text[end:]) \
            and not _TO_OTHERS.search(clause_after(text, end)):
        return None
    if text[start:end] == "分享" and _CONTENT_SHARED.search(text, max(0, start - 4), start):
        return None  # 醋泡黑豆做法分享: the merchant passing on a recipe
    if text[start:end] == "分享" and _SHARED_THING.match(text, end):
        return None  # 学员分享的笔记我们整理成PDF: what was shared, no one asked to share
    if text[start:end] == "发圈" and _HAIR_TIE_BEFORE.search(text, 0, start):
        return None  # 送同色发圈: a hair tie, not posting to Moments
    if _GROUP_BUY.search(clause_around(text, start, end)) \
            and not _GIFT.search(sentence_around(text, start, end)):
        return None  # 邀请好友拼团，三人成团即可发货: the shop's own group buy
    return not_a_condition(text, start, end)


#: 不关注也可以直接导航过来: the same thing is had without following or sharing.
_ALSO_WITHOUT = re.compile(
    # 没关注公众号的学员，老师也会单独通知: who did not follow, named, then what they get
    "(?:不|没|没有|未)(?:关注|转发|分享|转|点赞|晒|发)(?:[^,;:!?。]{0,6}?的[^,;:!?。]{0,4}?,?)?"
    "[^,;:!?。]{0,4}?(?:(?:也|一样|照样|同样|照常|依然|仍然)"
    "[^,;:!?。]{0,2}?(?:可以|能|行|可|不影响|没关系|正常|享|领|买|下单|参与|看|收到|"
    "会(?![^,;:!?。]{0,2}(?:被|失去|取消|作废|无效|扣|收回|不)))|正常(?:享|享受|参与|购买|下单|领))"
)


#: 分享到评价区，不返现不送礼: the reward denied; 转不转都送: given either way.
_NO_REWARD = re.compile(
    "(?:不|没有|无|并无|没)(?:任何)?(?:返现|送礼|送东西|奖励|抽奖|福利|红包|赠品|积分)|"
    # 不会因为转发给任何奖励, 分享不会给您带来额外奖励
    "(?:不会|不)(?:因为[^,;:!?。]{0,6}?)?给(?:您|你|大家)?(?:带来)?(?:任何|额外的?)?"
    "(?:奖励|好处|返现|福利)|"
    # 分享店铺链接不会获得积分, 积分不会因为转发或者拉新增加
    "(?:不会|不能)(?:获得|得到|拿到|领到)(?:任何)?(?:积分|奖励|返现|红包|福利|好处)|"
    "(?:不会|不)因为[^,;:!?。]{0,8}?(?:增加|加分|多给|奖励|获得)"
)
_EITHER_WAY = re.compile(
    "(?:转不转|分不分享|关不关注|关注不关注|转发不转发|转没转|关没关注|晒不晒)[^,;:!?。]{0,3}都"
)
#: 不用截图也不用集赞: the only conditions there could be, waived.
_CONDITION_WAIVED = re.compile(
    "(?:不用|不需要|无需|不必|不要求|不强制|用不着)[^,;:!?。]{0,3}(?:截图|集赞|点赞|转发|分享|关注)|"
    # 不转发不集赞，进店直接领: the conditions there could be, waived
    "不(?:转发|转|分享|集赞|关注)不(?:转发|集赞|关注|分享|点赞)[^。!?;]{0,8}?(?:直接|照样|也能|一样)"
)
_SHARE_REFUSED = re.compile("不(?:转|分享|关注|晒|发|点赞|邀请|拉)")
_REWARD_LEFT = re.compile(
    "送|领|返(?!图)|抽奖|红包|奖|优惠|免费|积分|解锁|才能|才可|即可|就能|就可以"
)


def _reward_denied(sentence: str) -> bool:
    """True when the sentence denies every reward (不返现不送礼) or gives it either way;
    不转发不送 makes it a condition instead, and 送积分，不送礼品 still rewards."""
    if _EITHER_WAY.search(sentence):
        return True
    denials = list(_NO_REWARD.finditer(sentence))
    if not denials or any(_SHARE_REFUSED.search(clause_before(sentence, m.start()))
                          for m in denials):
        return False
    return not _REWARD_LEFT.search(_NO_REWARD.sub("", sentence))


def not_a_condition(text: str, start: int, end: int) -> Span | None:
    """关注店铺不是领券的前提, 不关注也能进直播间, 分享不返现: the merchant saying following
    or sharing is not required for what it offers, or earns nothing; 已经关注的宝妈 names
    who is addressed; 关注群通知 is paying attention, not following."""
    if text[start:end] == "关注" and _ATTENTION.match(text, end):
        return None
    if text[:start].endswith(("已经", "已")) and text[end : end + 1] == "的":
        return None
    if _NOT_A_CONDITION.search(clause_after(text, end)) or _THANKS.search(
        clause_before(text, start)
    ):
        return None  # …, or thanks for it: 感谢大家的关注和转发
    sentence_end = _SENTENCE_MARK.search(text, end)
    # from the character before: the 关注 of 不关注也能… is no condition either
    rest = text[max(0, start - 1) : sentence_end.start() if sentence_end else len(text)]
    sentence = sentence_around(text, start, end)
    if _ALSO_WITHOUT.search(rest) or _reward_denied(sentence):
        return None
    if _CONDITION_WAIVED.search(sentence) and not _GIFT.search(sentence):
        return None  # 可以转给朋友，不用截图也不用集赞: sharing asked for nothing
    return start, end


# --- medical ----------------------------------------------------------------------------------

_MEDICAL_ADVICE = re.compile(
    "(?<!舒)服用|正在吃|正在用|用药期间|吃药期间|咨询医生|问医生|听医生|找医生|遵医嘱|按医嘱|按医生|"
    "问一下医生|问问医生|咨询一下医生|"
    # a registered 保健食品 may state its approved function
    "国食健注|国食健字|卫食健字|食健备|"
    "(?:去|带[^,;:!?。]{0,4}去)看(?:医生|儿科|皮肤科|门诊|急诊|专科)|(?<!不用)(?<!无需)(?<!不必)就医|"
    # advice to go, not a customer's story of a check-up (去医院复查，医生都说…)
    "(?:请|建议|及时|尽快|应该|应当|需要|要|务必|还是|最好|先|赶紧|马上|就)[^,;:!?。]{0,3}去医院|"
    "(?<!不用)(?<!不必)(?<!比)去(?:药店|药房)|到(?:药店|药房)|医生指导|在医生|遵照医嘱|(?<!不是)(?<!并非)医疗器械|械字号|注册证|国药准字|药品批准"
)


#: Warnings that clear only what they stand beside: 抗肿瘤，孕妇不宜 is still a claim.
_WARNING = re.compile("慎用|禁用|忌用|请勿|不宜")
#: 治不好颈椎病, 治不了: "cannot treat", the merchant's own disclaimer.
_CANNOT_TREAT = re.compile("(?:治疗|医治|治)(?:不了|不好|不住)")


#: 对香菜不感冒: "not keen on", no cold prevented.
_NOT_KEEN = re.compile("对[^,;:!?。]{1,10}?(?:都|也|一直|从来|并|有点|完全)?不感冒")


def medical_advice(text: str, start: int, end: int) -> Span | None:
    """降压药 named in a drug-interaction warning, or advice to see a doctor, claims nothing."""
    if _CANNOT_TREAT.match(text, start):
        return None
    if text.startswith("感冒", end - 2) and _NOT_KEEN.search(clause_around(text, start, end)):
        return None
    if _WARNING.search(clause_around(text, start, end)):
        return None  # 孕妇慎用降压药: a warning about the claim's own words
    return None if _MEDICAL_ADVICE.search(sentence_around(text, start, end)) else (start, end)


_POLICY = re.compile(
    "(?:积分|会员|优惠券|券|余额|储值|会员卡|权益|资格|身份|链接|地址|回放|录播|课程|网课|视频课|资料|账号|兑换码|"
    "礼品卡|购物卡|学习卡|权限|观看权限|听课权限)$"
)
_THANKS = re.compile("谢谢|感谢|多谢")


#: 所有批次都能扫溯源码查到产地: how anyone can check the goods, no promise about them.
_LOOKUP = re.compile("扫码|扫一扫|查询|查验|核验|验证|溯源|追溯|查备案|查真伪|查证|查到")


def not_policy(text: str, start: int, end: int) -> Span | None:
    """会员积分永久有效 is the shop's own policy, not a promise about the goods; nor is a way
    to look the goods up."""
    if _POLICY.search(clause_before(text, start)) or _LOOKUP.search(clause_after(text, end)):
        return None
    return start, end


#: 可能有轻微气味，通风半小时后就会消失: a passing side effect of new goods, no result promised.
_SIDE_EFFECT = re.compile(
    "(?<!口)味|刺痛|刺激感|刺痒|泡沫|雾气|白雾|折痕|压痕|褶皱|红印|噪音|响声|水汽|"
    "静电|紧绷感|拔干感|搓泥"
)
_GOES_AWAY = ("消失", "散", "散去", "散掉", "没了", "退")


#: 分享一个布尿布的折法…三分钟学会: a knack the shop passes on, no course sold.
_KNACK_SHARED = re.compile(
    "(?:分享|教大家|教你|教程|做法|折法|叠法|系法|方法|窍门|妙招|小技巧)"
)
_COURSE = re.compile("课|班|学员|报名|学费|老师")


def not_side_effect(text: str, start: int, end: int) -> Span | None:
    """What goes away is a smell, a tingle or a crease the copy warned of, not a result; a
    cleansing oil that turns milky (乳化…十秒就能变白) changes itself, not the skin."""
    if text[start:end].endswith(_GOES_AWAY) and _SIDE_EFFECT.search(sentence_before(text, start)):
        return None
    if "乳化" in sentence_before(text, start):
        return None
    return start, end


#: 大部分学员四到六个月能看懂对话，但这因人而异: an honest expectation, hedged.
_MOST_BEFORE = re.compile("大部分|大多数|多数|一般|通常|平均|多半")
_HEDGE_AFTER = re.compile("因人而异|不做保证|不保证|不承诺|不能保证|仅供参考|不一定")


def not_hedged(text: str, start: int, end: int) -> Span | None:
    """A result most customers reach, hedged in its sentence, is an expectation, no promise."""
    if _MOST_BEFORE.search(clause_before(text, start)) and _HEDGE_AFTER.search(
        text, end, end + 24
    ):
        return None
    return start, end


def not_a_knack(text: str, start: int, end: int) -> Span | None:
    """A knack the shop shares for free is learnt quickly without any course promised."""
    if text[start:end].endswith("学会"):
        sentence = sentence_around(text, start, end)
        if _KNACK_SHARED.search(sentence) and not _COURSE.search(sentence):
            return None
    return start, end


#: 按GB/T 20944.3检测，抑菌率≥99%; 实验舱内去除率99%（第三方检测）: a rate measured, with
#: the test that measured it.
_TEST_NAMED = re.compile("检测|测试|实验|实测|第三方|gb|标准|报告|认证机构")


def not_a_test_result(text: str, start: int, end: int) -> Span | None:
    """A rate stated with the test behind it reports a measurement, it promises nothing."""
    if "率" in text[start:end] and _TEST_NAMED.search(sentence_around(text, start, end)):
        return None
    return start, end


#: 医生的建议比任何护肤品都重要, 通风比什么除味产品都管用: advice set above all goods, the
#: shop's own included, ranks and promises nothing.
_LICENCE = re.compile("授权|独家代理|独家合作")
_ADVICE_SUBJECT = re.compile("建议|医生|大夫|休息|睡眠|就医|作息|通风|开窗|体检")


def not_advice_over_goods(text: str, start: int, end: int) -> Span | None:
    """Advice praised above every product is no claim about the shop's goods."""
    return None if _ADVICE_SUBJECT.search(clause_before(text, start)) else (start, end)


def not_a_licence(text: str, start: int, end: int) -> Span | None:
    """A licence only the shop holds (别的店拿不到这个款的授权) is a fact, like 独家."""
    return None if _LICENCE.search(sentence_around(text, start, end)) else (start, end)


#: 为了万无一失，我们每单都拍视频: the aim of the shop's own care, no promise to the buyer.
_AIMED_AT = re.compile("(?:为了|为|以求|力求|以防|以确保)$")


def not_an_aim(text: str, start: int, end: int) -> Span | None:
    """A guarantee word the shop aims its own work at promises the buyer nothing."""
    return None if _AIMED_AT.search(text, max(0, start - 3), start) else (start, end)


#: 不转发这条，成绩永远提不上去: a threat for not sharing, no guarantee about goods.
_SHARING_THREAT = re.compile("不(?:转发|转|分享|扩散)")


def not_a_threat(text: str, start: int, end: int) -> Span | None:
    """永远 in a threat for not sharing (不转发…永远…) is the sharing rule's business."""
    return None if _SHARING_THREAT.search(sentence_before(text, start)) else (start, end)


def not_thanks(text: str, start: int, end: int) -> Span | None:
    """点赞过千了，谢谢大家: thanks for likes, no reward asked."""
    sentence = sentence_around(text, start, end)
    if _THANKS.search(sentence) and not _REWARD_LEFT.search(sentence):
        return None  # 谢谢大家～集满28个赞送樱桃 still rewards the likes
    return start, end


def aligned(text: str, start: int, end: int) -> Span | None:
    """Marks a rule whose term must start on a word boundary; the screener checks that before
    any context (it needs jieba's dictionary), so here the span passes unchanged."""
    return start, end


CHECKERS: dict[str, Checker] = {
    "aligned": aligned,
    "not_policy": not_policy,
    "not_side_effect": not_side_effect,
    "not_a_knack": not_a_knack,
    "not_hedged": not_hedged,
    "not_an_aim": not_an_aim,
    "not_a_test_result": not_a_test_result,
    "not_advice_over_goods": not_advice_over_goods,
    "not_a_licence": not_a_licence,
    "not_a_threat": not_a_threat,
    "not_thanks": not_thanks,
    "medical_advice": medical_advice,
    "zui": zui,
    "ordinal": ordinal,
    "name": name,
    "champion": champion,
    "market_only": market_only,
    "not_an_award": not_an_award,
    "not_a_record": not_a_record,
    "national_grade": national_grade,
    "absolute": absolute,
    "tool_name": tool_name,
    "not_service": not_service,
    "customer_shares": customer_shares,
    "not_a_condition": not_a_condition,
    "not_programme": not_programme,
    "not_own_conduct": not_own_conduct,
}


def decide(names: tuple[str, ...], text: str, start: int, end: int) -> Span | None:
    """The span to flag after every checker the rule names, or None when one clears it."""
    span: Span = (start, end)
    for checker_name in names:
        checked = CHECKERS[checker_name](text, span[0], span[1])
        if checked is None:
            return None
        span = checked
    if framed(text, span[0], span[1]):
        return None
    return span
