"""Segment filters: cleaning a filter dict and turning it into SQL conditions.

A filter is a dict with any of these keys, all combined with AND:
``languages``, ``countries``, ``interests`` (any of), ``states`` (lists);
``state_since``, ``state_before`` (ISO dates: when the current state began);
``acted_on_case`` (a case id), ``no_action_months`` (a number),
``received_mailing`` (a mailing id: a delivery of it was sent).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime

from dateutil.relativedelta import relativedelta
from sqlalchemy import cast, exists, func, select
from sqlalchemy.dialects.postgresql import JSONB, array

from campaign.core.db import dialect_name
from campaign.core.errors import ValidationError
from campaign.core.types import utcnow
from campaign.supporters import vocabulary as vocab
from campaign.supporters.models import STATES, Action, Supporter

LIST_KEYS = ("languages", "countries", "interests", "states")
DATE_KEYS = ("state_since", "state_before")
ID_KEYS = ("acted_on_case", "received_mailing", "no_action_months")


def _as_list(value) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        value = value.replace(";", ",").split(",")
    return [str(v).strip() for v in value if str(v).strip()]


def _clean_list(key: str, values: list[str]) -> list[str]:
    try:
        if key == "languages":
            return sorted({vocab.language(v) for v in values})
        if key == "countries":
            return sorted({vocab.country(v) for v in values})
        if key == "interests":
            return sorted(vocab.interests(values))
    except KeyError as error:
        raise ValidationError(f"Unknown {key[:-1]} “{error.args[0]}”.", key)
    unknown = [v for v in values if v not in STATES]
    if unknown:
        raise ValidationError(f"Unknown state “{unknown[0]}”.", key)
    return sorted(set(values))


def clean_filters(raw: dict | None) -> dict:
    """A filter dict with known keys only, validated; ValidationError names the key."""
    raw = raw or {}
    clean: dict = {}
    for key in LIST_KEYS:
        values = _clean_list(key, _as_list(raw.get(key)))
        if values:
            clean[key] = values
    for key in DATE_KEYS:
        value = raw.get(key)
        if value in (None, ""):
            continue
        try:
            clean[key] = value if isinstance(value, date) else date.fromisoformat(str(value))
        except ValueError:
            raise ValidationError("Give a date as YYYY-MM-DD.", key)
        clean[key] = clean[key].isoformat()
    for key in ID_KEYS:
        value = raw.get(key)
        if value in (None, ""):
            continue
        try:
            number = int(value)
        except (TypeError, ValueError):
            raise ValidationError("Give a whole number.", key)
        # Months reach back from today: more than a millennium leaves the calendar.
        if number < 1 or number > (12_000 if key == "no_action_months" else 10**9):
            raise ValidationError("Give a positive number.", key)
        clean[key] = number
    return clean


def _day(iso: str) -> datetime:
    return datetime.combine(date.fromisoformat(iso), datetime.min.time(), tzinfo=UTC)


def has_interest(values: list[str]):
    if dialect_name() == "postgresql":
        return cast(Supporter.interests, JSONB).op("?|")(array(values))
    each = func.json_each(Supporter.interests).table_valued("value")
    return exists(select(1).select_from(each).where(each.c.value.in_(values)))


def conditions(filters: dict) -> list:
    """SQL conditions on Supporter for a cleaned filter dict."""
    where = []
    column = {
        "languages": Supporter.language,
        "countries": Supporter.country,
        "states": Supporter.state,
    }
    for key, col in column.items():
        if filters.get(key):
            where.append(col.in_(filters[key]))
    if filters.get("interests"):
        where.append(has_interest(filters["interests"]))
    if filters.get("state_since"):
        where.append(Supporter.state_changed_at >= _day(filters["state_since"]))
    if filters.get("state_before"):
        where.append(Supporter.state_changed_at < _day(filters["state_before"]))
    if filters.get("acted_on_case"):
        acted = select(Action.supporter_id).where(Action.case_id == filters["acted_on_case"])
        where.append(Supporter.id.in_(acted))
    if filters.get("no_action_months"):
        cutoff = utcnow() - relativedelta(months=filters["no_action_months"])
        recent = select(1).where(Action.supporter_id == Supporter.id, Action.created_at >= cutoff)
        where.append(~exists(recent))
    if filters.get("received_mailing"):
        received = RECIPIENTS["received_mailing"](filters["received_mailing"])
        where.append(Supporter.id.in_(received))
    return where


# Filters on data that higher domains own (the outbox is the mailings
# domain's): key → function of the filter's value returning a SELECT of
# supporter ids. Registered with :func:`recipients`, as periodic jobs are.
RECIPIENTS: dict[str, Callable] = {}


def recipients(key: str):
    """Register ``function(value)`` as the supporter ids the filter ``key`` keeps."""

    def register(function: Callable) -> Callable:
        RECIPIENTS[key] = function
        return function

    return register


def describe(filters: dict) -> str:
    """A short human reading of a filter for lists of segments."""
    parts = []
    for key, label in (
        ("languages", "language"),
        ("countries", "country"),
        ("interests", "interest"),
        ("states", "state"),
    ):
        if filters.get(key):
            parts.append(f"{label} {', '.join(filters[key])}")
    if filters.get("state_since"):
        parts.append(f"since {filters['state_since']}")
    if filters.get("state_before"):
        parts.append(f"before {filters['state_before']}")
    if filters.get("acted_on_case"):
        parts.append(f"acted on case #{filters['acted_on_case']}")
    if filters.get("no_action_months"):
        parts.append(f"no action in {filters['no_action_months']} months")
    if filters.get("received_mailing"):
        parts.append(f"received mailing #{filters['received_mailing']}")
    return "; ".join(parts) or "everyone"
