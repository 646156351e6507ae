"""Rules as versioned data: the shipped TOML file, and (once edited) the copy in SQL.

A RuleSet is immutable; a new version is a new object, so a screener built on one keeps
answering consistently while a newer one is being built beside it.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from content_audit.context import CHECKERS

SHIPPED = Path(__file__).with_name("rules") / "adlaw.toml"
KINDS = ("word", "regex", "cooccur", "homophone")
SEVERITIES = ("block", "review")
#: The labelling standard's five categories (../shared/AUDIT_STANDARD.md).
CATEGORIES = (
    "superlative", "authority", "absolute_guarantee", "medical_claim", "induced_sharing",
)
CATEGORY_LABELS = {
    "superlative": "绝对化用语", "authority": "借用国家名义", "absolute_guarantee": "保证性承诺",
    "medical_claim": "医疗功效", "induced_sharing": "诱导分享关注",
}
#: Names rule sets used before the standard; stored versions still load under the new names.
OLD_CATEGORY_NAMES = {
    "guarantee": "absolute_guarantee", "medical": "medical_claim",
    "induced_share": "induced_sharing",
}


def category_label(name: str) -> str:
    """The Chinese name of a category, old names included; an unknown one as it is."""
    name = OLD_CATEGORY_NAMES.get(name, name)
    return CATEGORY_LABELS.get(name, name)


#: `<<name>>` in a regex pattern stands for the lexicon list `name`, as one alternation.
_PLACEHOLDER = re.compile(r"<<(\w+)>>")


@dataclass(frozen=True)
class Rule:
    id: str
    kind: str
    category: str
    severity: str
    basis: str = ""
    rationale: str = ""
    terms: tuple[str, ...] = ()
    pattern: str = ""
    first: tuple[str, ...] = ()  # cooccur: e.g. share verbs
    second: tuple[str, ...] = ()  # cooccur: e.g. rewards and gates
    tails: tuple[str, ...] = ()  # homophone: what follows the disguised term
    suggestions: tuple[str, ...] = ()
    allow: tuple[str, ...] = ()
    scopes: tuple[str, ...] = ()  # empty: every scope
    # Context checks (content_audit/context.py) that decide each candidate by its
    # surroundings; the framing check (quotation, denial) runs on every rule.
    context: tuple[str, ...] = ()
    # regex: run only when one of these words is in the copy (found in the one-pass scan).
    anchors: tuple[str, ...] = ()
    enabled: bool = True

    def applies_to(self, scope: str | None) -> bool:
        return self.enabled and (not scope or not self.scopes or scope in self.scopes)


@dataclass(frozen=True)
class RuleSet:
    version: str
    rules: tuple[Rule, ...] = field(default_factory=tuple)

    def by_id(self, rule_id: str) -> Rule | None:
        return next((rule for rule in self.rules if rule.id == rule_id), None)


class RuleError(ValueError):
    pass


def rule_from_dict(data: dict[str, Any]) -> Rule:
    """Build and check one rule; raise RuleError naming what is wrong."""
    rule_id = str(data.get("id", "")).strip()
    if not rule_id:
        raise RuleError("a rule has no id")
    kind = data.get("kind")
    if kind not in KINDS:
        raise RuleError(f"{rule_id}: kind must be one of {', '.join(KINDS)}")
    if data.get("severity") not in SEVERITIES:
        raise RuleError(f"{rule_id}: severity must be block or review")
    if not data.get("category"):
        raise RuleError(f"{rule_id}: no category")
    tuples = {}
    for name in (
        "terms", "first", "second", "tails", "suggestions", "allow", "scopes", "context",
        "anchors",
    ):
        values = data.get(name, ())
        if not isinstance(values, (list, tuple)) or not all(isinstance(v, str) for v in values):
            raise RuleError(f"{rule_id}: {name} must be a list of strings")
        tuples[name] = tuple(v for v in values if v.strip())
    unknown = [name for name in tuples["context"] if name not in CHECKERS]
    if unknown:
        raise RuleError(f"{rule_id}: unknown context check {', '.join(unknown)}")
    if not isinstance(data.get("enabled", True), bool):
        raise RuleError(f"{rule_id}: enabled must be true or false")
    if kind in ("word", "homophone") and not tuples["terms"]:
        raise RuleError(f"{rule_id}: a {kind} rule needs terms")
    if kind == "cooccur" and not (tuples["first"] and tuples["second"]):
        raise RuleError(f"{rule_id}: a cooccur rule needs first and second terms")
    if kind == "regex":
        import re

        try:
            re.compile(str(data.get("pattern", "")))
        except re.error as error:
            raise RuleError(f"{rule_id}: bad regex: {error}") from None
        if not data.get("pattern"):
            raise RuleError(f"{rule_id}: a regex rule needs a pattern")
    return Rule(
        id=rule_id,
        kind=kind,
        category=OLD_CATEGORY_NAMES.get(str(data["category"]), str(data["category"])),
        severity=str(data["severity"]),
        basis=str(data.get("basis", "")),
        rationale=str(data.get("rationale", "")),
        pattern=str(data.get("pattern", "")),
        enabled=bool(data.get("enabled", True)),
        **tuples,
    )


def expand_lexicon(pattern: str, lexicon: dict[str, list[str]]) -> str:
    """`pattern` with each `<<name>>` replaced by the lexicon list as `(?=[…])(?:a|b|…)`.

    Longer words first, so an alternation prefers 腰椎间盘突出 to 突出. The lookahead on
    the words' first characters lets the regex engine skip, in one set test, every position
    no word can start at; without it each position tries every word of a long list in turn
    (the disease list has some 250), and those rules cost most of the screening time.
    """

    def alternation(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in lexicon:
            raise RuleError(f"unknown lexicon list <<{name}>>")
        words = sorted(set(lexicon[name]), key=len, reverse=True)
        firsts = "".join(sorted({re.escape(word[0]) for word in words if word}))
        return f"(?=[{firsts}])(?:" + "|".join(re.escape(word) for word in words) + ")"

    return _PLACEHOLDER.sub(alternation, pattern)


def load_shipped(path: Path = SHIPPED) -> RuleSet:
    """The shipped rules, their lexicon lists expanded (stored versions hold them expanded)."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    lexicon = {name: list(words) for name, words in data.get("lexicon", {}).items()}
    items = []
    for item in data.get("rule", []):
        item = dict(item)
        if "pattern" in item:
            item["pattern"] = expand_lexicon(item["pattern"], lexicon)
        for name in ("terms", "first", "second", "anchors"):
            item[name] = [
                word for value in item.get(name, ())
                for word in (lexicon[value[2:-2]] if _PLACEHOLDER.fullmatch(value) else [value])
            ]
        items.append(item)
    rules = tuple(rule_from_dict(item) for item in items)
    ids = [rule.id for rule in rules]
    if len(ids) != len(set(ids)):
        raise RuleError("rule ids must be unique")
    return RuleSet(version=str(data["version"]), rules=rules)
