"""What the screener says about real shop copy, and where it points."""

from __future__ import annotations

import pytest

from content_audit import default_screener
from content_audit.ruleset import RuleSet, load_shipped, rule_from_dict
from content_audit.screener import Screener


def screen(text: str, scope: str | None = None):
    return default_screener().screen(text, scope)


@pytest.mark.parametrize(
    ("text", "verdict", "terms"),
    [
        ("全网最好用的面霜", "block", ["最好用"]),
        ("最好最佳的选择", "block", ["最好最佳"]),
        ("销量第一NO.1", "block", ["销量第一", "NO.1"]),
        ("国家级配方，最受欢迎", "block", ["国家级配方", "最受欢迎"]),
        ("宝宝湿疹用它能根治", "block", ["根治"]),
        ("100%有效，无效退款", "block", ["100%有效", "无效退款"]),
        ("绝对安全，放心买", "block", ["绝对安全"]),
        ("转发朋友圈即可领取红包", "review", ["转发朋友圈即可领取红包"]),
        ("关注公众号才能查看优惠券", "review", ["关注公众号才能查看优惠券"]),
        ("不转不是中国人", "block", ["不转不是"]),
        ("zui好的口红", "block", ["zui好"]),
        ("醉好用的面霜", "block", ["醉好用"]),
        ("Best price of the year", "block", ["Best"]),
        ("#1 bestseller", "block", ["#1"]),
    ],
)
def test_violations_are_flagged_with_the_authors_words(text, verdict, terms):
    result = screen(text)
    assert result.verdict == verdict
    assert [f.term for f in result.flags] == terms
    for flag in result.flags:
        assert text[flag.start : flag.end] == flag.term


@pytest.mark.parametrize(
    "text",
    [
        "最近上新，最后一天特价",
        "第一次购买享9折，第一时间发货",
        "每人最多限购3件，最少起订2件",
        "统一流程发货",
        "山顶级别的风景照片",
        "100%纯棉婴儿连体衣",
        "欢迎分享给朋友。下单即送小样。",
        "下单送小样，包邮到家",
        "分享给好友，送货上门",
        "bestow upon you",
        "7天无理由退货，满199减20",
        "政治正确的治理方案",
        "绝对正品，放心买",
    ],
)
def test_hard_negatives_pass(text):
    assert screen(text).verdict == "pass", screen(text).flags


@pytest.mark.parametrize(
    "text", ["最 好的面霜", "最~佳口红", "最👍好用", "最\u200b好", "頂級品質", "ＮＯ．１", "第1名"]
)
def test_evasions_are_caught_and_point_at_the_original(text):
    result = screen(text)
    assert result.verdict == "block"
    flag = result.flags[0]
    assert flag.term == text[flag.start : flag.end] and flag.start == 0


def test_the_verdict_names_the_ruleset_version_and_rules():
    result = screen("顶级面霜，央视推荐")
    assert result.ruleset_version == load_shipped().version
    assert result.rule_ids == ["authority.endorsement", "superlative.words"]
    assert result.as_json()["flags"][0]["rule_id"] == "superlative.words"


def test_suggestions_offered_are_clean_themselves():
    screener = default_screener()
    for rule in screener.ruleset.rules:
        for flag in screener.screen(rule.terms[0] if rule.terms else "不转不是").flags:
            if flag.suggestion:
                assert screener.screen(flag.suggestion).verdict == "pass"


def test_a_dirty_suggestion_is_not_offered():
    rule = rule_from_dict(
        {"id": "t.x", "kind": "word", "terms": ["顶级货"], "category": "superlative",
         "severity": "block", "suggestions": ["最好", "精选"]}
    )
    rules = RuleSet("t", (*load_shipped().rules, rule))  # 最好 is itself blocked there
    flag = Screener(rules).screen("顶级货好物").flags[-1]
    assert flag.suggestion == "精选"


def test_rules_apply_only_in_their_scopes():
    rule = rule_from_dict(
        {"id": "t.push", "kind": "word", "terms": ["秒杀"], "category": "x",
         "severity": "review", "scopes": ["push"]}
    )
    screener = Screener(RuleSet("t", (rule,)))
    assert screener.screen("限时秒杀", "push").verdict == "review"
    assert screener.screen("限时秒杀", "product").verdict == "pass"


def test_bad_rules_are_refused_with_a_reason():
    from content_audit.ruleset import RuleError

    with pytest.raises(RuleError, match="severity"):
        rule_from_dict({"id": "a", "kind": "word", "terms": ["x"], "category": "c",
                        "severity": "maybe"})
    with pytest.raises(RuleError, match="bad regex"):
        rule_from_dict({"id": "b", "kind": "regex", "pattern": "(", "category": "c",
                        "severity": "block"})


def test_empty_and_odd_input_pass_without_error():
    for text in ["", " ", "\u200b", "🙂🙂", "\x00", "a" * 10_000]:
        assert screen(text).verdict == "pass"


@pytest.mark.parametrize(
    "text",
    [
        "转发朋友圈即可领取小样；转发到群，送红包！",
        "iPhone15 送 AirPods，关注@小店 领取 100%好评",
        "第1名ss，最 好用 的面霜，抽奖\n送货上门\r\n送",
        "转发·朋友圈🙂送#1礼品_送",
    ],
)
def test_a_block_edge_is_a_word_start_in_jiebas_segmentation(text):
    """The shortcut that spares segmenting the window says nothing jieba would not."""
    from content_audit.word_boundaries import _block_edge, _tokens_around

    for index in range(len(text)):
        if _block_edge(text, index):
            starts = {start for start, _ in _tokens_around(text, index, index + 1)}
            assert index in starts, (text, index)
            if _block_edge(text, index + 1):
                assert (index, index + 1) in _tokens_around(text, index, index + 1)


def test_a_hit_inside_its_rules_allow_phrase_passes_and_one_beside_it_is_flagged():
    rule = rule_from_dict(
        {"id": "t.first", "kind": "word", "terms": ["第一", "好"], "category": "superlative",
         "severity": "block", "allow": ["第一次", "好好"]}
    )
    screener = Screener(RuleSet("t", (rule,)))
    assert screener.screen("第一次来").verdict == "pass"
    assert screener.screen("好好好").verdict == "pass"  # overlapping allow phrases
    assert [(f.start, f.end) for f in screener.screen("第一次第一").flags] == [(3, 5)]
    assert [(f.start, f.end) for f in screener.screen("好好，好").flags] == [(3, 4)]
