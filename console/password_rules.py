"""Which new passwords are too easy to guess, and why (in Chinese, for the form).

Length alone lets `1234567890` and `aaaaaaaaaa` through, and those are among the first a
guesser tries. So beyond the minimum length a password is refused when it contains the
username, is in the list of the most common passwords (console/common_passwords.txt), or is
made only of trivial patterns: one character repeated, a short block repeated, runs of
consecutive digits or letters, or keys next to each other on the keyboard. Each refusal says
which rule refused, so the person knows what to change.
"""

from __future__ import annotations

import functools
import string
from collections import Counter
from collections.abc import Callable
from pathlib import Path

COMMON_PASSWORDS = Path(__file__).resolve().with_name("common_passwords.txt")

DIGITS = frozenset(string.digits)
LETTERS = frozenset(string.ascii_lowercase)
MIN_USERNAME_IN_PASSWORD = 3  # a 2-letter name turns up inside too many good passphrases
MIN_RUN = 3  # shorter repeats, sequences and keyboard runs are just ordinary text
MAX_LEFTOVER = 2  # a pattern plus a digit or two ("qwertyuiop1") is still a pattern
MAX_BLOCK = 6  # "abcabcabc", "12121212": a short block repeated
MIN_STEM = 4  # "dragon2026!" is the common "dragon" with decoration

# Lines of neighbouring keys (US layout, which Chinese keyboards share): the rows, the
# slanted columns people type as "1qaz2wsx", and the number pad's rows and columns.
KEYBOARD_LINES = (
    "`1234567890-=",
    "qwertyuiop[]\\",
    "asdfghjkl;'",
    "zxcvbnm,./",
    "1qaz", "2wsx", "3edc", "4rfv", "5tgb", "6yhn", "7ujm", "8ik,", "9ol.", "0p;/",
    "789", "456", "123", "7410", "8520", "963.",
)

MESSAGES = {
    "username_same": "密码不能与用户名相同",
    "username": "密码包含用户名",
    "repeat": "密码只是同一字符重复",
    "block": "密码只是一小段字符的重复",
    "sequence": "密码是连续的数字或字母",
    "keyboard": "密码是键盘上相邻的键",
    "common": "密码过于常见（在常见密码表中）",
    "common_stem": "密码只是常见密码加上数字或符号",
}
# When two patterns cover a stretch equally well, the one a person recognises first.
_KIND_ORDER = ("repeat", "sequence", "keyboard")


@functools.cache
def common_passwords() -> frozenset[str]:
    """The shipped list, lowercase (read once per process)."""
    lines = COMMON_PASSWORDS.read_text(encoding="utf-8").splitlines()
    return frozenset(
        line.strip().lower() for line in lines if line.strip() and not line.startswith("#")
    )


def problem(password: str, username: str = "") -> str | None:
    """The first rule this password breaks, as the Chinese message for the form; or None."""
    reason = _rule_broken(password.lower(), (username or "").strip().lower())
    return MESSAGES[reason] if reason else None


def _rule_broken(password: str, username: str) -> str | None:
    if username and password == username:
        return "username_same"
    if len(username) >= MIN_USERNAME_IN_PASSWORD and username in password:
        return "username"
    if len(set(password)) == 1:
        return "repeat"
    if _short_period(password):
        return "block"
    if kind := trivial_pattern(password):
        return kind
    if password in common_passwords():
        return "common"
    stem = _strip_decoration(password)
    if stem != password and len(stem) >= MIN_STEM and stem in common_passwords():
        return "common_stem"
    return None


def _short_period(text: str) -> bool:
    """A block of at most MAX_BLOCK characters repeated at least twice (a partial last copy
    allowed: "12121212121")."""
    for size in range(1, min(MAX_BLOCK, len(text) // 2) + 1):
        if all(text[i] == text[i % size] for i in range(len(text))):
            return True
    return False


def trivial_pattern(text: str) -> str | None:
    """The main pattern when `text` is made only of runs of repeats, sequences and keyboard
    neighbours (a couple of other characters allowed), else None."""
    covered: Counter[str] = Counter()
    leftover = 0
    i = 0
    while i < len(text):
        length, kind = _longest_run(text, i)
        if length >= MIN_RUN:
            covered[kind] += length
            i += length
        else:
            leftover += 1
            i += 1
    if not covered or leftover > MAX_LEFTOVER:
        return None
    return max(_KIND_ORDER, key=lambda kind: (covered[kind], -_KIND_ORDER.index(kind)))


def _longest_run(text: str, start: int) -> tuple[int, str]:
    runs = [
        (_run_length(text, start, _same), "repeat"),
        (_run_length(text, start, _next_up), "sequence"),
        (_run_length(text, start, _next_down), "sequence"),
        (_keyboard_run(text, start), "keyboard"),
    ]
    return max(runs, key=lambda run: (run[0], -_KIND_ORDER.index(run[1])))


def _run_length(text: str, start: int, follows: Callable[[str, str], bool]) -> int:
    end = start + 1
    while end < len(text) and follows(text[end - 1], text[end]):
        end += 1
    return end - start


def _same(a: str, b: str) -> bool:
    return a == b


def _next_up(a: str, b: str) -> bool:
    """b comes right after a among digits or letters ("9" then "0" too, as typed)."""
    if a in DIGITS and b in DIGITS:
        return (int(a) + 1) % 10 == int(b)
    return a in LETTERS and b in LETTERS and ord(b) == ord(a) + 1


def _next_down(a: str, b: str) -> bool:
    return _next_up(b, a)


def _keyboard_run(text: str, start: int) -> int:
    """The longest stretch from `start` that runs along one keyboard line, either way."""
    best = 1
    for line in KEYBOARD_LINES:
        for direction in (line, line[::-1]):
            length = 0
            while (
                start + length < len(text)
                and text[start : start + length + 1] in direction
            ):
                length += 1
            best = max(best, length)
    return best


def _strip_decoration(password: str) -> str:
    """The password without the digits and symbols around it: "dragon2026!" → "dragon"."""
    start, end = 0, len(password)
    while start < end and not password[start].isalpha():
        start += 1
    while end > start and not password[end - 1].isalpha():
        end -= 1
    return password[start:end]
