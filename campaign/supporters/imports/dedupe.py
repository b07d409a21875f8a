"""De-duplication: within a batch (and, for a dry run, across batches), and
against the supporters that exist, with the merge policy ("keep" or "update")."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import NamedTuple

from campaign.supporters import vocabulary as vocab
from campaign.supporters.imports.rows import Row


@dataclass
class Counts:
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    duplicates: int = 0
    rejected: int = 0

    def as_dict(self) -> dict:
        return dict(self.__dict__)


class Existing(NamedTuple):
    """A supporter as the writers read it back (the columns of their SELECT,
    ``existing_columns``: the profile is None unless the policy is "update")."""

    key: str
    id: int
    email: str
    first_name: str
    last_name: str
    language: str
    country: str | None
    city: str
    timezone: str
    interests: object  # JSON text (SQLite) or a list (PostgreSQL)
    import_ref: str | None


# The fields an import may change, compared to tell "updated" from "unchanged".
_PROFILE = slice(1, 8)


def existing_columns(policy: str) -> str:
    """What the writers SELECT of the supporters a batch names, in ``Existing``'s order.

    Only "update" compares a supporter's profile (``compare``): "keep" needs the id
    and ``import_ref`` alone, and reads NULL for the rest: a re-run of a million rows
    under "keep" took 10.5 -> 9.2 s on SQLite, 15.8 -> 11 s on PostgreSQL
    (docs/PERFORMANCE.md, 2026-12-07)."""
    profile = Existing._fields[2:-1]  # email … interests: the columns of those names
    if policy != "update":
        profile = ("NULL",) * len(profile)
    return ", ".join(("email_key", "id", *profile, "import_ref"))


def dedupe(batch: list[Row], policy: str, seen: set[int] | None, counts: Counts) -> dict[str, Row]:
    """identity key → the row that stands for it. ``seen`` (a dry run's memory of
    earlier batches, as 8-byte hashes) counts repeats across batches."""
    if seen is None:
        # The common case in C: the first occurrence of an address wins
        # (reversed, so that later ones are overwritten by earlier ones).
        rows = {row.key: row for row in reversed(batch)}
        if len(rows) == len(batch):
            return rows
        if policy == "keep":
            counts.duplicates += len(batch) - len(rows)
            return rows
    rows = {}
    for row in batch:
        key = row.key
        if seen is not None:
            hashed = int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest())
            if hashed in seen and key not in rows:
                counts.duplicates += 1
                continue
            seen.add(hashed)
        if key in rows:
            counts.duplicates += 1
            if policy == "update":
                rows[key] = merge(rows[key], row)
            continue
        rows[key] = row
    return rows


def compare(row: Row, old: Existing, file: str, policy: str, changed: list, counts: Counts) -> None:
    """Count ``row`` against the supporter it names; append (id, merged row)
    to ``changed`` when the policy and the values call for an update.

    ``file`` is the digest in ``import_ref``: a supporter last set by a row of
    this same file recognises a re-run (or an interrupted run continuing). A
    supporter set by this very row, or a later one, is left as it is, even under
    "update": what changed since (a language the supporter chose, a staff
    correction) is newer than the file."""
    ref_file, _, ref_row = (old.import_ref or "").partition(":")
    if ref_file == file and ref_row.isdigit():
        if int(ref_row) >= row.number:  # this row, or a later one of the file, applied
            counts.unchanged += 1
            return
        if int(ref_row) < row.number and policy == "keep":  # repeats an applied row
            counts.duplicates += 1
            return
    if policy == "keep":
        counts.unchanged += 1
        return
    current = as_row(old)
    merged = merge(current, row)
    if merged[_PROFILE] == current[_PROFILE]:
        counts.unchanged += 1
        return
    changed.append((old.id, merged))


def as_row(old: Existing) -> Row:
    """An existing supporter in the shape of a file's row (interests as the
    JSON text the reader makes, so the two compare)."""
    interests = old.interests
    if not isinstance(interests, str):
        interests = json.dumps(interests or [])
    elif interests != "[]":
        interests = json.dumps(json.loads(interests))
    return Row(
        old.email, old.first_name, old.last_name, old.language, old.country, old.city,
        old.timezone, interests, 0, old.language, old.timezone, old.key,
    )  # fmt: skip


def merge(old: Row, new: Row) -> Row:
    """Non-empty values of ``new`` override ``old``; empty cells never blank a
    field. The address stays as ``old`` gave it first."""
    values = [old.email]
    for i in range(1, 8):
        value = new[i]
        values.append(old[i] if value in ("", None, "[]") else value)
    if new.timezone is None and new.country and new.country != old.country:
        values[6] = vocab.timezone_for(new.country)  # moved country: its zone, unless given
    language, country, zone = values[3], values[4], values[6]
    zone = zone or vocab.timezone_for(country)
    return Row(*values, new.number, language or "en", zone, old.key)
