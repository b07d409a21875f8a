"""Validating a supporter file's rows: cells to a typed Row, or RowRejected
naming the column and the reason."""

from __future__ import annotations

import json
import operator
import re
import zoneinfo
from functools import lru_cache
from typing import NamedTuple

from email_validator import EmailNotValidError, validate_email

from campaign.core.errors import ValidationError
from campaign.supporters import vocabulary as vocab
from campaign.supporters.imports.files import FIELDS
from campaign.supporters.services import clean_text, normalise_email

_ATOM = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*\Z")
_new = tuple.__new__
_MISS = object()  # not in a cache
_DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "vertical bar"}


class Row(NamedTuple):
    """One valid row of the file. A plain tuple underneath: the SQLite writer
    binds it by position (``?1``..) and the PostgreSQL writer COPYs it, so the
    field order is also the order of the staging table's columns."""

    email: str
    first_name: str
    last_name: str
    language: str | None  # None: the file gives none (an existing value stays)
    country: str | None
    city: str
    timezone: str | None
    interests: str  # a JSON list
    number: int  # the row's line in the file
    new_language: str  # what a new supporter gets: the language, or the default
    new_timezone: str  # the time zone, or the country's
    key: str  # who it is: models.email_key of the address (the email is as given)


@lru_cache(maxsize=65536)
def _domain(domain: str) -> str | None:
    try:
        return validate_email("a@" + domain, check_deliverability=False).ascii_domain
    except EmailNotValidError:
        return None


def fast_normalise_email(value: str) -> str:
    """normalise_email, with the common case (a plain ASCII local part, a
    domain seen before) answered from a cache of email-validator's verdicts."""
    value = value.strip()
    local, at, domain = value.rpartition("@")
    if at and len(local) <= 64 and _ATOM.match(local):
        ascii_domain = _domain(domain)
        if ascii_domain and len(local) + len(ascii_domain) < 254:
            return f"{local}@{ascii_domain}"
    return normalise_email(value)


def _clean(value: str, limit: int = 100) -> str:
    if value.isprintable() and "  " not in value:
        return value.strip()[:limit]
    return clean_text(value, limit)


class RowRejected(Exception):
    def __init__(self, column: str, reason: str, value: str = ""):
        super().__init__(reason)
        self.column, self.reason, self.value = column, reason, value


class RowReader:
    """Turns CSV rows into Rows, or RowRejected naming the column.

    Every row of a large file passes through ``read``: cells are taken with one
    itemgetter call, and codes and interests are looked up in caches keyed by
    the raw cell, so repeated values cost one dict lookup.
    """

    def __init__(self, headers: list[str], mapping: dict[str, str], delimiter: str = ","):
        self.headers = headers
        self.delimiter = delimiter
        names = list(FIELDS)
        self.columns = [headers.index(mapping[n]) if n in mapping else None for n in names]
        self.width = len(headers)
        # One itemgetter call takes all eight cells; an unmapped field reads
        # the empty cell appended to every row (index ``width``), so a row
        # must never reach ``take`` with more cells than the header.
        self.take = operator.itemgetter(*(i if i is not None else self.width for i in self.columns))
        self.padding = [""] * (self.width + 1)
        self.header_of = {
            n: headers[i] for n, i in zip(names, self.columns, strict=True) if i is not None
        }
        # Caches keyed by the raw cell: parsed codes (or the reason they are
        # refused) and cleaned texts; bounded, for hostile files.
        self.codes: dict[str, dict[str, object]] = {
            name: {} for name in ("language", "country", "interests", "timezone")
        }
        self.texts: dict[str, str] = {}
        self.zones: dict[str | None, str] = {}  # country → its time zone
        # The same, for the cells that passed, as what ``read`` stores (a code,
        # or None where the cell is blank): one dict lookup a cell. A refused
        # cell is not kept here, so it goes through ``_lookup`` each time.
        self.valid: dict[str, dict[str, str | None]] = {name: {} for name in self.codes}
        for name in self.valid:
            self._seed(name)

    def cells(self, row: list[str]) -> tuple:
        width = len(row)
        if width < self.width:
            row = row + self.padding[width:]
        elif width == self.width:
            row.append("")
        else:
            # More cells than the header: empty extra cells (a trailing
            # delimiter, blank unnamed columns) are dropped; anything else
            # means the cells no longer line up with the columns (an
            # unquoted delimiter inside a value), so the row is refused
            # rather than guessed at.
            extra = [cell for cell in row[self.width :] if cell.strip()]
            if extra:
                raise RowRejected("whole row", self._overlong(width), " | ".join(extra))
            row = row[: self.width]
            row.append("")
        return self.take(row)

    def _overlong(self, width: int) -> str:
        name = _DELIMITER_NAMES.get(self.delimiter, f"“{self.delimiter}”")
        return (
            f"the row has {width} cells, the header has {self.width}: check for an unquoted"
            f" {name} inside a value (put such values in double quotes)"
        )

    def read(self, row: list[str], number: int) -> Row:
        if len(row) == self.width:  # the common case of cells()
            row.append("")
            cells = self.take(row)
        else:
            cells = self.cells(row)
        email, first, last, language, country, city, interests, zone = cells
        try:
            email = fast_normalise_email(email)
        except ValidationError as error:
            message = error.message if email.strip() else "no email address"
            raise RowRejected(self.header_of.get("email", "email"), message, email) from None
        valid = self.valid
        if (found := valid["language"].get(language, _MISS)) is _MISS:
            found = self._valid("language", language)
        language = found
        if (found := valid["country"].get(country, _MISS)) is _MISS:
            found = self._valid("country", country)
        country = found
        if (found := valid["timezone"].get(zone, _MISS)) is _MISS:
            found = self._valid("timezone", zone)
        zone = found
        if (found := valid["interests"].get(interests, _MISS)) is _MISS:
            found = self._valid("interests", interests)
        texts = self.texts
        # tuple.__new__: a Row without the NamedTuple's own __new__, a Python
        # call per row that costs about as much as building the tuple.
        return _new(
            Row,
            (
                email,
                (texts.get(first) or self._text(first)) if first else "",
                (texts.get(last) or self._text(last)) if last else "",
                language,
                country,
                (texts.get(city) or self._text(city)) if city else "",
                zone,
                found,
                number,
                language or "en",
                zone
                or self.zones.get(country)
                or self.zones.setdefault(country, vocab.timezone_for(country)),
                # The address is normalised (its domain in ASCII), so its key is
                # it case-folded: models.email_key without the IDNA step.
                email.casefold(),
            ),
        )

    def _text(self, value: str) -> str:
        """A name or city cleaned, and kept for the next row that has it."""
        texts = self.texts
        if len(texts) > 100_000:  # bounded memory on hostile files
            texts.clear()
        texts[value] = cleaned = _clean(value)
        return cleaned

    def _valid(self, name: str, raw: str) -> str | None:
        """A code cell's value for ``read`` (RowRejected when refused), kept in
        ``valid`` for the next row that has it."""
        if not raw:  # unmapped or left blank: nothing given
            return "[]" if name == "interests" else None
        value = self._lookup(name, raw)
        valid = self.valid[name]
        if len(valid) > 20_000:  # bounded memory on hostile files
            valid.clear()
            self._seed(name)
        valid[raw] = value
        return value

    def _seed(self, name: str) -> None:
        self.valid[name][""] = "[]" if name == "interests" else None

    def _lookup(self, name: str, raw: str):
        cache = self.codes[name]
        value = cache.get(raw)
        if value is None:
            if len(cache) > 20_000:  # bounded memory on hostile files
                cache.clear()
            value = cache[raw] = _parse(name, raw.strip())
        if value.__class__ is str:
            return value or None
        raise RowRejected(self.header_of.get(name, name), value.args[0], raw)


def _parse(name: str, value: str) -> object:
    """A cell's normalised value, or an Exception whose message is the reason."""
    if not value:
        return "[]" if name == "interests" else ""
    try:
        if name == "language":
            code = vocab.language_codes().get(value.lower()) or vocab.language(value)
            return code
        if name == "country":
            return vocab.country(value)
        if name == "interests":
            return json.dumps(vocab.interests(value))
    except KeyError as error:
        label = "interest" if name == "interests" else name
        shown = error.args[0] if name == "interests" else value
        return Exception(f"unknown {label} “{shown}”")
    if value in known_zones():
        return value
    return Exception(f"unknown time zone “{value}”")


@lru_cache(maxsize=1)
def known_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())
