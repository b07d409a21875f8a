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
        year = (1900 if int(year) > pivot else 2000) + int(year)
    else:
        year = int(year)
    if number < 1:
        return None
    return number, year
