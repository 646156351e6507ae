"""Where jieba would start and end words, mostly without asking it to segment.

The screener needs to know whether a candidate is a word of its own (送 is, inside 送货 it
is not; 一流 inside 统一流程 is no word). Segmenting a window with jieba answers that but costs
more than any other step of screening a candidate, so these functions answer from jieba's
block rules and its dictionary where they can, and segment only where those cannot settle it.
"""

from __future__ import annotations

from content_audit.normalize import is_cjk

WINDOW = 8  # characters of context jieba sees on each side of a candidate


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


def straddles_words(text: str, start: int, end: int) -> bool:
    """True when the hit's first character ends one dictionary word and the rest begins
    another (统一|流程 around 一流, 山顶|级别 around 顶级): two lookups in jieba's
    dictionary instead of segmenting the window."""
    if start == 0 or end >= len(text) or not is_cjk(text[start - 1]):
        return False
    words = _dictionary()
    before = text[start - 1 : start + 1]
    after = text[start + 1 : end + 1]
    return words.get(before, 0) > 0 and words.get(after, 0) > 0


def _dictionary() -> dict[str, int]:
    import jieba

    if not jieba.dt.initialized:
        jieba.dt.initialize()
    return jieba.dt.FREQ


def _begins_word(text: str, start: int, end: int) -> bool:
    """False when the hit [start, end) begins mid-word: a token of jieba's segmentation of
    the window around it runs across `start`.

    Latin terms are matched whole by their rules; only Chinese needs jieba, and mostly not
    even its segmentation (`_word_across`).
    """
    if not is_cjk(text[start]):
        return True
    left, right = max(0, start - WINDOW), min(len(text), end + WINDOW)
    if _in_word_class(text[start]) and not _word_across(text, start, left, right):
        return True
    tokens = _tokens_around(text, start, end)
    return not any(token_start < start < token_end for token_start, token_end in tokens)


def is_whole_word(text: str, start: int, end: int) -> bool:
    """A one-character term (送, 赠) counts only as a word of its own, not inside 送货."""
    if end - start > 1:
        return _block_edge(text, start) or _begins_word(text, start, end)
    if _block_edge(text, start) and _block_edge(text, end):
        return True  # 送 between punctuation: a block of one character
    left, right = max(0, start - WINDOW), min(len(text), end + WINDOW)
    if (
        _in_word_class(text[start])
        and not _word_across(text, start, left, right)
        and not _word_across(text, end, left, right)
    ):
        return True  # no dictionary word takes the character in: a token of its own
    return any(span == (start, end) for span in _tokens_around(text, start, end))


def _in_word_class(char: str) -> bool:
    """In jieba's word class (so inside a block it segments) but no Latin letter or digit
    (which it runs together when they stand alone)."""
    import jieba

    return bool(jieba.re_han_default.match(char)) and not jieba.re_eng.match(char)


def _word_across(text: str, index: int, left: int, right: int) -> bool:
    """True when a word of jieba's dictionary covers both text[index - 1] and text[index]
    inside the block around `index` of the window [left, right).

    Without such a word jieba starts a token at `index` however it segments the window, so
    the window need not be segmented (a few dictionary lookups instead of the whole of
    jieba's dynamic programme). jieba cuts the window into blocks of its word class and
    segments each on its own; a block's tokens are dictionary words, single characters, and
    runs of single Latin letters or digits (which `_in_word_class` keeps away from `index`).
    The prefix walk below is jieba's own (`Tokenizer.get_DAG`): a word [begin, stop) of the
    block is an edge of its graph when the dictionary gives it a frequency.
    """
    import jieba

    han = jieba.re_han_default
    words = _dictionary()
    first = index
    while first > left and han.match(text[first - 1]):
        first -= 1
    last = index  # the block's end
    while last < right and han.match(text[last]):
        last += 1
    for begin in range(first, index):
        stop = begin + 1
        fragment = text[begin:stop]
        while stop <= last and fragment in words:
            if words[fragment] and stop > index:
                return True
            stop += 1
            fragment = text[begin:stop]
    return False


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
