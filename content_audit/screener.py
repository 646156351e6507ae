"""Screen a copy against the rule set: pass, review or block, with every hit explained.

Two stages keep it fast and precise. An Aho-Corasick automaton (pyahocorasick) finds every
candidate in one pass over the normalised text: a word rule's terms, a sentence rule's two
sides, and the anchors without which a regex rule cannot match; clean copy never gets
further. Only then do the regex rules whose anchors were seen run, and every candidate is
decided by its context (content_audit/context.py: 最近 and 最大功率 are no claims, a quoted
customer question is not the merchant's). Overlapping claims of one category merge; across
categories the more specific rule keeps the span (根治高血压 is a guarantee).

No Flask, no SQL: the gate, the console, the CLI and the benchmarks all call `screen`.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from typing import Any, NamedTuple

import ahocorasick

from content_audit.context import CLAUSE_END, decide
from content_audit.homophones import HomophoneChannel
from content_audit.normalize import TERMINATORS, Normalized, is_cjk, normalize, normalize_pattern
from content_audit.ruleset import Rule, RuleSet

SEVERITY_RANK = {"pass": 0, "review": 1, "block": 2}
WINDOW = 8  # characters of context jieba sees on each side of a candidate
# What an automaton key can start: a word rule's hit, or one side of a co-occurrence pair.
_WORD, _FIRST, _SECOND, _ANCHOR, _ALLOW = 1, 2, 4, 8, 16
_PAIR = _FIRST | _SECOND
_SENTENCE_END = re.compile(f"[{TERMINATORS}]")
SHARE_SPAN = 14  # a sharing flag covers the action and its condition, up to the clause end


@dataclass(frozen=True)
class Flag:
    term: str  # the words as the author wrote them
    category: str
    start: int  # offsets into the original text, [start, end)
    end: int
    severity: str
    rule_id: str
    suggestion: str = ""


@dataclass(frozen=True)
class Verdict:
    verdict: str  # pass | review | block
    flags: tuple[Flag, ...] = field(default_factory=tuple)
    ruleset_version: str = ""
    exempted: tuple[Flag, ...] = field(default_factory=tuple)  # hits an exemption allowed

    @property
    def rule_ids(self) -> list[str]:
        return sorted({flag.rule_id for flag in self.flags})

    def as_json(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict,
            "flags": [asdict(flag) for flag in self.flags],
            "ruleset_version": self.ruleset_version,
            "exempted": [asdict(flag) for flag in self.exempted],
        }


class _Hit(NamedTuple):
    """A candidate; a tuple, not a frozen dataclass, because a copy makes dozens of them and
    a frozen dataclass is several times slower to build."""

    start: int  # normalised offsets
    end: int
    rule: Rule
    term: str


class Screener:
    """Built once per rule-set version; `screen` is thread-safe and allocation-light."""

    def __init__(self, ruleset: RuleSet, *, anchored: bool = True):
        """`anchored=False` runs every regex rule on every copy: slow, for checking that the
        anchors of a rule miss none of its matches."""
        self.ruleset = ruleset
        self._automaton = ahocorasick.Automaton()
        entries: dict[str, list[tuple[str, Rule]]] = defaultdict(list)
        self._regex: dict[str, tuple[Rule, re.Pattern[str]]] = {}
        self._unanchored: list[str] = []
        for rule in ruleset.rules:
            if rule.kind == "word":
                for term in rule.terms:
                    entries[normalize_pattern(term)].append(("hit", rule))
                for phrase in rule.allow:
                    entries[normalize_pattern(phrase)].append(("allow", rule))
            elif rule.kind == "cooccur":
                for term in rule.first:
                    entries[normalize_pattern(term)].append(("first", rule))
                for term in rule.second:
                    entries[normalize_pattern(term)].append(("second", rule))
            elif rule.kind == "regex":
                self._regex[rule.id] = (rule, re.compile(rule.pattern))
                for anchor in rule.anchors if anchored else ():
                    entries[normalize_pattern(anchor)].append(("anchor", rule))
                if not rule.anchors or not anchored:
                    self._unanchored.append(rule.id)
        for key, roles in entries.items():
            if key:
                kinds = {role for role, _ in roles}
                mask = (
                    ("hit" in kinds) * _WORD | ("first" in kinds) * _FIRST
                    | ("second" in kinds) * _SECOND | ("anchor" in kinds) * _ANCHOR
                    | ("allow" in kinds) * _ALLOW
                )
                self._automaton.add_word(key, (key, tuple(roles), mask))
        self._automaton.make_automaton()
        # Where each allow phrase holds a term of its own rule (最 at 0 in 最近): the hits it
        # covers are then known from the phrase's position alone, with no spans compared.
        self._covers: dict[tuple[str, str], tuple[tuple[int, int], ...]] = {}
        for rule in ruleset.rules:
            if rule.kind == "word":
                terms = {normalize_pattern(term) for term in rule.terms} - {""}
                for phrase in map(normalize_pattern, rule.allow):
                    self._covers[phrase, rule.id] = tuple(
                        (offset, len(term)) for term in terms for offset in _offsets(term, phrase)
                    )
        self._homophones = HomophoneChannel(
            [rule for rule in ruleset.rules if rule.kind == "homophone"]
        )
        self._passed = Verdict("pass", (), ruleset.version)  # immutable: one serves every pass
        self._suggestions: dict[str, str] = {}
        # Suggested rewrites are offered only if they pass the same rules themselves.
        for rule in ruleset.rules:
            clean = next((s for s in rule.suggestions if self.screen(s).verdict == "pass"), "")
            self._suggestions[rule.id] = clean

    # --- the public call --------------------------------------------------------------------

    def screen(self, text: str, scope: str | None = None) -> Verdict:
        """The verdict on `text` for `scope` (push, product, reply, bargain, agent; None: all)."""
        norm = normalize(text or "")
        original = text or ""
        hits = self._candidates(norm.text, scope)
        if self._homophones.active:
            hits += [
                _Hit(start, end, rule, term)
                for start, end, rule, term in self._homophones.find(norm.text, scope)
            ]
        if not hits:
            return self._passed
        flags = [self._flag(original, norm, hit) for hit in _one_per_claim(hits)]
        return verdict_of(_dedupe(flags), self.ruleset.version)

    # --- stages -----------------------------------------------------------------------------

    def _candidates(self, text: str, scope: str | None) -> list[_Hit]:
        """Every candidate the scan finds, each decided by its context."""
        found = list(self._automaton.iter(text))
        seen = 0
        for _end, (_key, _roles, mask) in found:
            seen |= mask
        wanted = seen & (_WORD | _ANCHOR)
        if seen & _PAIR == _PAIR:
            wanted |= _PAIR
        if seen & _WORD:
            wanted |= _ALLOW
        if not wanted and not self._unanchored:
            return []  # most copy stops here: nothing, or only allow phrases or half a pair
        words: list[_Hit] = []
        covered: set[tuple[int, int, str]] = set()  # (start, end, rule id) of allowed hits
        pairs: dict[str, dict[str, list[_Hit]]] = {}
        anchored: list[str] = list(self._unanchored)
        for end, (key, roles, mask) in found:
            if not mask & wanted:
                continue  # a reward word with no share verb in the copy, and the like
            start = end - len(key) + 1
            for role, rule in roles:
                if not rule.applies_to(scope):
                    continue
                if role == "hit":
                    words.append(_Hit(start, end + 1, rule, key))
                elif role == "allow":
                    for offset, length in self._covers[key, rule.id]:
                        covered.add((start + offset, start + offset + length, rule.id))
                elif role == "anchor":
                    if rule.id not in anchored:
                        anchored.append(rule.id)
                else:
                    pairs.setdefault(rule.id, {}).setdefault(role, []).append(
                        _Hit(start, end + 1, rule, key)
                    )
        if covered:  # 最 inside 最近, 第一 inside 第一次: the rule's own allow phrase covers it
            words = [hit for hit in words if (hit.start, hit.end, hit.rule.id) not in covered]
        hits = self._word_hits(text, words) if words else []
        if pairs:
            hits += self._sentence_hits(text, pairs)
        for rule_id in anchored:
            rule, pattern = self._regex[rule_id]
            if rule.applies_to(scope):
                hits += self._regex_hits(text, rule, pattern)
        return hits

    def _word_hits(self, text: str, hits: list[_Hit]) -> list[_Hit]:
        kept: list[_Hit] = []
        for hit in sorted(hits, key=lambda h: (h.start, -(h.end - h.start))):
            if any(
                k.rule.category == hit.rule.category and k.start <= hit.start and hit.end <= k.end
                for k in kept
            ):
                continue  # 第一 inside 销量第一: one flag, the longer
            if "aligned" in hit.rule.context and _straddles_words(text, hit):
                continue  # the term starts inside another word (一流 in 统一流程)
            if _inside_latin_word(text, hit):
                continue
            span = decide(hit.rule.context, text, hit.start, hit.end)
            if span is not None:
                kept.append(_Hit(span[0], span[1], hit.rule, hit.term))
        return kept

    def _sentence_hits(self, text: str, pairs: dict[str, dict[str, list[_Hit]]]) -> list[_Hit]:
        """A `first` term with a `second` in its sentence; the flag is the `first` one."""
        hits = []
        ends = [m.start() for m in _SENTENCE_END.finditer(text)]
        for roles in pairs.values():
            firsts, seconds = roles.get("first", ()), roles.get("second", ())
            if not (firsts and seconds):
                continue  # the common case: a share verb alone, or a reward alone
            taken: list[_Hit] = []
            flagged_sentences: set[int] = set()
            for a in sorted(firsts, key=lambda h: (h.start, -(h.end - h.start))):
                sentence = bisect_right(ends, a.start)
                if sentence in flagged_sentences:
                    continue  # one flag per sentence: the action the reward hangs on
                partner = next(
                    (
                        b
                        for b in seconds
                        if bisect_right(ends, b.start) == sentence
                        and not (a.start <= b.start < a.end)
                        and _is_whole_word(text, b)
                    ),
                    None,
                )
                if partner is None or not _is_whole_word(text, a):
                    continue
                span = decide(a.rule.context, text, a.start, a.end)
                if span is not None:
                    stop = _clause_end(text, span[1], limit=span[0] + SHARE_SPAN)
                    taken.append(_Hit(span[0], max(span[1], stop), a.rule, a.term))
                    flagged_sentences.add(sentence)
            hits += taken
        return hits

    def _regex_hits(self, text: str, rule: Rule, pattern: re.Pattern[str]) -> list[_Hit]:
        hits = []
        for match in pattern.finditer(text):
            if match.end() > match.start():
                span = decide(rule.context, text, match.start(), match.end())
                if span is not None:
                    hits.append(_Hit(span[0], span[1], rule, match.group()))
        return hits

    def _flag(self, original: str, norm: Normalized, hit: _Hit) -> Flag:
        start, end = norm.original_span(hit.start, hit.end)
        return Flag(
            term=original[start:end],
            category=hit.rule.category,
            start=start,
            end=end,
            severity=hit.rule.severity,
            rule_id=hit.rule.id,
            suggestion=self._suggestions.get(hit.rule.id, ""),
        )


def verdict_of(
    flags: list[Flag], ruleset_version: str, exempted: tuple[Flag, ...] = ()
) -> Verdict:
    """The verdict is the worst severity among the flags (pass when there are none)."""
    worst = max((SEVERITY_RANK[f.severity] for f in flags), default=0)
    verdict = next(name for name, rank in SEVERITY_RANK.items() if rank == worst)
    return Verdict(verdict, tuple(flags), ruleset_version, exempted)


#: When two claims of different categories overlap, the more specific rule decides
#: (根治高血压 is a guarantee, 100%治愈 too).
_PRECEDENCE = {
    "absolute_guarantee": 0, "medical_claim": 1, "authority": 2, "induced_sharing": 3,
    "superlative": 4,
}


def _one_per_claim(hits: list[_Hit]) -> list[_Hit]:
    """Overlapping hits of one category merge; across categories the specific one stays."""
    ordered = sorted(hits, key=lambda h: (_PRECEDENCE.get(h.rule.category, 9), h.start))
    kept: list[_Hit] = []
    for hit in ordered:
        clash = next((k for k in kept if k.start < hit.end and hit.start < k.end), None)
        if clash is None:
            kept.append(hit)
        elif clash.rule.category == hit.rule.category:
            kept[kept.index(clash)] = _Hit(
                min(clash.start, hit.start), max(clash.end, hit.end), clash.rule, clash.term
            )
    return kept


def _offsets(term: str, phrase: str) -> list[int]:
    """Every index at which `term` occurs in `phrase`, overlapping ones included."""
    return [i for i in range(len(phrase) - len(term) + 1) if phrase.startswith(term, i)]


def _clause_end(text: str, start: int, limit: int) -> int:
    stop = start
    while stop < min(len(text), limit) and text[stop] not in CLAUSE_END:
        stop += 1
    return stop


def _inside_latin_word(text: str, hit: _Hit) -> bool:
    """A Latin term counts only as a word of its own (best, not bestow)."""
    first, last = text[hit.start], text[hit.end - 1]
    before = text[hit.start - 1] if hit.start else " "
    after = text[hit.end] if hit.end < len(text) else " "
    return (first.isascii() and first.isalpha() and before.isascii() and before.isalpha()) or (
        last.isascii() and last.isalpha() and after.isascii() and after.isalpha()
    )


def _dedupe(flags: list[Flag]) -> list[Flag]:
    seen = set()
    unique = []
    for flag in sorted(flags, key=lambda f: (f.start, f.end, f.rule_id)):
        key = (flag.start, flag.end, flag.rule_id)
        if key not in seen:
            seen.add(key)
            unique.append(flag)
    return unique


def _tokens_around(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """jieba's word spans, in `text` offsets, of a small window around [start, end)."""
    import jieba

    left = max(0, start - WINDOW)
    window = text[left : min(len(text), end + WINDOW)]
    spans = []
    offset = left
    for token in jieba.lcut(window, HMM=False):
        spans.append((offset, offset + len(token)))
        offset += len(token)
    return spans


def _straddles_words(text: str, hit: _Hit) -> bool:
    """True when the hit's first character ends one dictionary word and the rest begins
    another (统一|流程 around 一流, 山顶|级别 around 顶级): two lookups in jieba's
    dictionary instead of segmenting the window."""
    if hit.start == 0 or hit.end >= len(text) or not is_cjk(text[hit.start - 1]):
        return False
    words = _dictionary()
    before = text[hit.start - 1 : hit.start + 1]
    after = text[hit.start + 1 : hit.end + 1]
    return words.get(before, 0) > 0 and words.get(after, 0) > 0


def _dictionary() -> dict[str, int]:
    import jieba

    if not jieba.dt.initialized:
        jieba.dt.initialize()
    return jieba.dt.FREQ


def _word_end_if_aligned(text: str, hit: _Hit) -> int | None:
    """Where the word that begins with the hit ends, or None if the hit begins mid-word.

    Latin terms are matched whole by their rules; only Chinese needs jieba.
    """
    if not is_cjk(text[hit.start]):
        return hit.end
    tokens = _tokens_around(text, hit.start, hit.end)
    for index, (token_start, token_end) in enumerate(tokens):
        if token_start == hit.start:
            if token_end - token_start == 1 and index + 1 < len(tokens):
                # 最 standing alone modifies the next word: flag 最受欢迎, not just 最.
                following_end = tokens[index + 1][1]
                if is_cjk(text[token_end]):
                    return following_end
            return token_end
        if token_start < hit.start < token_end:
            return None
    return hit.end


def _is_whole_word(text: str, hit: _Hit) -> bool:
    """A one-character term (送, 赠) counts only as a word of its own, not inside 送货."""
    if hit.end - hit.start > 1:
        return _block_edge(text, hit.start) or _word_end_if_aligned(text, hit) is not None
    if _block_edge(text, hit.start) and _block_edge(text, hit.end):
        return True  # 送 between punctuation: a block of one character
    return any(
        span == (hit.start, hit.end) for span in _tokens_around(text, hit.start, hit.end)
    )


def _block_edge(text: str, index: int) -> bool:
    """True when jieba starts a word at `index` whatever its dictionary says, so the window
    need not be segmented (segmenting is most of the cost of a sharing candidate).

    jieba cuts its input into blocks at every character outside its word class (punctuation,
    spaces, most symbols) and segments each block on its own; a character outside the class
    is a word by itself (but for a CR LF pair). So the start and the end of the text, and any
    index where the character before or after is outside the class, are word boundaries.
    """
    import jieba

    if index == 0 or index == len(text):
        return True
    if text[index - 1 : index + 1] == "\r\n":
        return False
    return not (
        jieba.re_han_default.match(text[index - 1]) and jieba.re_han_default.match(text[index])
    )
