"""The blind development corpus (eval/content_audit/dev.jsonl) as a regression guard.

Written from the labelling standard by people who never saw the rules (eval/README.md). The
rules were tuned on this part, so these figures guard against regressions; they are not the
quality claim. The claim is the test part's figures in the README (`eval/score_audit.py test`).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from content_audit import default_screener
from content_audit.ruleset import CATEGORIES

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "eval"))
from score_audit import TUNING, read, score


def test_the_development_part_covers_every_kind_and_category():
    lines = read("dev")
    assert len(lines) >= 1300
    assert {line.kind for line in lines} == {
        "beauty", "food", "baby", "farm", "apparel", "education", "electronics", "general",
    }
    categories = {category for line in lines for _, _, category in line.spans}
    assert categories == set(CATEGORIES)


def test_the_screener_still_meets_its_aims_on_the_development_part():
    result = score(read("dev"), default_screener())
    precision, recall, f1 = result.total.figures(strict=True)
    assert f1 >= 0.98, (precision, recall)
    assert result.line_accuracy >= 0.98
    assert result.clean_rate >= 0.98
    assert result.evasions_caught >= 0.97 * result.evasions


def test_the_anchors_of_the_regex_rules_miss_none_of_their_matches():
    """A regex rule runs only when one of its anchors is in the copy; an anchor list that
    forgets a way the pattern can match would silently drop flags."""
    from content_audit.ruleset import load_shipped
    from content_audit.screener import Screener

    fast = default_screener()
    thorough = Screener(load_shipped(), anchored=False)
    texts = [line.text for part in TUNING for line in read(part)]

    def claims(screener: Screener, text: str) -> list[tuple[int, int, str]]:
        return [(f.start, f.end, f.category) for f in screener.screen(text).flags]

    missed = [text for text in texts if claims(fast, text) != claims(thorough, text)]
    assert missed == []


@pytest.mark.parametrize("part", [part for part in TUNING if part != "dev"])
def test_the_later_tuning_sets_keep_their_clean_lines_clean(part):
    """Each later blind set was scored once blind, then tuned on (eval/README.md); a change
    that flags their clean copy again, or loses most of their claims, is a regression."""
    result = score(read(part), default_screener())
    assert result.clean_rate >= 0.99, (part, result.clean_left, result.clean)
    assert result.total.figures()[2] >= 0.95, part
    assert result.line_accuracy >= 0.98, part
