"""One normalisation for copy and patterns; every evasion folds to the plain form."""

from __future__ import annotations

import pytest

from content_audit import default_screener
from content_audit.normalize import normalize


@pytest.mark.parametrize(
    ("written", "seen"),
    [
        ("最 好", "最好"),
        ("最~佳", "最佳"),
        ("最👍好", "最好"),
        ("最\u200b好", "最好"),
        ("國家級", "国家级"),
        ("ＮＯ．１", "no.1"),
        ("TOP1", "top1"),
        ("第1名", "第一名"),
        ("国·家·级", "国家级"),
        ("顶-级", "顶级"),
        ("b\u200best", "best"),
    ],
)
def test_evasions_fold_to_the_plain_form(written, seen):
    assert normalize(written).text == seen


def test_sentence_ends_and_latin_spacing_are_kept():
    assert normalize("欢迎分享。下单送小样").text == "欢迎分享。下单送小样"
    assert normalize("best  price").text == "best  price"
    assert normalize("100% 有效").text == "100%有效"


@pytest.mark.parametrize("text", ["最 好的面霜", "全网\u200b最佳", "ＮＯ．１人气", "ß最👍好"])
def test_offsets_point_into_the_original(text):
    norm = normalize(text)
    for i in range(len(norm.text)):
        start, end = norm.original_span(i, i + 1)
        assert 0 <= start < end <= len(text)
    start, end = norm.original_span(0, len(norm.text))
    assert (start, end) == (0, len(text))


def test_every_pattern_matches_itself():
    """A term a rule lists is flagged on its own, unless the rule's context checks must see
    more than the word (唯一 alone is ordinary speech; 唯一 after 全网 is a claim)."""
    screener = default_screener()
    for rule in screener.ruleset.rules:
        if rule.kind == "word" and set(rule.context) <= {"name", "aligned", "champion"}:
            for term in rule.terms:
                verdict = screener.screen(term)
                assert rule.id in verdict.rule_ids, (rule.id, term)
        if rule.kind == "cooccur":
            text = f"{rule.first[0]}就{rule.second[0]}"
            assert rule.id in screener.screen(text).rule_ids, (rule.id, text)


@pytest.mark.parametrize(
    ("written", "seen"),
    [
        ("zui好喝", "最好喝"),
        ("特gong", "特供"),
        ("有xiao果", "有效果"),
        ("降xue压", "降血压"),
        ("降血táng", "降血糖"),
        ("guan注后才能领", "关注后才能领"),
        ("醉好穿", "最好穿"),
        ("蕞强", "最强"),
        ("集攒", "集赞"),
        ("第①", "第一"),
        ("全市唯1", "全市唯一"),
        ("转💫发", "转发"),
        ("顶👩‍👩‍👧‍👦级", "顶级"),
        ("包 guo 面试", "包过面试"),
        ("点 zan 前10名", "点赞前10名"),
    ],
)
def test_pinyin_look_alikes_and_emoji_inside_words_fold_to_the_word(written, seen):
    assert normalize(written).text == seen


@pytest.mark.parametrize(
    "text",
    ["醉蟹很好吃", "iPhone手机", "VIP会员", "5ml小样", "最，好", "iPhone 手机", "我 love 你"],
)
def test_real_words_and_latin_are_not_read_as_evasions(text):
    assert normalize(text).text in (text.lower(), "最,好")


@pytest.mark.parametrize(("text", "term"), [
    ("这款zui好喝的茶", "zui好喝"),
    ("能zhi疗湿疹的药膏", "zhi疗湿疹"),
    ("降血táng神器", "降血táng"),
    ("全网最 低价", "最 低价"),
])
def test_a_pinyin_evasion_is_flagged_with_the_authors_spelling(text, term):
    flags = default_screener().screen(text).flags
    assert [text[f.start : f.end] for f in flags] == [term]


@pytest.mark.parametrize(
    ("written", "seen"),
    [
        ("排名第壹", "排名第一"),  # a traditional numeral for 一 after 第
        ("國家級工藝", "国家级工艺"),  # the fast table for ordinary characters
        ("國家級👍工藝", "国家级工艺"),  # an emoji beyond the BMP takes the full table
        ("最_好", "最好"),  # "_" is a word character, yet a separator
        ("清理xue管", "清理血管"),
        ("口腔yan", "口腔炎"),
    ],
)
def test_the_fast_paths_fold_like_the_full_ones(written, seen):
    assert normalize(written).text == seen


def test_copy_with_nothing_to_drop_is_left_as_it_is():
    text = "今日上新,限时99元包邮。"
    assert normalize(text).text == text
    assert normalize(text).original_span(0, len(text)) == (0, len(text))


def _fold_with_the_whole_table(text: str) -> str:
    """The fold as it was before the common marks were replaced directly (the reference)."""
    import unicodedata

    from content_audit.normalize import _table

    quick = text.translate(_table())
    if unicodedata.is_normalized("NFKC", quick) and len(quick.casefold()) == len(text):
        return quick.casefold()
    return "".join(
        unicodedata.normalize("NFKC", char).casefold().translate(_table()) for char in text
    )


@pytest.mark.parametrize(
    "text",
    [
        "今日上新，限时99元包邮；满199减20：先到先得！还有吗？（限量）～１００％",
        "國家級工藝，ＮＯ．１！",
        "最👍好，蕞强？",
        "ﬁne ß，Ｔｏｐ　１",
        "降血táng，ＺＵＩ好",
        "",
    ],
)
def test_replacing_the_common_marks_folds_like_the_whole_table(text):
    from content_audit.normalize import _fold

    assert _fold(text)[0] == _fold_with_the_whole_table(text)


def test_the_one_set_test_after_folding_holds_every_character_a_later_step_acts_on():
    from content_audit.normalize import _LOOKALIKE_CHARS, _MAY_DROP, _after_folding

    found = _after_folding()
    for code in range(0x10000):
        char = chr(code)
        acted_on = bool(
            _MAY_DROP.match(char) or _LOOKALIKE_CHARS.match(char) or char == "_"
            or "a" <= char <= "z"
        )
        assert bool(found.match(char)) == acted_on, hex(code)
    assert found.match("🙂")


@pytest.mark.parametrize(
    "text",
    ["最 好的面霜", "ß最👍好 ﬁ 国·家·级", "全网\u200b最佳，第 1 名", "ＮＯ．１ ß 人气", "今日上新"],
)
def test_all_original_indices_at_once_agree_with_one_at_a_time(text):
    norm = normalize(text)
    assert norm.original_indices() == [norm.original_index(i) for i in range(len(norm.text))]


def test_a_syllable_read_back_after_dropped_separators_points_at_the_syllable():
    text = "ß 全·网 zui好"
    norm = normalize(text)
    assert norm.text == "ss 全网最好"
    spelled = [text[slice(*norm.original_span(i, i + 1))] for i in range(len(norm.text))]
    assert spelled == ["ß", "ß", " ", "全", "网", "zui", "好"]


@pytest.mark.parametrize(
    ("text", "flagged", "category"),
    [
        ("月饼销量第❶", "销量第❶", "superlative"),
        ("口碑第ー的奶茶", "第ー", "superlative"),
        ("鼎级面料，软到心里", "鼎级", "superlative"),
        ("关住公众号后才能抽奖", "关住公众号后才能抽奖", "induced_sharing"),
        ("坚持喝能降三搞", "降三搞", "medical_claim"),
    ],
)
def test_more_look_alikes_are_read_as_the_word_they_hide(text, flagged, category):
    flags = default_screener().screen(text).flags
    assert [(flag.term, flag.category) for flag in flags] == [(flagged, category)]


@pytest.mark.parametrize("text", ["记住取件码", "门窗关住了再开空调", "搞活动的时间"])
def test_the_same_characters_in_ordinary_words_stay_clean(text):
    assert default_screener().screen(text).flags == ()
