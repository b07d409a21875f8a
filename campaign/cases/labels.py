"""How UAs and their updates are named: "UA 205/16", "third update"."""

from __future__ import annotations

import re
from datetime import date

_ORDINALS = [
    "first",
    "second",
    "third",
    "fourth",
    "fifth",
    "sixth",
    "seventh",
    "eighth",
    "ninth",
    "tenth",
]
# Labels spell out "first" … "tenth"; documents spell further ("the eleventh update").
_ORDINALS_READ = [
    *_ORDINALS,
    "eleventh",
    "twelfth",
    "thirteenth",
    "fourteenth",
    "fifteenth",
    "sixteenth",
    "seventeenth",
    "eighteenth",
    "nineteenth",
    "twentieth",
]
ORDINAL_WORDS = tuple(_ORDINALS_READ)


def case_label(number: int, year: int) -> str:
    return f"UA {number}/{year % 100:02d}"


def ordinal(n: int) -> str:
    """ "first" … "tenth", then "11th", "12th", "21st", "22nd", "23rd", "111th"."""
    if n < 1:
        raise ValueError("ordinals start at 1")
    if n <= len(_ORDINALS):
        return _ORDINALS[n - 1]
    suffix = "th" if 11 <= n % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def update_label(sequence: int) -> str:
    return f"{ordinal(sequence)} update"


def ordinal_number(word: str | None) -> int | None:
    """ "third" → 3, "eleventh" → 11, "3rd" → 3, "3" → 3; None for anything else."""
    word = (word or "").strip().lower()
    if word in _ORDINALS_READ:
        return _ORDINALS_READ.index(word) + 1
    match = re.fullmatch(r"(\d{1,3})(?:st|nd|rd|th)?", word)
    return int(match.group(1)) if match and int(match.group(1)) > 0 else None


def full_year(digits: str | int, *, today: date | None = None) -> int | None:
    """A UA year as written ("16", "06", "98", "2016") → 2016, 2006, 1998, 2016.

    Two-digit years are 19xx when 20xx would lie more than a year in the future
    (UAs began in 1973); a year before 1970 or after next year is None.
    """
    digits = str(digits)
    current = (today or date.today()).year
    year = _century(int(digits), (current + 1) % 100) if len(digits) == 2 else int(digits)
    return year if 1970 <= year <= current + 1 else None


def _century(two_digits: int, pivot: int) -> int:
    """The one rule for two-digit years: above the pivot (next year's two digits) is 19xx."""
    return (1900 if two_digits > pivot else 2000) + two_digits


_LABEL = re.compile(
    r"^\s*(?:UA\s*:?\s*)?(\d{1,4})\s*/\s*(\d{2}|\d{4})\s*$", re.IGNORECASE | re.ASCII
)


def parse_label(text: str, *, pivot: int | None = None) -> tuple[int, int] | None:
    """ "UA 205/16", "205/16", "UA: 216/06", "UA 219 /06", "205/2016" → (number, year).

    Two-digit years are read as 19xx when they would otherwise lie more than a
    year in the future (UAs began in 1973), else 20xx.
    """
    match = _LABEL.match(text or "")
    if not match:
        return None
    number, year = int(match.group(1)), match.group(2)
    if len(year) == 2:
        pivot = pivot if pivot is not None else (date.today().year + 1) % 100
        year = _century(int(year), pivot)
    else:
        year = int(year)
    if number < 1:
        return None
    return number, year
