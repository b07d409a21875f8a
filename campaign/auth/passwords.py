"""The password policy for staff accounts (offline, no network calls).

A password must be long enough (``PASSWORD_MIN_LENGTH``), must not be one of
the passwords leaked in breaches, nor be built from the user's own email
address or name, and must be hard enough to guess (``PASSWORD_MIN_SCORE``,
zxcvbn's 0-4 scale). zxcvbn ships frequency lists of the most common passwords
from public breaches, English words, names and keyboard patterns, and
estimates how many guesses an attacker needs.
"""

from __future__ import annotations

import re

from flask import current_app, has_app_context
from zxcvbn import zxcvbn

from campaign import config
from campaign.core.errors import ValidationError

MAX_LENGTH = 1000
# zxcvbn refuses longer input (its matching is quadratic); the first 72
# characters decide, and a longer password is long enough on its own.
_ZXCVBN_MAX = 72

BREACHED = "This password appears in lists of breached passwords. Choose another one."
NEAR_BREACHED = (
    "This password is too close to passwords that appear in lists of breached "
    "passwords. Choose another one."
)
PERSONAL = "The password is too similar to your email address or name."


def _setting(name: str) -> int:
    """The app's setting; outside an app (a script, a unit test) config.py's default."""
    if has_app_context():
        return int(current_app.config[name])
    return int(getattr(config, f"DEFAULT_{name}"))


def _personal_words(email: str, name: str) -> list[str]:
    email = (email or "").strip().lower()
    local, _, domain = email.partition("@")
    words = [email, local, domain, (name or "").strip().lower()]
    words += re.split(r"[^\w]+", f"{local} {name or ''}".lower())
    return [w for w in dict.fromkeys(words) if len(w) >= 3]


def _rest_without(password: str, words: list[str]) -> int:
    """How many letters and digits remain after removing the personal words."""
    rest = password.lower()
    for word in sorted(words, key=len, reverse=True):
        if len(word) >= 4:
            rest = rest.replace(word, "")
    return sum(ch.isalnum() for ch in rest)


def problem(password: str, email: str = "", name: str = "") -> str | None:
    """What is wrong with ``password`` for this user, or None when it is fine."""
    password = password or ""
    min_length = _setting("PASSWORD_MIN_LENGTH")
    if len(password) < min_length:
        return f"The password must have at least {min_length} characters."
    if len(password) > MAX_LENGTH:
        return f"The password must have at most {MAX_LENGTH} characters."
    result = zxcvbn(password[:_ZXCVBN_MAX], user_inputs=_personal_words(email, name))
    matches = result["sequence"]
    dictionaries = {m.get("dictionary_name") for m in matches if m["pattern"] == "dictionary"}
    whole = len(matches) == 1 and len(matches[0]["token"]) == len(password[:_ZXCVBN_MAX])
    if whole and dictionaries == {"passwords"}:
        return BREACHED
    words = _personal_words(email, name)
    if _rest_without(password, words) < 8:
        return PERSONAL  # little is left once the user's own words are taken out
    if result["score"] >= 4:
        return None
    if any(m.get("dictionary_name") == "user_inputs" and len(m["token"]) >= 4 for m in matches):
        return PERSONAL
    if result["score"] < _setting("PASSWORD_MIN_SCORE"):
        if "passwords" in dictionaries:
            return NEAR_BREACHED
        hint = result["feedback"].get("warning") or ""
        return " ".join(
            part
            for part in (
                "This password is too easy to guess.",
                hint,
                "A few unrelated words or a password manager make a strong one.",
            )
            if part
        )
    return None


def check(password: str, email: str = "", name: str = "") -> None:
    """Raise ValidationError (on the ``password`` field) naming the problem."""
    if message := problem(password, email, name):
        raise ValidationError(message, "password")
