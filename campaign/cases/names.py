"""Spelling-insensitive keys for names of people at risk.

Names reach us transliterated many ways (Chiygoz, Chyigoz, Chiygoz’s). A key
folds the differences that carry no meaning: accents and scripts (via
unidecode), case, possessives, and common transliteration pairs, then doubled
letters. Two spellings of one name give the same key.
"""

from __future__ import annotations

import re

from unidecode import unidecode

# Applied in order to lower-case ASCII; longer patterns first.
_FOLDS = (
    ("dzh", "j"),
    ("dj", "j"),
    ("zh", "j"),
    ("kh", "h"),
    ("ph", "f"),
    ("ck", "k"),
    ("ks", "x"),
    ("tch", "ch"),
    ("tz", "c"),
    ("ts", "c"),
    ("w", "v"),
    ("y", "i"),
    ("j", "i"),
    ("q", "k"),
)
_POSSESSIVE = re.compile(r"['’`´]s?$")
_NOT_ALNUM = re.compile(r"[^a-z0-9]+")
_DOUBLED = re.compile(r"(.)\1+")


def word_key(word: str) -> str:
    text = unidecode(word or "").lower().strip()
    text = _POSSESSIVE.sub("", text)
    text = _NOT_ALNUM.sub("", text)
    for old, new in _FOLDS:
        text = text.replace(old, new)
    return _DOUBLED.sub(r"\1", text)


def words(text: str) -> list[str]:
    """Split a name into words; hyphens and apostrophes inside names split too."""
    return [w for w in re.split(r"[\s\-‐‑–—/,.;:()]+", text or "") if w]


def name_key(name: str) -> str:
    return " ".join(k for k in (word_key(w) for w in words(name)) if k)


def search_keys(spellings: list[str]) -> str:
    """Every distinct word key of every spelling, space separated, space-led."""
    seen: dict[str, None] = {}
    for spelling in spellings:
        for key in name_key(spelling).split():
            seen.setdefault(key)
    return " " + " ".join(seen) + " " if seen else ""
