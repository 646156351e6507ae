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
from dataclasses import asdict, dataclass, field, fields
from operator import attrgetter
from typing import Any, NamedTuple

import ahocorasick

from content_audit.context import CLAUSE_END, STRONG_DENIALS, Span, clause_before, decide
from content_audit.homophones import HomophoneChannel
from content_audit.normalize import TERMINATORS, Normalized, normalize, normalize_pattern
from content_audit.ruleset import Rule, RuleSet
from content_audit.word_boundaries import is_whole_word, straddles_words

SEVERITY_RANK = {"pass": 0, "review": 1, "block": 2}
# What an automaton key can start: a word rule's hit, or one side of a co-occurrence pair.
_WORD, _FIRST, _SECOND, _ANCHOR, _ALLOW = 1, 2, 4, 8, 16
_PAIR = _FIRST | _SECOND
_SENTENCE_END = re.compile(f"[{TERMINATORS}]")
_CLAUSE_MARK = re.compile(f"[{CLAUSE_END}]")
#: Seconds of a sharing pair that are steps of the same action, not its reward or condition.
_STEPS = frozenset({"截图", "配文", "@", "并@"})
SHARE_SPAN = 14  # a sharing flag covers the action and its condition, up to the clause end


@dataclass(frozen=True, init=False)
class Flag:
    term: str  # the words as the author wrote them
    category: str
    start: int  # offsets into the original text, [start, end)
    end: int
    severity: str
    rule_id: str
    suggestion: str = ""

    def __init__(
        self, term: str, category: str, start: int, end: int, severity: str, rule_id: str,
        suggestion: str = "",
    ):
        """The generated __init__ of a frozen dataclass, without its object.__setattr__ per
        field, which makes flagged copy pay more for building its flags than for anything but
        their context decisions. (A field added above must be set here too: checked below.)"""
        fields_ = self.__dict__
        fields_["term"] = term
        fields_["category"] = category
        fields_["start"] = start
        fields_["end"] = end
        fields_["severity"] = severity
        fields_["rule_id"] = rule_id
        fields_["suggestion"] = suggestion


assert list(vars(Flag("", "", 0, 0, "", ""))) == [f.name for f in fields(Flag)]


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


class _Decisions:
    """`decide` on one text, each (checkers, span) worked out once.

    A word rule and a regex rule often find the same words and name the same checkers
    (100%有效, 无效退款 are both), and a decision is a pure function of the text, the checkers
    and the span, while it costs more than anything else the screener does with a candidate.
    """

    __slots__ = ("_known", "_text")

    def __init__(self, text: str):
        self._text = text
        self._known: dict[tuple[tuple[str, ...], int, int], Span | None] = {}

    def __call__(self, names: tuple[str, ...], start: int, end: int) -> Span | None:
        key = (names, start, end)
        if key in self._known:
            return self._known[key]
        span = self._known[key] = decide(names, self._text, start, end)
        return span


class _Role(NamedTuple):
    """What one automaton key means for one rule, with what acting on it needs at hand."""

    role: str  # hit | allow | anchor | first | second
    rule: Rule
    covers: tuple[tuple[int, int], ...]  # allow: (offset, length) of the terms it covers


#: Distinct scopes whose role tables a screener keeps (callers pass a handful of names).
_SCOPES_KEPT = 32


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
        # Each key's roles with the spans its allow phrases cover, filtered by scope on first
        # use of a scope (`_roles_in`): the scan loop then neither asks every rule whether it
        # applies nor looks the covered spans up.
        self._roles = {
            key: tuple(
                _Role(role, rule, self._covers[key, rule.id] if role == "allow" else ())
                for role, rule in roles
            )
            for key, (_key, roles, _mask) in self._automaton.items()
        }
        self._scoped: dict[str | None, dict[str, tuple[_Role, ...]]] = {}
        self._homophones = HomophoneChannel(
            [rule for rule in ruleset.rules if rule.kind == "homophone"]
        )
        self._homophones_active = self._homophones.active  # its rules are fixed: ask once
        self._passed = Verdict("pass", (), ruleset.version)  # immutable: one serves every pass
        self._suggestions: dict[str, str] = {}
        # Suggested rewrites are offered only if they pass the same rules themselves.
        for rule in ruleset.rules:
            clean = next((s for s in rule.suggestions if self.screen(s).verdict == "pass"), "")
            self._suggestions[rule.id] = clean

    # --- the public call --------------------------------------------------------------------

    def screen(self, text: str, scope: str | None = None) -> Verdict:
        """The verdict on `text` for `scope` (push, product, reply, bargain, agent; None: all)."""
        original = text or ""
        norm = normalize(original)
        hits = self._candidates(norm.text, scope)
        if self._homophones_active:
            hits += [
                _Hit(start, end, rule, term)
                for start, end, rule, term in self._homophones.find(norm.text, scope)
            ]
        if not hits:
            return self._passed
        kept = _one_per_claim(hits)
        if len(kept) > 1:
            kept = _tails_joined(norm.text, kept)
        flags = [self._flag(original, norm, hit) for hit in kept]
        return verdict_of(_dedupe(flags), self.ruleset.version)

    # --- stages -----------------------------------------------------------------------------

    def _roles_in(self, scope: str | None) -> dict[str, tuple[_Role, ...]]:
        """Every key's roles whose rule applies to `scope`, in the order the rules gave them.

        Rules are immutable, so the table is built once per scope and kept (a few scopes
        exist; an unexpected flood of names is served without keeping them)."""
        table = self._scoped.get(scope)
        if table is None:
            table = {
                key: tuple(role for role in roles if role.rule.applies_to(scope))
                for key, roles in self._roles.items()
            }
            if len(self._scoped) < _SCOPES_KEPT:
                self._scoped[scope] = table
        return table

    def _candidates(self, text: str, scope: str | None) -> list[_Hit]:
        """Every candidate the scan finds, each decided by its context."""
        found = list(self._automaton.iter(text))
        seen = 0
        for _end, (_key, _roles, mask) in found:
            seen |= mask
        wanted = seen & (_WORD | _ANCHOR)
        if seen & _PAIR == _PAIR:
            wanted |= _PAIR
        if not wanted and not self._unanchored:
            return []  # most copy stops here: nothing, or only allow phrases or half a pair
        if seen & _WORD:
            wanted |= _ALLOW
        roles_in_scope = self._roles_in(scope)
        # Word hits stay plain tuples until the allow phrases have had their say: most are
        # covered (最 in 最近), and a plain tuple costs a fraction of a _Hit to build.
        words: list[tuple[int, int, Rule, str]] = []
        covered: set[tuple[int, int, str]] = set()  # (start, end, rule id) of allowed hits
        pairs: dict[str, dict[str, list[_Hit]]] = {}
        anchored: list[str] = list(self._unanchored)
        for end, (key, _roles, mask) in found:
            if not mask & wanted:
                continue  # a reward word with no share verb in the copy, and the like
            start = end - len(key) + 1
            for role, rule, covers in roles_in_scope[key]:
                if role == "hit":
                    words.append((start, end + 1, rule, key))
                elif role == "allow":
                    rule_id = rule.id
                    for offset, length in covers:
                        covered.add((start + offset, start + offset + length, rule_id))
                elif role == "anchor":
                    if rule.id not in anchored:
                        anchored.append(rule.id)
                else:
                    pairs.setdefault(rule.id, {}).setdefault(role, []).append(
                        _Hit(start, end + 1, rule, key)
                    )
        if covered:  # 最 inside 最近, 第一 inside 第一次: the rule's own allow phrase covers it
            words = [word for word in words if (word[0], word[1], word[2].id) not in covered]
        decided = _Decisions(text)
        hits = self._word_hits(text, words, decided) if words else []
        if pairs:
            hits += self._sentence_hits(text, pairs, decided)
        for rule_id in anchored:
            rule, pattern = self._regex[rule_id]
            if rule.applies_to(scope):
                hits += self._regex_hits(text, rule, pattern, decided)
        return hits

    def _word_hits(
        self, text: str, words: list[tuple[int, int, Rule, str]], decided: _Decisions
    ) -> list[_Hit]:
        """Each word hit (start, end, rule, term) decided by its context, the longest first
        where several start together."""
        kept: list[_Hit] = []
        if len(words) > 1:
            words = sorted(words, key=_longest_first)
        for start, end, rule, term in words:
            category = rule.category
            if kept and any(
                k.start <= start and end <= k.end and k.rule.category == category for k in kept
            ):
                continue  # 第一 inside 销量第一: one flag, the longer
            if "aligned" in rule.context and straddles_words(text, start, end):
                continue  # the term starts inside another word (一流 in 统一流程)
            if _inside_latin_word(text, start, end):
                continue
            span = decided(rule.context, start, end)
            if span is not None:
                kept.append(_Hit(span[0], span[1], rule, term))
        return kept

    def _sentence_hits(
        self, text: str, pairs: dict[str, dict[str, list[_Hit]]], decided: _Decisions
    ) -> list[_Hit]:
        """A `first` term with a `second` in its sentence; the flag is the `first` one."""
        hits = []
        ends = [m.start() for m in _SENTENCE_END.finditer(text)]
        whole: dict[tuple[int, int], bool] = {}  # a second is tried for each first before it

        def whole_word(hit: _Hit) -> bool:
            """`is_whole_word`, worked out once per span (it may segment with jieba)."""
            known = whole.get((hit.start, hit.end))
            if known is None:
                known = whole[hit.start, hit.end] = is_whole_word(text, hit.start, hit.end)
            return known

        for roles in pairs.values():
            firsts, seconds = roles.get("first", ()), roles.get("second", ())
            if not (firsts and seconds):
                continue  # the common case: a share verb alone, or a reward alone
            taken: list[_Hit] = []
            flagged_sentences: set[int] = set()
            paired: list[tuple[bool, _Hit]] = []
            # 想转发给家人也行，我们不搞转发抽奖: a reward inside a refused share action is
            # no one's reward
            refused = [d for d in firsts if STRONG_DENIALS.search(clause_before(text, d.start))]
            for a in sorted(firsts, key=lambda h: (h.start, -(h.end - h.start))):
                sentence = bisect_right(ends, a.start)
                near = [
                    b for b in seconds
                    if bisect_right(ends, b.start) == sentence
                    and not (b.start < a.end and a.start < b.end)  # 没关注 pairs with no 关注 in it
                    and not any(
                        d is not a and d.end <= b.start and _same_clause(text, d, b)
                        for d in refused
                    )
                ]
                # whole_word may segment with jieba: ask it of as few partners as will do
                beside = any(
                    b.term not in _STEPS and _same_clause(text, a, b) and whole_word(b)
                    for b in near
                )
                # a term of three characters or more is no accident of segmentation
                # (晒单发朋友圈: jieba glues 单发), a short one must stand as a word
                if (beside or any(whole_word(b) for b in near)) \
                        and (len(a.term) > 2 or whole_word(a)):
                    paired.append((beside, a))
            # One flag per sentence, on the action the reward hangs on: an action with its
            # condition in its own clause before one whose condition is further off
            # (扫码关注我们，关注后才可以领取 flags the second 关注).
            paired.sort(key=lambda pair: (bisect_right(ends, pair[1].start), not pair[0]))
            for _, a in paired:
                sentence = bisect_right(ends, a.start)
                if sentence in flagged_sentences:
                    continue
                span = decided(a.rule.context, a.start, a.end)
                if span is not None:
                    stop = _clause_end(text, span[1], limit=span[0] + SHARE_SPAN)
                    taken.append(_Hit(span[0], max(span[1], stop), a.rule, a.term))
                    flagged_sentences.add(sentence)
            hits += taken
        return hits

    def _regex_hits(
        self, text: str, rule: Rule, pattern: re.Pattern[str], decided: _Decisions
    ) -> list[_Hit]:
        hits = []
        for match in pattern.finditer(text):
            start, end = match.span()
            if end > start:
                span = decided(rule.context, start, end)
                if span is not None:
                    hits.append(_Hit(span[0], span[1], rule, match.group()))
        return hits

    def _flag(self, original: str, norm: Normalized, hit: _Hit) -> Flag:
        start, end = norm.original_span(hit.start, hit.end)
        rule = hit.rule
        # Positional: a frozen dataclass sets each field through object.__setattr__, and
        # keywords make that dearer still.
        return Flag(
            original[start:end], rule.category, start, end, rule.severity, rule.id,
            self._suggestions.get(rule.id, ""),
        )


def verdict_of(
    flags: list[Flag], ruleset_version: str, exempted: tuple[Flag, ...] = ()
) -> Verdict:
    """The verdict is the worst severity among the flags (pass when there are none)."""
    worst = 0
    for flag in flags:
        rank = SEVERITY_RANK[flag.severity]
        if rank > worst:
            worst = rank
    return Verdict(_VERDICT_OF_RANK[worst], tuple(flags), ruleset_version, exempted)


#: Each rank's verdict (ranks are distinct), so no search of SEVERITY_RANK per verdict.
_VERDICT_OF_RANK = {rank: name for name, rank in reversed(SEVERITY_RANK.items())}


#: When two claims of different categories overlap, the more specific rule decides
#: (根治高血压 is a guarantee, 100%治愈 too).
_PRECEDENCE = {
    "absolute_guarantee": 0, "medical_claim": 1, "authority": 2, "induced_sharing": 3,
    "superlative": 4,
}
_EVERY = re.compile("一切|所有|全部|任何")
#: How a result ends when it tells of an illness gone (喝了就好, 统统消失, 能逆转).
_ILLNESS_GONE = ("就好", "就好了", "就能好", "就会好", "消失", "逆转", "康复", "全消", "消了")
_AT_ONCE = re.compile("一[一-龥](?:就|见效)|[一-龥]上就")


def _precedence(hit: _Hit) -> float:
    """Which claim keeps an overlapped span. A disease that went away (湿疹全消了,
    再也没冒出来过) is a medical claim, more specific than the generic forms of a guarantee
    that overlap it; permanence (永久告别脱发), universality (杀死一切病毒), 根治 and the
    other guarantee words keep their precedence; a blessing promised for sharing
    (转发的人逢考必过) is the sharing rule's before any."""
    if hit.rule.id == "guarantee.absolute_forms" and not hit.term.startswith("永") \
            and not _EVERY.search(hit.term):
        return 1.5
    if hit.rule.id in ("guarantee.results", "guarantee.quick_result", "guarantee.certain_result") \
            and (_AT_ONCE.match(hit.term) or hit.term.endswith(_ILLNESS_GONE)):
        return 1.5  # 湿疹一擦就退, 关节痛喝了就好: how fast a disease went
    if hit.rule.id == "sharing.coercion":
        return -1
    return _PRECEDENCE.get(hit.rule.category, 9)


def _one_per_claim(hits: list[_Hit]) -> list[_Hit]:
    """Overlapping hits of one category merge; across categories the specific one stays."""
    if len(hits) == 1:
        return hits  # nothing to merge or to outrank
    ordered = sorted(hits, key=lambda h: (_precedence(h), h.start))
    kept: list[_Hit] = []
    for hit in ordered:
        for index, clash in enumerate(kept):  # the first kept hit it overlaps, if any
            if clash.start < hit.end and hit.start < clash.end:
                if clash.rule.category == hit.rule.category:
                    kept[index] = _Hit(
                        min(clash.start, hit.start), max(clash.end, hit.end), clash.rule,
                        clash.term,
                    )
                break
        else:
            kept.append(hit)
    return kept


#: Words that only finish the ranking claim before them in the sentence.
_TAILS = ("没有之一",)


def _tails_joined(text: str, hits: list[_Hit]) -> list[_Hit]:
    """全网卖得最好的，没有之一 is one claim: the tail joins the claim before it in its
    sentence, so the copy gets one flag whether a reviewer marks the tail or not."""
    tails = [h for h in hits if h.term in _TAILS]
    for tail in tails:
        heads = [
            h for h in hits
            if h is not tail and h.rule.category == tail.rule.category and h.end <= tail.start
            and not _SENTENCE_END.search(text, h.end, tail.start)
        ]
        if heads:
            head = max(heads, key=attrgetter("end"))
            hits = [h for h in hits if h is not tail and h is not head]
            hits.append(_Hit(head.start, tail.end, head.rule, head.term))
    return hits


def _same_clause(text: str, a: _Hit, b: _Hit) -> bool:
    """No clause mark stands between the two hits."""
    low, high = (a.end, b.start) if a.start < b.start else (b.end, a.start)
    return _CLAUSE_MARK.search(text, low, max(low, high)) is None


def _offsets(term: str, phrase: str) -> list[int]:
    """Every index at which `term` occurs in `phrase`, overlapping ones included."""
    return [i for i in range(len(phrase) - len(term) + 1) if phrase.startswith(term, i)]


def _clause_end(text: str, start: int, limit: int) -> int:
    stop = start
    while stop < min(len(text), limit) and text[stop] not in CLAUSE_END:
        stop += 1
    return stop


def _longest_first(word: tuple[int, int, Rule, str]) -> tuple[int, int]:
    """Sort key of a word hit: by start, the longer of two that start together first."""
    return word[0], word[0] - word[1]


def _inside_latin_word(text: str, start: int, end: int) -> bool:
    """A Latin term counts only as a word of its own (best, not bestow).

    Each end is looked at only if its own character is a Latin letter: most terms are
    Chinese, and then neither neighbour matters."""
    first = text[start]
    if start and first.isascii() and first.isalpha():
        before = text[start - 1]
        if before.isascii() and before.isalpha():
            return True
    last = text[end - 1]
    if end < len(text) and last.isascii() and last.isalpha():
        after = text[end]
        if after.isascii() and after.isalpha():
            return True
    return False


_FLAG_ORDER = attrgetter("start", "end", "rule_id")  # a flag's place, and its identity


def _dedupe(flags: list[Flag]) -> list[Flag]:
    """The flags in text order, one per span and rule."""
    if len(flags) == 1:
        return flags
    seen = set()
    unique = []
    for flag in sorted(flags, key=_FLAG_ORDER):
        key = _FLAG_ORDER(flag)
        if key not in seen:
            seen.add(key)
            unique.append(flag)
    return unique
