"""Field extraction: case-sheet text -> a ``Proposal`` for staff to review.

This module owns the reading of Urgent Action case sheets (the text that
``readers`` produced, its wrapped lines already re-joined into paragraphs by
``layout``, or pasted text): the UA number and year, whether the sheet is an
original, an update or an outcome, the index reference, title, country, issue
date, summary, background, people at risk with their dated status notes, appeal
deadline, languages, targets with salutations, recommended actions. Spellings of
one person's name are grouped and matched with ``campaign.cases.names.name_key``,
the key the people search in the database uses, so import and search agree on
who is who. Sheets in English, French and Spanish are read (dates, deadlines,
languages, salutations, titles; German and Russian salutations too).

Every value comes with the character spans it was read from, and every field
that was not found is listed in ``Proposal.missing``: a proposal never presents
a guess as a fact. All patterns work line by line or with bounded quantifiers,
and only the first ``MAX_ANALYSED_CHARS`` characters are analysed, so any input
(empty, binary junk, megabytes) returns in a second or two.

Heuristics and their limits (details next to the code that applies them):

* Two-digit UA years: ``cases.labels.full_year`` (the rule UA labels use).
* The UA number on an "update of UA" / "Further information on UA" phrase or at
  the start of a line wins over one mentioned in passing; the others are warned.
* kind: "outcome" on an "Urgent Action outcome:" headline, "update" on "Nth
  update of UA" (``cases.labels.ordinal_number``) or "Further information on UA"
  (number unknown), "original" when a UA number or an "URGENT ACTION" header is
  all there is; nothing at all -> missing.
* further_action: False on "No further action is requested"; True on a request
  ("Please write", "send appeals before", "Écrivez", "Escriban", ...); None
  otherwise (seed 004, an outcome web page, says neither: None).
* index_reference: "Index:" label > "Further information:" link > others; a
  reference after "report"/"see" or in the parentheses of "Further information on
  UA n (…)" (earlier documents) scores lower. 1990s references ("AMR 41/23/94")
  are read as written.
* issue date: a "Date:"/"Fecha:"/"Issued" label in the header (the lines before
  the first long paragraph), else a date on the header's UA-number line. Dates
  without a year in the text take the issue date's year (else the index
  reference's, else the UA's).
* country: the first country the header or headline names (standard, common and
  French/Spanish names; ambiguous words such as Jordan or Chad are left out),
  else the country the main targets' addresses end with.
* title: the headline that goes with the "URGENT ACTION" header (its rest, the
  line after it, or on web pages the headline before a meta line), never a
  country or a meta line; else the outcome headline; else the text after the
  references on a "Further information on UA" line; else the words between the
  number and the date on a 1990s UA line.
  summary: the first prose line (>= 60 characters, 8 words) after the title.
  background: the block under "Additional information"/"Background".
* People at risk are runs of 2-5 capitalised words (an ALL-CAPS surname may
  follow a capitalised first name) that are not organisations, places,
  nationalities, months or roles, kept only if a mention has a status note or a
  cue of risk within 8 words (leader, defender, prisoner, co-defendant,
  sentenced, detained, released, militant, "(m)", ...), and no full mention is
  introduced by a role (President, Minister, High Representative, lawyer, ...).
  The first full spelling is the name, later ones aliases. Limits: a quoted
  leader ("Tatar leader Mustafa Dzhemilev told ...") is taken as at risk; a
  person named only by surname, in lower case, in a single word or by a pronoun
  ("They were sentenced") is not found.
* Status notes read the words right after a name, past an apposition or a
  relative clause ("X, deputy head of the Mejlis, was sentenced"; "X, who was
  detained with him, was released"), in English, French and Spanish (notes stay
  in English); "X and Y to 12 years each" gives X Y's note. A note's date is an
  "on <date>" in its own clause. The person's status is the one with the latest
  date, unless a different one is said later without a date.
* deadline: a date after "before"/"no later than"/"by"/"avant le"/"antes del" on
  a line about appeals, else the date of "if sending appeals after"; numeric
  dates are read day first; a date without a year is not completed.
* Targets are found by evidence, not by a heading (``_find_targets``): blocks of
  short lines scored on salutations, emails, faxes, officials' titles and address
  shapes; under a "... to:" lead-in or a "copies to" line less evidence will do.
  A block under a copies line, or addressed to an embassy, is a copy. Lines
  before the address are title, name and organisation by vocabulary; courtesy
  words (His Excellency, Mr, Lic.) are not part of a name, nobility (King,
  Sheikh) is.
* Only the first ``MAX_ANALYSED_CHARS`` characters and ``MAX_NAME_MENTIONS``
  capitalised runs are analysed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields, is_dataclass
from datetime import date
from functools import cached_property
from typing import Any

import pycountry

from campaign.cases import names
from campaign.cases.labels import ORDINAL_WORDS, full_year, ordinal_number

# A real sheet is 5-30k characters; the caps keep hostile input to a second or two.
MAX_ANALYSED_CHARS = 200_000
MAX_NAME_MENTIONS = 3000

Span = tuple[int, int]


@dataclass
class Found:
    """One extracted value and the spans (start, end offsets into the text) it came from."""

    value: Any = None
    spans: list[Span] = field(default_factory=list)

    @property
    def found(self) -> bool:
        return self.value is not None


@dataclass
class Person:
    name: str
    aliases: list[str] = field(default_factory=list)
    person_id: int | None = None
    # Several known people share the key: staff must choose.
    candidate_ids: list[int] = field(default_factory=list)
    status: Found = field(default_factory=Found)  # the latest status note
    statuses: list[Found] = field(default_factory=list)  # all notes, in text order
    spans: list[Span] = field(default_factory=list)
    # The date of ``status`` as the text gives it (ISO), else not found.
    status_on: Found = field(default_factory=Found)

    @property
    def status_code(self) -> str | None:
        """The person status (``cases.models.PERSON_STATUSES``) ``status`` stands for."""
        return status_code(self.status.value) or None


@dataclass
class Target:
    name: str | None = None
    title: str | None = None
    organisation: str | None = None
    address: list[str] = field(default_factory=list)
    email: str | None = None
    fax: str | None = None
    phone: str | None = None
    social: list[str] = field(default_factory=list)
    salutation: str | None = None
    is_copy: bool = False
    spans: list[Span] = field(default_factory=list)


@dataclass
class Proposal:
    ua_number: Found = field(default_factory=Found)
    year: Found = field(default_factory=Found)
    kind: Found = field(default_factory=Found)  # "original", "update" or "outcome"
    update_number: Found = field(default_factory=Found)
    # (number, year) when the UA number matches a case the caller already has.
    existing_case: tuple[int, int] | None = None
    further_action: Found = field(default_factory=Found)
    index_reference: Found = field(default_factory=Found)
    other_index_references: list[Found] = field(default_factory=list)
    title: Found = field(default_factory=Found)
    country: Found = field(default_factory=Found)  # ISO 3166 alpha-2
    issue_date: Found = field(default_factory=Found)  # ISO date the sheet was issued
    outcome: Found = field(default_factory=Found)
    summary: Found = field(default_factory=Found)
    background: Found = field(default_factory=Found)
    people: list[Person] = field(default_factory=list)
    deadline: Found = field(default_factory=Found)  # ISO date string
    languages: Found = field(default_factory=Found)  # ISO 639-1 codes
    own_language_allowed: bool = False
    targets: list[Target] = field(default_factory=list)
    copy_to_embassies: Found = field(default_factory=lambda: Found(False))
    recommended_actions: Found = field(default_factory=Found)  # one span per action
    missing: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def is_update_of_existing(self) -> bool:
        return self.existing_case is not None and self.kind.value in ("update", "outcome")

    def to_dict(self) -> dict[str, Any]:
        data = _plain(self)
        data["is_update_of_existing"] = self.is_update_of_existing
        return data


def _plain(value: Any) -> Any:
    if is_dataclass(value):
        return {f.name: _plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value


# Extraction notes ("sentenced to 12 years", "released") -> person status codes.
_STATUS_WORDS = (
    ("hunger strike", "hunger_strike"),
    ("sentenced", "sentenced"),
    ("convicted", "sentenced"),
    ("released", "released"),
    ("acquitted", "released"),
    ("pardoned", "released"),
    ("deported", "deported"),
    ("exiled", "exiled"),
    ("disappeared", "disappeared"),
    ("abducted", "disappeared"),
    ("tortured", "ill_treated"),
    ("charged", "charged"),
    ("detained", "detained"),
    ("arrested", "detained"),
    ("jailed", "detained"),
    ("imprisoned", "detained"),
)


def status_code(note: str | None) -> str:
    """The person status an extraction note stands for; '' when none fits."""
    note = (note or "").lower()
    return next((code for word, code in _STATUS_WORDS if word in note), "other" if note else "")


# --- name keys --------------------------------------------------------------------

# One key for a name everywhere: the people search in the database (cases.names) and
# the grouping and matching of spellings here must agree, or a person the search finds
# would not be matched on import (and the other way round).
name_key = names.name_key


# --- lines ------------------------------------------------------------------------


@dataclass
class _Line:
    start: int
    end: int
    text: str  # the raw line; offsets refer to it

    @cached_property
    def stripped(self) -> str:
        return self.text.strip()

    def span(self) -> Span:
        lead = len(self.text) - len(self.text.lstrip())
        return (self.start + lead, self.start + len(self.text.rstrip()))


def _split_lines(text: str) -> list[_Line]:
    lines = []
    pos = 0
    while pos <= len(text):
        end = text.find("\n", pos)
        if end < 0:
            end = len(text)
        lines.append(_Line(pos, end, text[pos:end]))
        pos = end + 1
    return lines


# --- entry point ------------------------------------------------------------------


def extract(
    text: str,
    *,
    known_people: list[tuple[int, list[str]]] = (),
    known_cases: set[tuple[int, int]] = (),
    today: date | None = None,
) -> Proposal:
    """Propose case fields from case-sheet text; never raises on odd input."""
    proposal = Proposal()
    text = text if isinstance(text, str) else ""
    if len(text) > MAX_ANALYSED_CHARS:
        proposal.warnings.append(f"Only the first {MAX_ANALYSED_CHARS:,} characters were analysed.")
        text = text[:MAX_ANALYSED_CHARS]
    lines = _split_lines(text)
    today = today or date.today()

    _find_ua_number(text, lines, proposal, today)
    _find_kind(text, lines, proposal)
    if proposal.ua_number.found and proposal.year.found:
        key = (proposal.ua_number.value, proposal.year.value)
        if key in set(known_cases):
            proposal.existing_case = key
            if proposal.kind.value == "original":
                proposal.warnings.append(
                    f"UA {key[0]}/{key[1]} already exists: this may be an update of it."
                )
    _find_further_action(text, proposal)
    _find_index_references(text, lines, proposal)
    _find_issue_date(lines, proposal)
    _find_country(lines, proposal)
    title_line = _find_title(lines, proposal)
    _find_summary(lines, title_line, proposal)
    _find_background(lines, proposal)
    _find_deadline(lines, proposal)
    _find_languages(lines, proposal)
    _find_targets(text, lines, proposal)
    _find_recommended_actions(lines, proposal)
    if not proposal.country.found:
        _country_from_addresses(text, proposal)
    proposal.people = find_people(text, known_people, year=_reference_year(proposal))
    _list_missing(proposal)
    return proposal


def _list_missing(p: Proposal) -> None:
    checks = {
        "ua_number": p.ua_number.found,
        "year": p.year.found,
        "kind": p.kind.found,
        "further_action": p.further_action.found,
        "index_reference": p.index_reference.found,
        "title": p.title.found,
        "country": p.country.found,
        "issue_date": p.issue_date.found,
        "summary": p.summary.found,
        "background": p.background.found,
        "people": bool(p.people),
        "deadline": p.deadline.found,
        "languages": p.languages.found,
        "targets": bool(p.targets),
        "recommended_actions": p.recommended_actions.found,
    }
    if p.kind.value == "update":
        checks["update_number"] = p.update_number.found
    if p.kind.value == "outcome":
        checks["outcome"] = p.outcome.found
    p.missing = [name for name, ok in checks.items() if not ok]


# --- UA number, year, kind ------------------------------------------------------

_UA_RE = re.compile(
    r"(?<![\w/])(?:UA|U\.A\.|AU|Urgent[ \t]+Action|URGENT[ \t]+ACTION|Action[ \t]+urgente"
    r"|ACTION[ \t]+URGENTE|Acción[ \t]+Urgente|ACCIÓN[ \t]+URGENTE|EILAKTION|Eilaktion)"
    r"(?:[ \t]*(?:No\.?|number|n[°º]|#))?[ \t]*:?[ \t]*(\d{1,4})[ \t]*/[ \t]*(\d{4}|\d{2})(?![\d/])"
)
_UA_CONTEXT_RE = re.compile(r"(?:update|information)[ \t]+(?:of|on|to)[ \t]+$", re.IGNORECASE)


def _find_ua_number(text: str, lines: list[_Line], p: Proposal, today: date) -> None:
    best = None
    occurrences = []
    for match in _UA_RE.finditer(text):
        year = full_year(match.group(2), today=today)
        number = int(match.group(1))
        if year is None or number == 0:
            continue
        before = text[max(0, match.start() - 40) : match.start()]
        line_start = text.rfind("\n", 0, match.start()) + 1
        score = 3 if _UA_CONTEXT_RE.search(before) else 0
        score += 2 if not text[line_start : match.start()].strip() else 0
        occurrences.append(((number, year), match))
        if best is None or score > best[0]:
            best = (score, (number, year))
    if best is None:
        return
    chosen = best[1]
    spans_number = [m.span(1) for key, m in occurrences if key == chosen]
    spans_year = [m.span(2) for key, m in occurrences if key == chosen]
    p.ua_number = Found(chosen[0], spans_number)
    p.year = Found(chosen[1], spans_year)
    others = sorted({f"{n}/{y}" for (n, y), _ in occurrences if (n, y) != chosen})
    if others:
        p.warnings.append("Other UA numbers are mentioned: " + ", ".join(others))


_UPDATE_RE = re.compile(
    r"\b(?:(" + "|".join(ORDINAL_WORDS) + r"|\d{1,2}(?:st|nd|rd|th)|\d{1,2})[ \t]+)?"
    r"update[ \t]+(?:of|on|to)[ \t]+(?:the[ \t]+)?(?:UA|Urgent[ \t]+Action)\b",
    re.IGNORECASE,
)
_FURTHER_INFO_RE = re.compile(
    r"\bFurther[ \t]+information[ \t]+on[ \t]+(?:UA|Urgent[ \t]+Action)\b", re.IGNORECASE
)
_OUTCOME_RE = re.compile(
    r"^[ \t]*(?:Urgent[ \t]+Action|UA)[ \t]+outcome[ \t]*[:\-–—][ \t]*(\S[^\n]*?)[ \t]*$",
    re.IGNORECASE | re.MULTILINE,
)


def _find_kind(text: str, lines: list[_Line], p: Proposal) -> None:
    outcome = _OUTCOME_RE.search(text)
    update = _UPDATE_RE.search(text)
    further = _FURTHER_INFO_RE.search(text)
    if update:
        number = ordinal_number(update.group(1))
        span = update.span(1) if update.group(1) else update.span()
        p.update_number = Found(number, [span] if number is not None else [])
    if outcome:
        p.kind = Found("outcome", [outcome.span()])
        p.outcome = Found(outcome.group(1), [outcome.span(1)])
    elif update or further:
        p.kind = Found("update", [(update or further).span()])
    elif p.ua_number.found or any(_is_ua_header(line.stripped) for line in lines):
        spans = (
            p.ua_number.spans[:1]
            or [line.span() for line in lines if _is_ua_header(line.stripped)][:1]
        )
        p.kind = Found("original", spans)


# --- further action ---------------------------------------------------------------

_NO_FURTHER_RE = re.compile(
    r"\bno[ \t]+further[ \t]+(?:action|appeals)[ \t]+(?:is[ \t]+|are[ \t]+)?"
    r"(?:requested|needed|required|necessary)\b",
    re.IGNORECASE,
)
_ASKS_ACTION_RE = re.compile(
    r"\bplease[ \t]+(?:write|send|call|e-?mail|tweet|fax|contact|take[ \t]+action)\b"
    r"|\bsend[ \t]+appeals[ \t]+(?:before|to|immediately|as[ \t]+quickly)\b"
    r"|\bwrite[ \t]+(?:a[ \t]+letter|an[ \t]+appeal|to)\b"
    r"|^[ \t]*take[ \t]+action\b"
    r"|\brecommended[ \t]+action\b"
    r"|\b(?:écrivez|veuillez[ \t]+(?:écrire|envoyer)|passez[ \t]+à[ \t]+l['’]action|escriban"
    r"|envíen[ \t]+llamamientos|bitte[ \t]+schreiben)\b",
    re.IGNORECASE | re.MULTILINE,
)


def _find_further_action(text: str, p: Proposal) -> None:
    """False on an explicit stop; True when the sheet asks for appeals; else unknown."""
    stop = _NO_FURTHER_RE.search(text)
    if stop:
        p.further_action = Found(False, [stop.span()])
        return
    asks = _ASKS_ACTION_RE.search(text)
    if asks:
        p.further_action = Found(True, [asks.span()])


# --- index references ---------------------------------------------------------------

_REGIONS = "AFR|AMR|ASA|EUR|MDE|POL|ACT|IOR|NWS|ORG|FIN|PUB|DOC|NAT|REG|CDP"
_INDEX_RE = re.compile(
    # 1990s references have short numbers and two-digit years: "AMR 41/23/94".
    r"\b(" + _REGIONS + r")[ \t]?(\d{2})[ \t]*/[ \t]*(\d{2,5})[ \t]*/[ \t]*(\d{4}|\d{2})\b"
)
_INDEX_URL_RE = re.compile(
    r"(?<=/)(" + _REGIONS + r")(\d{2})/(\d{3,5})/(\d{4})(?![\w])", re.IGNORECASE
)
_OWN_INDEX_BEFORE_RE = re.compile(
    r"\bIndex(?:[ \t]+(?:no\.?|number))?[ \t]*:?[ \t]*$", re.IGNORECASE
)
_FURTHER_COLON_RE = re.compile(r"\bFurther[ \t]+information[ \t]*:", re.IGNORECASE)
_EARLIER_DOC_RE = re.compile(r"\bon[ \t]+(?:UA|Urgent[ \t]+Action)\b[^\n]*\($", re.IGNORECASE)
_REPORT_RE = re.compile(r"\b(?:report|see|briefing)\b", re.IGNORECASE)


def _find_index_references(text: str, lines: list[_Line], p: Proposal) -> None:
    """Prefer the sheet's own reference ("Index:" label, "Further information:" link)."""
    found: list[tuple[int, int, str, Span]] = []
    for regex in (_INDEX_RE, _INDEX_URL_RE):
        for m in regex.finditer(text):
            ref = f"{m.group(1).upper()} {m.group(2)}/{m.group(3)}/{m.group(4)}"
            found.append((_index_score(text, m.start()), m.start(), ref, m.span()))
    if not found:
        return
    best = max(found, key=lambda item: (item[0], -item[1]))
    refs: dict[str, list[Span]] = {}
    for _, _start, ref, span in sorted(found, key=lambda item: item[1]):
        refs.setdefault(ref, []).append(span)
    p.index_reference = Found(best[2], refs.pop(best[2]))
    p.other_index_references = [Found(ref, spans) for ref, spans in refs.items()]


def _index_score(text: str, start: int) -> int:
    line_start = text.rfind("\n", 0, start) + 1
    before = text[max(line_start, start - 120) : start]
    near = text[max(line_start, start - 25) : start]
    line_end = text.find("\n", start)
    line = text[line_start : line_end if line_end >= 0 else len(text)]
    score = 0
    if _OWN_INDEX_BEFORE_RE.search(near):
        score += 4
    if _FURTHER_COLON_RE.search(text[max(line_start, start - 80) : start]):
        score += 3
    if _UA_RE.search(line):
        score += 1
    if _EARLIER_DOC_RE.search(before) or _REPORT_RE.search(before):
        score -= 2
    return score


# --- title, summary, background -------------------------------------------------------

_UA_HEADER_RE = re.compile(
    r"^(?:URGENT[ \t]+ACTION|Urgent[ \t]+Action|ACTION[ \t]+URGENTE|Action[ \t]+urgente"
    r"|ACCIÓN[ \t]+URGENTE|Acción[ \t]+urgente|EILAKTION|Eilaktion)"
    r"(?:[ \t]*[:\-–—·][ \t]*|[ \t]*$)(.*)$"
)
_META_LINE_RE = re.compile(
    r"^(?:UA\b|AU\b|U\.A\.|First[ \t]+UA\b|(?:AI[ \t]+)?Index\b|Índice\b|Date\b|Fecha\b"
    r"|Issue[ \t]+date\b|Further[ \t]+information\b|EXTERNAL\b|PUBLIC\b|Distr\b)",
    re.IGNORECASE,
)


def _is_ua_header(stripped: str) -> bool:
    match = _UA_HEADER_RE.match(stripped)
    return bool(match) and not re.match(r"outcome\b", match.group(1), re.IGNORECASE)


def _find_title(lines: list[_Line], p: Proposal) -> int | None:
    """Title: the headline that goes with the "URGENT ACTION" header (its rest, the
    headline after it, or the one just before it on web pages), else the outcome
    headline, else the text after the dash on a "Further information on UA ..."
    line, else (1990s sheets) the words between the UA number and the date."""
    for index, line in enumerate(lines):
        if not _is_ua_header(line.stripped):
            continue
        rest = _UA_HEADER_RE.match(line.stripped).group(1).strip()
        if rest and not re.match(r"\d", rest) and not _is_meta(rest):
            start = line.start + line.text.index(rest)
            p.title = Found(rest, [(start, start + len(rest))])
            return index
        following = _next_content_line(lines, index + 1)
        if following is not None and len(lines[following].stripped) <= 150:
            p.title = Found(lines[following].stripped, [lines[following].span()])
            return following
        before = _previous_content_line(lines, index)
        if before is not None:
            p.title = Found(lines[before].stripped, [lines[before].span()])
            return before
    if p.outcome.found:
        start = p.outcome.spans[0][0]
        p.title = Found(p.outcome.value, list(p.outcome.spans))
        return next(i for i, line in enumerate(lines) if line.start <= start <= line.end)
    return _title_from_further_information(lines, p) or _title_from_ua_line(lines, p)


def _is_meta(rest: str) -> bool:
    """What follows "Urgent Action" on a line that is not a headline: "· UA 18/23 ·
    2 March 2023", or a country alone ("Urgent Action: Turkey")."""
    rest = rest.strip(" ·:-–—")
    return bool(
        _UA_RE.search(rest)
        or _META_LINE_RE.match(rest)
        or _COUNTRY_RE.fullmatch(rest)
        or _DATE_ONLY_RE.match(rest)
    )


def _next_content_line(lines: list[_Line], start: int) -> int | None:
    for index in range(start, min(len(lines), start + 6)):
        stripped = lines[index].stripped
        if (
            stripped
            and not _META_LINE_RE.match(stripped)
            and not _DATE_ONLY_RE.match(stripped)
            and not _is_ua_header(stripped)
        ):
            return index
    return None


def _previous_content_line(lines: list[_Line], end: int) -> int | None:
    for index in range(end - 1, max(-1, end - 4), -1):
        stripped = lines[index].stripped
        if not stripped:
            continue
        if _META_LINE_RE.match(stripped) or _is_ua_header(stripped) or len(stripped) > 150:
            return None
        return index
    return None


def _title_from_further_information(lines: list[_Line], p: Proposal) -> int | None:
    for index, line in enumerate(lines):
        if not _FURTHER_INFO_RE.search(line.text):
            continue
        # "... (AFR 54/03/98, 2 March 1998) - Incommunicado detention: death penalty"
        after_refs = re.search(r"\)[ \t]*[\-–—][ \t]+(\S[^\n]{2,})$", line.text.rstrip())
        tail = after_refs or re.search(
            r"(?:[ \t][\-–—]|:)[ \t]+([^–—:()\n]{3,})$", line.text.rstrip()
        )
        if tail and not re.search(r"\d{4}\)?$", tail.group(1)):
            title = tail.group(1).strip()
            start = line.start + tail.start(1)
            p.title = Found(title, [(start, start + len(title))])
            return index
        return None
    return None


# "UA 112/94   Fear of torture / Legal concern   14 April 1994"
_UA_LINE_TITLE_RE = re.compile(
    r"^(?:UA|AU)[ \t]*:?[ \t]*\d{1,4}[ \t]*/[ \t]*\d{2,4}[ \t]+(?P<title>[^\n]{5,180})$",
    re.IGNORECASE,
)


def _title_from_ua_line(lines: list[_Line], p: Proposal) -> int | None:
    for line in _header(lines):
        match = _UA_LINE_TITLE_RE.match(line.stripped)
        if not match:
            continue
        title = _TRAILING_DATE_RE.sub("", match.group("title")).strip()
        if title and not re.search(r"\d", title) and not _is_meta(title):
            start = line.start + line.text.index(title)
            p.title = Found(title, [(start, start + len(title))])
            return lines.index(line)
    return None


def _is_prose(stripped: str) -> bool:
    return len(stripped) >= 60 and len(stripped.split()) >= 8 and not _META_LINE_RE.match(stripped)


def _find_summary(lines: list[_Line], title_line: int | None, p: Proposal) -> None:
    """The first paragraph of prose after the title (needs a title to anchor on)."""
    if title_line is None:
        return
    for line in lines[title_line + 1 : title_line + 40]:
        if _STOP_HEADING_RE.match(line.stripped) or _TARGETS_HEAD_RE.match(line.stripped):
            return
        if _is_prose(line.stripped):
            p.summary = Found(line.stripped, [line.span()])
            return


_BACKGROUND_RE = re.compile(
    r"^(?:ADDITIONAL[ \t]+INFORMATION|BACKGROUND(?:[ \t]+INFORMATION)?"
    r"|COMPLÉMENT[ \t]+D['’]INFORMATION|INFORMACIÓN[ \t]+(?:ADICIONAL|COMPLEMENTARIA)"
    r"|HINTERGRUND(?:INFORMATIONEN)?)\b[ \t]*:?[ \t]*(.*)$",
    re.IGNORECASE,
)
_STOP_HEADINGS = (
    r"RECOMMENDED[ \t]+ACTIONS?\b",
    r"PLEASE[ \t]+(?:WRITE|SEND)\b",
    r"WHAT[ \t]+(?:YOU[ \t]+CAN[ \t]+)?(?:TO[ \t]+)?DO\b",
    r"TAKE[ \t]+ACTION\b",
    r"(?:AND[ \t]+)?COPIES[ \t]+TO\b",
    r"ALSO[ \t]+SEND[ \t]+COPIES\b",
    r"NAME[ \t]*:",
    r"GENDER\b",
    r"FURTHER[ \t]+INFORMATION\b",
    r"THIS[ \t]+IS[ \t]+THE[ \t]+\w+[ \t]+UPDATE\b",
    r"NO[ \t]+FURTHER[ \t]+ACTION\b",
    r"ADDITIONAL[ \t]+INFORMATION\b",
    r"BACKGROUND\b",
    r"WRITE[ \t]+TO[ \t]*:?[ \t]*$",
    r"CHECK[ \t]+WITH\b",
    r"DOWNLOAD\b",
)
_STOP_HEADING_RE = re.compile(r"^(?:" + "|".join(_STOP_HEADINGS) + r")", re.IGNORECASE)


def _find_background(lines: list[_Line], p: Proposal) -> None:
    for index, line in enumerate(lines):
        match = _BACKGROUND_RE.match(line.stripped)
        if not match or (not match.group(1) and len(line.stripped) > 40):
            continue
        parts, spans = [], []
        if match.group(1):
            rest = match.group(1)
            start = line.start + line.text.index(rest)
            parts.append(rest)
            spans.append((start, start + len(rest)))
        for following in lines[index + 1 :]:
            if _STOP_HEADING_RE.match(following.stripped):
                break
            if following.stripped:
                parts.append(following.stripped)
                spans.append(following.span())
        if parts:
            p.background = Found("\n".join(parts), [(spans[0][0], spans[-1][1])])
        return


# --- deadline ---------------------------------------------------------------------

_MONTHS = {
    name: number
    for number, names in enumerate(
        [
            # English, then French, Spanish and German: sheets come in all four.
            ("january", "jan", "janvier", "enero", "januar"),
            ("february", "feb", "février", "fevrier", "febrero", "februar"),
            ("march", "mar", "mars", "marzo", "märz"),
            ("april", "apr", "avril", "abril"),
            ("may", "mai", "mayo"),
            ("june", "jun", "juin", "junio", "juni"),
            ("july", "jul", "juillet", "julio", "juli"),
            ("august", "aug", "août", "aout", "agosto"),
            ("september", "sept", "sep", "septembre", "septiembre", "setiembre"),
            ("october", "oct", "octobre", "octubre", "oktober"),
            ("november", "nov", "novembre", "noviembre"),
            ("december", "dec", "décembre", "decembre", "diciembre", "dezember"),
        ],
        start=1,
    )
    for name in names
}
_MONTH = r"(" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_DATE = (
    r"(?:(\d{1,2})(?:st|nd|rd|th|er)?\.?[ \t]+(?:de[ \t]+)?"
    + _MONTH
    + r"[ \t]*,?[ \t]+(?:de[ \t]+)?(\d{4})"
    r"|" + _MONTH + r"[ \t]+(\d{1,2})(?:st|nd|rd|th)?[ \t]*,?[ \t]+(\d{4})"
    r"|(\d{4})-(\d{2})-(\d{2})"
    r"|(\d{1,2})[./](\d{1,2})[./](\d{4}))"
)
_DEADLINE_RE = re.compile(
    r"\b(?:before|no[ \t]+later[ \t]+than|by|until|avant[ \t]+le|antes[ \t]+del?|bis[ \t]+zum)"
    r"[ \t]+(?:the[ \t]+)?" + _DATE + r"(?!\w)",
    re.IGNORECASE,
)
# The closing line of older sheets: "Check with ... if sending appeals after 26 May 1994."
_SENDING_AFTER_RE = re.compile(
    r"\bif[ \t]+sending[ \t]+appeals[ \t]+after[ \t]+(?:the[ \t]+)?" + _DATE, re.IGNORECASE
)
_DATE_ONLY_RE = re.compile(r"^" + _DATE + r"$", re.IGNORECASE)
_TRAILING_DATE_RE = re.compile(r"[ \t]*" + _DATE + r"[ \t]*$", re.IGNORECASE)
_APPEAL_WORDS_RE = re.compile(
    r"\b(?:appeals?|send|write|letters?|arrive|action|appels|envoyer|écrivez|llamamientos"
    r"|envíen|escriban|appelle|schreiben)\b",
    re.IGNORECASE,
)


def _find_deadline(lines: list[_Line], p: Proposal) -> None:
    """A date after "before" / "no later than" on a line that talks about appeals."""
    for line in lines:
        if not _APPEAL_WORDS_RE.search(line.text):
            continue
        for match in _DEADLINE_RE.finditer(line.text):
            when = _parse_date(match)
            if when:
                span = (line.start + match.start(), line.start + match.end())
                p.deadline = Found(when.isoformat(), [span])
                return
    for line in lines:
        match = _SENDING_AFTER_RE.search(line.text)
        when = _parse_date(match) if match else None
        if when:
            span = (line.start + match.start(), line.start + match.end())
            p.deadline = Found(when.isoformat(), [span])
            return


def _parse_date(match: re.Match) -> date | None:
    g = match.groups()
    try:
        if g[0]:
            return date(int(g[2]), _MONTHS[g[1].lower()], int(g[0]))
        if g[3]:
            return date(int(g[5]), _MONTHS[g[3].lower()], int(g[4]))
        if g[6]:
            return date(int(g[6]), int(g[7]), int(g[8]))
        if g[9]:  # numeric dates are read day first, as in the sheets we receive
            return date(int(g[11]), int(g[10]), int(g[9]))
    except (ValueError, KeyError):
        return None
    return None


# --- issue date and country ------------------------------------------------------------

# The sheet's own header: the lines before its first paragraph of prose.
HEADER_LINES = 12
HEADER_LINE_CHARS = 300  # a header line is short; a megabyte "line" must not cost seconds
_ISSUE_LABEL_RE = re.compile(
    r"\b(?:Date|Fecha|Datum|Issued(?:[ \t]+on)?|Date[ \t]+of[ \t]+issue)[ \t]*:?[ \t]*" + _DATE,
    re.IGNORECASE,
)
_ANY_DATE_RE = re.compile(_DATE, re.IGNORECASE)


def _header(lines: list[_Line]) -> list[_Line]:
    header = []
    for line in lines:
        if _is_prose(line.stripped) and len(line.stripped) > 100:
            break
        if line.stripped:
            header.append(line)
        if len(header) >= HEADER_LINES:
            break
    return header


def _find_issue_date(lines: list[_Line], p: Proposal) -> None:
    """ "Date: 20 July 2006" in the header; else a date on the header's UA-number line."""
    header = _header(lines)
    for regex, wanted in ((_ISSUE_LABEL_RE, None), (_ANY_DATE_RE, _UA_RE)):
        for line in header:
            head = line.text[:HEADER_LINE_CHARS]
            if wanted is not None and not (wanted.search(head) or "·" in head):
                continue
            match = regex.search(head)
            when = _parse_date(match) if match else None
            if when:
                start = line.start + match.start()
                p.issue_date = Found(when.isoformat(), [(start, line.start + match.end())])
                return


def _reference_year(p: Proposal) -> int | None:
    """The year a date without one ("on 5 September") belongs to."""
    if p.issue_date.found:
        return int(p.issue_date.value[:4])
    if p.index_reference.found:
        return full_year(p.index_reference.value.rsplit("/", 1)[-1])
    return p.year.value


def _country_names() -> dict[str, str]:
    names: dict[str, str] = {}
    for country in pycountry.countries:
        for attribute in ("name", "common_name", "official_name"):
            value = getattr(country, attribute, None)
            if value:
                names[value.lower()] = country.alpha_2
    # How sheets name countries where the standard's name differs.
    names.update({
        "russia": "RU", "iran": "IR", "syria": "SY", "turkey": "TR", "türkiye": "TR",
        "vietnam": "VN", "viet nam": "VN", "south korea": "KR", "north korea": "KP",
        "laos": "LA", "bolivia": "BO", "venezuela": "VE", "tanzania": "TZ", "moldova": "MD",
        "palestine": "PS", "occupied palestinian territories": "PS", "drc": "CD",
        "democratic republic of the congo": "CD", "dr congo": "CD",
        "république démocratique du congo": "CD", "republica democratica del congo": "CD",
        "côte d'ivoire": "CI", "ivory coast": "CI", "usa": "US", "united states": "US",
        "myanmar": "MM", "burma": "MM", "kyrgyzstan": "KG", "czech republic": "CZ",
        "méxico": "MX", "mexique": "MX", "égypte": "EG", "egipto": "EG", "rusia": "RU",
        "russie": "RU", "turquie": "TR", "turquía": "TR", "irán": "IR", "arabie saoudite": "SA",
        "arabia saudí": "SA", "arabia saudita": "SA", "chine": "CN",
    })  # fmt: skip
    # Words that name a country and also something else in a header line.
    for ambiguous in ("jordan", "chad", "georgia", "niger", "guinea", "dominica", "india"):
        names.pop(ambiguous, None)
    return names


_COUNTRY_NAMES = _country_names()
_COUNTRY_RE = re.compile(
    r"(?<![\w-])("
    + "|".join(re.escape(n) for n in sorted(_COUNTRY_NAMES, key=len, reverse=True))
    + r")(?![\w-])",
    re.IGNORECASE,
)


def _find_country(lines: list[_Line], p: Proposal) -> None:
    """The country the header or headline names; else the one the addresses end with."""
    for line in _header(lines):
        match = _COUNTRY_RE.search(line.text[:HEADER_LINE_CHARS])
        if match:
            start = line.start + match.start()
            p.country = Found(
                _COUNTRY_NAMES[match.group(1).lower()], [(start, start + len(match.group(1)))]
            )
            return


def _country_from_addresses(text: str, p: Proposal) -> None:
    """The country the main targets' addresses end with (copies are abroad)."""
    for target in p.targets:
        if target.is_copy:
            continue
        start, end = target.spans[0]
        for line in reversed(target.address):
            match = _COUNTRY_RE.search(line)
            if not match:
                continue
            at = text.find(line, start, end + 1)
            span = [(at + match.start(), at + match.end())] if at >= 0 else []
            p.country = Found(_COUNTRY_NAMES[match.group(1).lower()], span)
            return


# --- languages ------------------------------------------------------------------------

_LANGUAGES = {
    "english": "en", "russian": "ru", "french": "fr", "spanish": "es", "arabic": "ar",
    "chinese": "zh", "mandarin": "zh", "portuguese": "pt", "german": "de", "ukrainian": "uk",
    "turkish": "tr", "persian": "fa", "farsi": "fa", "urdu": "ur", "hindi": "hi",
    "bengali": "bn", "bangla": "bn", "indonesian": "id", "malay": "ms", "japanese": "ja",
    "korean": "ko", "vietnamese": "vi", "thai": "th", "burmese": "my", "italian": "it",
    "dutch": "nl", "polish": "pl", "hebrew": "he", "azerbaijani": "az", "azeri": "az",
    "kazakh": "kk", "uzbek": "uz", "belarusian": "be", "georgian": "ka", "armenian": "hy",
    "swahili": "sw", "amharic": "am", "greek": "el", "hungarian": "hu", "romanian": "ro",
    "serbian": "sr", "croatian": "hr", "tagalog": "tl", "filipino": "tl", "nepali": "ne",
    "tamil": "ta", "sinhala": "si", "khmer": "km", "lao": "lo", "mongolian": "mn",
    "tajik": "tg", "kyrgyz": "ky", "turkmen": "tk", "kurdish": "ku", "pashto": "ps",
    "dari": "fa", "tigrinya": "ti", "somali": "so", "hausa": "ha", "french creole": "ht",
    "czech": "cs", "slovak": "sk", "bulgarian": "bg", "swedish": "sv", "norwegian": "no",
    "danish": "da", "finnish": "fi", "catalan": "ca", "tibetan": "bo", "uyghur": "ug",
}  # fmt: skip
# Language names as French and Spanish sheets write them ("en français", "en español").
_LANGUAGES.update({
    "français": "fr", "anglais": "en", "espagnol": "es", "russe": "ru", "arabe": "ar",
    "allemand": "de", "portugais": "pt", "chinois": "zh", "persan": "fa", "turc": "tr",
    "español": "es", "inglés": "en", "francés": "fr", "ruso": "ru", "árabe": "ar",
    "portugués": "pt", "alemán": "de",
})  # fmt: skip
_LANG = r"(?:" + "|".join(sorted(_LANGUAGES, key=len, reverse=True)) + r")(?![\w-])"
_OWN = (
    r"(?:your[ \t]+own[ \t]+language|any[ \t]+language|(?:dans[ \t]+)?votre[ \t]+propre[ \t]+langue"
    r"|su[ \t]+propio[ \t]+idioma)"
)
_ITEM = r"(?:" + _LANG + r"|" + _OWN + r")"
_LANGUAGES_RE = re.compile(
    r"\b(?:in|en)[ \t]+(" + _ITEM
    + r"(?:[ \t]*(?:,|/|\bor\b|\band\b|\bou\b|\bo\b|\by\b)[ \t]*(?:or[ \t]+|en[ \t]+|dans[ \t]+)?"
    + _ITEM
    + r"){0,10})",
    re.IGNORECASE,
)  # fmt: skip
_LANG_CONTEXT_RE = re.compile(
    r"\b(?:write|writing|appeals?|letters?|languages?|send|écrivez|escriban|appels)\b",
    re.IGNORECASE,
)


def _find_languages(lines: list[_Line], p: Proposal) -> None:
    for line in lines:
        if not _LANG_CONTEXT_RE.search(line.text):
            continue
        match = _LANGUAGES_RE.search(line.text)
        if not match:
            continue
        listed = match.group(1)
        codes = []
        for name in re.findall(_LANG, listed, re.IGNORECASE):
            code = _LANGUAGES[name.lower()]
            if code not in codes:
                codes.append(code)
        p.own_language_allowed = bool(re.search(_OWN, listed, re.IGNORECASE))
        if codes:
            span = (line.start + match.start(1), line.start + match.end(1))
            p.languages = Found(codes, [span])
            return


# --- recommended actions ---------------------------------------------------------------

_ACTIONS_HEAD_RE = re.compile(
    r"^(?:RECOMMENDED[ \t]+ACTIONS?\b|PLEASE[ \t]+SEND[ \t]+APPEALS[ \t]+BEFORE\b"
    r"|PLEASE[ \t]+WRITE[ \t]+IMMEDIATELY\b|PASSEZ[ \t]+À[ \t]+L['’]ACTION\b|ACTÚEN\b"
    r"|WHAT[ \t]+(?:YOU[ \t]+"
    r"CAN[ \t]+)?(?:TO[ \t]+)?DO\b|TAKE[ \t]+ACTION\b)",
    re.IGNORECASE,
)
_ACTIONS_END_RE = re.compile(
    r"^(?:(?:AND[ \t]+)?COPIES[ \t]+TO\b|ALSO[ \t]+SEND[ \t]+COPIES\b|NAME[ \t]*:|GENDER\b"
    r"|FURTHER[ \t]+INFORMATION\b|THIS[ \t]+IS[ \t]+THE[ \t]+\w+[ \t]+UPDATE\b"
    r"|NO[ \t]+FURTHER[ \t]+ACTION\b|ADDITIONAL[ \t]+INFORMATION\b|BACKGROUND\b|DOWNLOAD\b)",
    re.IGNORECASE,
)
_BULLET_RE = re.compile(r"^(?:[-•*–·▪◦]|\d{1,2}[.)]|o(?=[ \t]))[ \t]*")
MAX_ACTIONS = 20


def _find_recommended_actions(lines: list[_Line], p: Proposal) -> None:
    """The list under an actions heading, up to the first official to write to.

    A heading that ends "... to:" introduces the officials, not actions.
    """
    starts = sorted(t.spans[0][0] for t in p.targets)
    for index, line in enumerate(lines):
        if _ACTIONS_HEAD_RE.match(line.stripped) and not _ends_lead_in(line.stripped):
            target_at = next((s for s in starts if s > line.end), None)
            following = [x for x in lines[index + 1 :] if target_at is None or x.start < target_at]
            bullets, plain = _action_items(following)
            items = bullets or plain
            if items:
                p.recommended_actions = Found(
                    [text for text, _ in items], [span for _, span in items]
                )
                return


def _action_items(lines: list[_Line]) -> tuple[list, list]:
    """Bullet lines after the heading; without bullets, every line up to a blank gap."""
    bullets: list[tuple[str, Span]] = []
    plain: list[tuple[str, Span]] = []
    for line in lines:
        stripped = line.stripped
        if not stripped:
            if plain and not bullets and len(plain) > 0 and _looks_closed(plain):
                break
            continue
        if _ACTIONS_END_RE.match(stripped) or _TARGETS_HEAD_RE.match(stripped):
            break
        bullet = _BULLET_RE.match(stripped)
        if bullet and stripped[bullet.end() :].strip():
            item = stripped[bullet.end() :].strip()
            start = line.span()[0] + bullet.end()
            bullets.append((item, (start, start + len(item))))
        elif bullets:
            break
        else:
            plain.append((stripped, line.span()))
        if len(bullets) + len(plain) >= MAX_ACTIONS:
            break
    return bullets, plain


def _looks_closed(plain: list[tuple[str, Span]]) -> bool:
    """A plain-line list ends at a blank line once an item ended a sentence."""
    return plain[-1][0].rstrip().endswith((".", ";"))


# --- targets --------------------------------------------------------------------------

_TARGETS_HEAD_RE = re.compile(
    r"^(?:(?:PLEASE[ \t]+)?(?:SEND[ \t]+)?APPEALS?\b[^\n]{0,80}?\bTO"
    r"|(?:PLEASE[ \t]+)?WRITE[ \t]+TO"
    r"|(?:PLEASE[ \t]+)?SEND[ \t]+(?:YOUR[ \t]+)?(?:LETTERS?|E-?MAILS?|APPEALS?)[ \t]+TO"
    r"|CONTACT)[ \t]*:?[ \t]*$",
    re.IGNORECASE,
)
_EMBASSIES_RE = re.compile(
    r"\bcop(?:y|ies)[ \t]+to[ \t]+(?:the[ \t]+)?(?:diplomatic[ \t]+representatives?|embass)",
    re.IGNORECASE,
)
_EMAIL_RE = re.compile(r"[\w.+-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63}){1,8}")


_SALUTATION_LABEL_RE = re.compile(
    r"^(?:Salutation|Formule[ \t]+d['’]appel|Tratamiento|Saludo|Anrede|Обращение)"
    r"[ \t]*:[ \t]*(.*)$",
    re.IGNORECASE,
)
# A greeting written out on its own line, as 1990s sheets and model letters do.
_GREETING_RE = re.compile(
    r"^(?:Dear[ \t]+\S.*|Your[ \t]+(?:Excellency|Majesty|Royal[ \t]+Highness|Highness|Honou?r)"
    r"|Monsieur[ \t]+le[ \t]+\S.*|Madame[ \t]+la[ \t]+\S.*|(?:Señor|Señora)[ \t]+\S.*"
    r"|Sehr[ \t]+geehrte[rs]?[ \t]+\S.*|Уважаем\S*[ \t]+\S.*)[,:]?$",
    re.IGNORECASE,
)
_CONTACT_RE = re.compile(
    r"^(E-?mail|Courriel|Correo(?:-e|[ \t]+electr[oó]nico)?|Fax(?:es)?|T[ée]l[ée]copie"
    r"|Tel|Telephone|T[ée]l[ée]phone|Tel[ée]fono|Phone|Telegrams?|Twitter|X|Facebook|Instagram"
    r"|Telegram|Website|Web)[ \t]*:[ \t]*(.*)$",
    re.IGNORECASE,
)
_COPIES_LINE_RE = re.compile(
    r"^(?:and[ \t]+|y[ \t]+|et[ \t]+)?(?:(?:also[ \t]+)?send[ \t]+)?"
    r"(?:cop(?:y|ies)|copie?s?|copia|kopien?)[ \t]+(?:to|à|a|an)\b[ \t]*:?[ \t]*(.*)$",
    re.IGNORECASE,
)
_EMBASSY_WORDS = {"embassy", "ambassador", "ambassade", "ambassadeur", "embajada", "embajador",
                  "botschaft", "botschafter", "посольство", "посол"}  # fmt: skip
_NOBILITY = {"king", "queen", "prince", "princess", "sheikh", "shaikh", "emir", "ayatollah",
             "sultan", "crown"}  # fmt: skip
# Courtesy words before a name: not part of it, and not a title either.
_COURTESY_RE = re.compile(
    r"^(?:(?:His|Her)[ \t]+(?:Excellency|Majesty|Highness)|Son[ \t]+Excellence|Su[ \t]+Excelencia"
    r"|H\.?E\.?|Mr|Mrs|Ms|Mx|Dr|Prof|Lic|Ing|Monsieur|Madame|Mme|M|Señor|Señora|Sr|Sra|Herr|Frau"
    r"|Lt-General|Lieutenant[ \t-]+General|General|Colonel|Major)\.?(?=[ \t])[ \t]*",
    re.IGNORECASE,
)
_EMAIL_FAX = ("e-mail", "email", "courriel", "correo", "fax", "télécopie", "telecopie")
MAX_TARGETS = 30
TARGET_SCORE = 4  # a block scoring this much is an official to write to (see _target_score)
SECTION_TARGET_SCORE = 3


def _find_targets(text: str, lines: list[_Line], p: Proposal) -> None:
    """Targets are the blocks that look like addressed officials, whatever the heading.

    Each block (lines between blank lines, cut after a salutation, before a
    "copies to" line and where a new address follows a contact line) is scored
    on its evidence: a salutation, an email, a fax, an official's title, an
    address shape. Blocks under a "copies to" line, or addressed to an embassy,
    are copies.
    """
    embassies = _EMBASSIES_RE.search(text)
    if embassies:
        p.copy_to_embassies = Found(True, [embassies.span()])
    copying = in_section = False
    for block in _target_blocks(lines):
        first = block[0].stripped
        if _COPIES_LINE_RE.match(first) and len(first) <= 60:
            copying = in_section = True
            block = block[1:]
        elif _ends_lead_in(first):
            copying, in_section = False, True
            block = block[1:]
        if not block:
            continue
        score = _target_score(block)
        # Under a "write to:" lead-in or a copies line, less evidence will do.
        needed = SECTION_TARGET_SCORE if in_section else TARGET_SCORE
        if score >= needed or (in_section and score >= 2 and _has_contact(block)):
            target = _parse_target(block, copying)
            if target is not None:
                p.targets.append(target)
        elif _sentences(block[0].stripped) or _BULLET_RE.match(block[0].stripped):
            copying = in_section = False
        if len(p.targets) >= MAX_TARGETS:
            p.warnings.append(f"Only the first {MAX_TARGETS} targets were read.")
            break


_LEAD_IN_RE = re.compile(r"(?:\bto|\bà|\ba|\ban|\bк)[ \t]*:$", re.IGNORECASE)


def _ends_lead_in(stripped: str) -> bool:
    """ "PLEASE SEND APPEALS BEFORE ... TO:", "Please write ... to:", "Veuillez écrire ... à :"."""
    return stripped.endswith(":") and bool(_LEAD_IN_RE.search(stripped[-12:]))


def _target_blocks(lines: list[_Line]) -> list[list[_Line]]:
    blocks: list[list[_Line]] = []
    block: list[_Line] = []
    for line in lines:
        stripped = line.stripped
        if not stripped:
            if block:
                blocks.append(block)
            block = []
            continue
        if block and (
            _ends_lead_in(block[-1].stripped)
            or bool(_BULLET_RE.match(block[-1].stripped)) != bool(_BULLET_RE.match(stripped))
            or _sentences(block[-1].stripped) != _sentences(stripped)
        ):
            # Paragraphs set without spacing (Word) still change kind: list, lead-in, prose.
            blocks.append(block)
            block = []
        if block:
            previous = block[-1].stripped
            after_contact = _CONTACT_RE.match(previous) or _EMAIL_RE.fullmatch(previous)
            if (_COPIES_LINE_RE.match(stripped) and len(stripped) <= 60) or (
                after_contact
                and not _CONTACT_RE.match(stripped)
                and not _is_greeting(stripped)
                and not _SALUTATION_LABEL_RE.match(stripped)
                and not _EMAIL_RE.fullmatch(stripped)
            ):
                blocks.append(block)
                block = []
        block.append(line)
        if _is_greeting(stripped) or _SALUTATION_LABEL_RE.match(stripped):
            blocks.append(block)
            block = []
    if block:
        blocks.append(block)
    return blocks


def _sentences(stripped: str) -> bool:
    """Prose, not an address line: long, or more than one sentence."""
    return len(stripped) > 130 or (
        len(stripped) > 60 and bool(re.search(r"[a-z]{3}[.!?][ \t]+[A-Z]", stripped))
    )


def _is_greeting(stripped: str) -> bool:
    return len(stripped) <= 60 and bool(_GREETING_RE.match(stripped))


def _has_contact(block: list[_Line]) -> bool:
    return any(
        _CONTACT_RE.match(line.stripped) or _EMAIL_RE.search(line.stripped) for line in block
    )


def _target_score(block: list[_Line]) -> int:
    """Evidence that a block addresses an official; prose and lists score nothing."""
    texts = [line.stripped for line in block]
    if (
        len(texts) > 14
        or any(len(t) > 130 for t in texts)
        or any(_BULLET_RE.match(t) for t in texts)
    ):
        return 0
    if texts and texts[0].endswith(":") and len(texts) == 1:
        return 0
    score = 0
    if any(_SALUTATION_LABEL_RE.match(t) or _is_greeting(t) for t in texts):
        score += 4
    for t in texts:
        contact = _CONTACT_RE.match(t)
        kind = contact.group(1).lower() if contact else ""
        if kind.startswith(_EMAIL_FAX) or _EMAIL_RE.fullmatch(t):
            score += 2
        elif contact:
            score += 1
    head = {w for t in texts[:3] for w in _words(t)}
    if head & (_ROLE_WORDS | _NOBILITY | _EMBASSY_WORDS):
        score += 2
    if any(re.search(r"\d", t) and re.search(r"[^\W\d_]{3}", t) for t in texts[1:]):
        score += 1  # a street, a postcode, a P.O. box
    if len(texts) >= 3 and all(len(t) <= 80 for t in texts):
        score += 1  # address-shaped: several short lines
    return score


def _parse_target(chunk: list[_Line], is_copy: bool) -> Target | None:
    target = Target(is_copy=is_copy, spans=[(chunk[0].span()[0], chunk[-1].span()[1])])
    in_address = False
    for line in chunk:
        stripped = line.stripped
        if _apply_label(target, stripped):
            continue
        if not in_address:
            in_address = not _apply_head_line(target, stripped)
        if in_address:
            target.address.append(stripped)
    words = {
        w
        for part in (target.title, target.organisation, *target.address)
        for w in _words(part or "")
    }
    if words & _EMBASSY_WORDS:
        target.is_copy = True  # the embassy in the supporter's country takes a copy
    useful = target.name or target.title or target.organisation or target.email or target.address
    return target if useful else None


def _apply_label(target: Target, stripped: str) -> bool:
    salutation = _SALUTATION_LABEL_RE.match(stripped)
    if salutation:
        target.salutation = salutation.group(1).strip().rstrip(",")
        return True
    if _is_greeting(stripped):
        target.salutation = stripped.rstrip(",:")
        return True
    label = _CONTACT_RE.match(stripped)
    if label is None:
        email = _EMAIL_RE.fullmatch(stripped)
        if email and not target.email:
            target.email = stripped
            return True
        if re.fullmatch(r"@\w{1,30}", stripped):
            target.social.append(f"Twitter: {stripped}")
            return True
        return False
    name, value = label.group(1).lower(), label.group(2).strip()
    if name.startswith(("e-mail", "email", "courriel", "correo")):
        email = _EMAIL_RE.search(value)
        target.email = target.email or (email.group() if email else value)
    elif name.startswith(("fax", "télécopie", "telecopie")):
        target.fax = target.fax or value
    elif name.startswith(("tel", "tél", "phone")) and not name.startswith("telegram"):
        target.phone = target.phone or value
    else:
        target.social.append(f"{label.group(1)}: {value}")
    return True


_ROLE_WORDS = {
    "president", "minister", "prosecutor", "procurator", "representative", "judge", "lawyer",
    "attorney", "ambassador", "spokesperson", "spokesman", "spokeswoman", "governor",
    "director", "commissioner", "chairman", "chairperson", "chairwoman", "chair", "head",
    "mayor", "king", "queen", "prince", "emir", "sheikh", "premier", "secretary",
    "chancellor", "ombudsman", "ombudsperson", "officer", "colonel", "deputy", "speaker",
    "senator", "commander", "chief", "investigator", "advocate", "governor-general",
    # French, Spanish and German titles
    "ministre", "administrateur", "procureur", "président", "ambassadeur", "gouverneur",
    "directeur", "juge", "ministro", "ministra", "presidente", "presidenta", "procurador",
    "fiscal", "embajador", "embajadora", "gobernador", "juez", "directora",
    "fiscalía", "präsident", "botschafter", "generalstaatsanwalt",
}  # fmt: skip
_ORG_WORDS = {
    "amnesty", "international", "court", "courts", "military", "parliament", "union",
    "federation", "republic", "ministry", "office", "service", "services", "council",
    "committee", "commission", "assembly", "nations", "united", "government", "police",
    "army", "agency", "department", "embassy", "prison", "colony", "centre", "center",
    "university", "party", "movement", "organization", "organisation", "foundation",
    "network", "association", "society", "institute", "group", "news", "radio",
    "television", "channel", "press", "times", "liberty", "europe", "facebook", "twitter",
    "telegram", "youtube", "instagram", "whatsapp", "mejlis", "supreme", "appeals",
    "declaration", "delegation", "state", "states", "kingdom", "external", "security",
    "national", "democratic", "watch", "rights", "front", "street", "avenue", "road",
    "square", "airport", "hospital", "region", "district", "province", "city", "oblast",
    "administration", "presidency", "directorate", "bureau", "secretariat", "mission",
    "palace", "headquarters", "general", "investigative", "tribunal", "procuracy",
    "justice", "interior", "affairs", "foreign", "high", "action",
    "ministère", "ministerio", "agence", "agencia", "ambassade", "embajada", "procuraduría",
    "république", "república", "cabinet", "gabinete", "consejo", "conseil", "cour", "corte",
    "edificio", "secretaría", "présidence", "presidencia", "ministerium",
}  # fmt: skip


def _words(stripped: str) -> set[str]:
    return {w.lower().strip("’'") for w in re.findall(r"[^\W\d_]+(?:['’][^\W\d_]+)?", stripped)}


def _apply_head_line(target: Target, stripped: str) -> bool:
    """Title, name and organisation come before the address; False once the address starts."""
    if re.search(r"\d", stripped):
        return False
    bare = _without_courtesy(stripped)
    words = [w.lower().strip("’'") for w in re.findall(r"[^\W\d_]+", bare)]
    org_at = _first_index(words, _ORG_WORDS - {"general", "high"})
    role_at = _first_index(words, _ROLE_WORDS)
    if target.name is None and _looks_like_person(bare):
        target.name = bare
        return True
    # "Head of the Investigative Committee" is a title; "Office of the President" is not.
    if (
        org_at is not None
        and target.organisation is None
        and (target.title or role_at is None or org_at < role_at)
    ):
        target.organisation = stripped
        return True
    if role_at is not None and target.title is None:
        title, name = _split_role_and_name(bare)
        target.title = title
        if name and target.name is None:
            target.name = name
        return True
    if role_at is not None and target.organisation is None:
        target.organisation = stripped
        return True
    return False


def _without_courtesy(text: str) -> str:
    """ "His Excellency Lt-General Omar al-Bashir" -> "Omar al-Bashir"."""
    previous = None
    while previous != text:
        previous, text = text, _COURTESY_RE.sub("", text, count=1).strip()
    return text


def _first_index(words: list[str], vocabulary: set[str]) -> int | None:
    return next((i for i, word in enumerate(words) if word in vocabulary), None)


def _split_role_and_name(stripped: str) -> tuple[str, str | None]:
    """ "President Ilham Aliyev" -> ("President", "Ilham Aliyev")."""
    tokens = stripped.split()
    cut = 0
    roles = (_ROLE_WORDS - _NOBILITY) | {"general"}
    while cut < len(tokens) and tokens[cut].lower().strip(",") in roles:
        cut += 1
    rest = _without_courtesy(" ".join(tokens[cut:]).strip(", "))
    if cut and rest and _looks_like_person(rest):
        return " ".join(tokens[:cut]).rstrip(","), rest
    return stripped, None


_NAME_PARTICLES_RE = re.compile(
    r"^(?:al|el|bin|bint|ibn|de|del|la|le|da|van|von|abu|ben)(?:-\S+)?$"
)


def _looks_like_person(stripped: str) -> bool:
    """ "Yury Yakovlevich Chaika", "King Hamad bin 'Issa Al Khalifa", "Omar al-Bashir"."""
    tokens = stripped.replace(",", " ").split()
    if not 2 <= len(tokens) <= 9:
        return False
    lowered = _words(stripped)
    if lowered & (_ORG_WORDS | (_ROLE_WORDS - _NOBILITY) | _EMBASSY_WORDS):
        return False
    if stripped.isupper() and len(tokens) > 3:
        return False  # a heading in capitals, not a name
    capitalised = [t for t in tokens if t.lstrip("'’")[:1].isupper()]
    return len(capitalised) >= 2 and all(
        t.lstrip("'’")[:1].isupper() or _NAME_PARTICLES_RE.match(t.lower()) for t in tokens
    )


# --- people at risk ---------------------------------------------------------------------

_TOKEN_RE = re.compile(r"[^\W\d_]+(?:[-'’][^\W\d_]+)*")
_PARTICLES = {
    "al", "el", "bin", "ibn", "bint", "de", "da", "van", "von", "der", "den", "del", "la",
    "le", "di", "du", "dos", "das", "ben", "abu", "ter",
}  # fmt: skip
_MONTH_WORDS = set(_MONTHS) | {
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
}
_SENTENCE_WORDS = {
    "the", "this", "that", "these", "those", "on", "in", "at", "by", "for", "from", "upon",
    "after", "before", "during", "despite", "since", "both", "many", "some", "all", "and",
    "but", "if", "when", "while", "as", "it", "he", "she", "they", "we", "i", "you", "his",
    "her", "their", "our", "its", "please", "dear", "download", "read", "more", "skip", "log",
    "also", "further", "information", "no", "yes", "urgent", "outcome", "update", "index",
    "date", "name", "gender", "salutation", "email", "fax", "tel", "phone", "free", "release",
    "stop", "end", "justice", "write", "send", "take", "with", "to", "of", "new", "concern",
    "fear", "torture", "mr", "ms", "mrs", "dr", "mx", "miss", "sir", "madam", "excellency",
    "prisoner", "prisoners", "conscience", "human", "rights", "defender", "activist",
    "your", "majesty", "highness",
}  # fmt: skip
_PLACES_AND_PEOPLES = {
    "crimean", "crimea", "tatar", "tatars", "russian", "russia", "ukrainian", "ukraine",
    "turkish", "turkey", "european", "american", "british", "chinese", "china", "iranian",
    "iran", "egyptian", "egypt", "saudi", "syrian", "iraqi", "israeli", "palestinian",
    "belarusian", "belarus", "azerbaijani", "azerbaijan", "kazakh", "uzbek", "tajik",
    "turkmen", "kyrgyz", "georgian", "armenian", "french", "german", "spanish", "italian",
    "polish", "indian", "pakistani", "bangladeshi", "afghan", "nigerian", "ethiopian",
    "eritrean", "sudanese", "mexican", "brazilian", "colombian", "venezuelan", "cuban",
    "nicaraguan", "bahraini", "emirati", "qatari", "kuwaiti", "yemeni", "jordanian",
    "lebanese", "moroccan", "algerian", "tunisian", "libyan", "uyghur", "tibetan", "kurdish",
    "kyiv", "kiev", "moscow", "ankara", "simferopol", "sevastopol", "soviet", "western",
    "eastern", "northern", "southern", "eu", "un",
}  # fmt: skip
_NOT_NAME = _MONTH_WORDS | _SENTENCE_WORDS | _PLACES_AND_PEOPLES | _ORG_WORDS
_HONORIFICS = {"mr", "ms", "mrs", "dr", "mx", "miss", "sir", "madam", "h.e", "prof"}
# A run followed by one of these is an adjective phrase ("Crimean Tatar leaders ...").
_FOLLOWING_NOUNS = {
    "leader", "leaders", "defender", "defenders", "community", "people", "activist",
    "activists", "authorities", "human", "women", "men", "man", "woman", "journalist",
    "journalists", "prisoners", "prisoner", "court", "government", "language", "television",
    "diaspora", "movement", "security", "region", "capital", "national", "representative",
    "newspaper", "agency", "website", "magazine", "channel", "party", "organization",
}  # fmt: skip
_RISK_WORDS = {
    "leader", "leaders", "defender", "defenders", "activist", "activists", "journalist",
    "journalists", "blogger", "bloggers", "prisoner", "prisoners", "co-defendant",
    "co-defendants", "codefendants", "detainee", "detainees", "dissident", "dissidents",
    "student", "students", "sentenced", "detained", "arrested", "imprisoned", "jailed",
    "abducted", "convicted", "charged", "released", "freed", "release", "tortured",
    "disappeared", "deported", "exiled", "conscience", "poet", "writer", "hunger",
    "photojournalist", "photojournalists", "unionist", "unionists", "death", "executed",
    "execution", "charges",
    # French and Spanish sheets
    "militant", "militants", "militante", "militantes", "défenseur", "défenseure",
    "défenseurs", "defensor", "defensora", "defensores", "arrêté", "arrêtée", "arrêtés",
    "détenu", "détenue", "détenus", "detenido", "detenida", "detenidos", "amenazada",
    "amenazado", "condamné", "condamnée", "condenado", "condenada",
}  # fmt: skip
_RISK_WINDOW_WORDS = 8
_ROLE_WINDOW_WORDS = 4
_NUMBER_WORDS = (
    r"one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|"
    r"fifteen|sixteen|seventeen|eighteen|nineteen|twenty(?:-\w{3,5})?|thirty|forty|fifty"
)
_TERM = (
    r"(?P<term>(?:\d{1,3}|" + _NUMBER_WORDS + r")(?:[ \t]+and[ \t]+a[ \t]+half)?[- \t]+"
    r"(?:years?|months?|days?)|life(?:[ \t]+imprisonment)?|death|prison|jail)"
)
_VERBS = (
    r"(?P<verb>sentenced|released|freed|acquitted|detained|arrested|convicted|charged|"
    r"deported|exiled|abducted|disappeared|pardoned|tortured|jailed|imprisoned|"
    r"set[ \t]+free|on[ \t]+hunger[ \t]+strike|release|"
    # French and Spanish participles ("ont été arrêtés", "fue detenido")
    r"arrêté[es]{0,2}|détenu[es]{0,2}|libéré[es]{0,2}|condamné[es]{0,2}|"
    r"detenid[oa]s?|arrestad[oa]s?|liberad[oa]s?|condenad[oa]s?)(?!\w)"
)
_STATUS_RE = re.compile(
    # possessive, gender mark or age: "Chiygoz’s", "Ivan PETROV (m)", "Chiygoz, 52, was"
    r"(?:['’]s)?(?:[ \t]*\((?:m|f)\))?(?:[ \t]*,[ \t]*\d{1,3}[ \t]*,)?"
    # an apposition or relative clause before the main verb: "X, deputy head of the
    # Mejlis, was sentenced"; "X, who was detained with him, was released"
    r"(?:[ \t]*,[^,.;\n]{3,90}?,)?"
    r"[ \t]*,?[ \t]*(?:who[ \t]+|both[ \t]+|each[ \t]+){0,2}"
    r"(?:(?:was|were|has[ \t]+been|have[ \t]+been|had[ \t]+been|is|are|remains?"
    r"|ont[ \t]+été|a[ \t]+été|fue|fueron|ha[ \t]+sido|han[ \t]+sido)[ \t]+)?"
    r"(?:(?:also|later|subsequently|finally|then|now|recently|reportedly)[ \t]+)?"
    + _VERBS
    + r"(?:[ \t]+to[ \t]+"
    + _TERM
    + r")?",
    re.IGNORECASE,
)
_BARE_TERM_RE = re.compile(r"[ \t]*to[ \t]+" + _TERM, re.IGNORECASE)
_COORDINATION_RE = re.compile(
    # "X and Y", "X and of Y", "X and journalist Y", "X et Y", "X y Y"
    r"(?:['’]s)?[ \t]*(?:,[ \t]*)?(?:(?:and|et|y)[ \t]+(?:of[ \t]+)?(?:[a-z]+[ \t]+){0,3})?$",
    re.IGNORECASE,
)
_VERB_NOTES = {"release": "released", "set free": "released", "freed": "released"}
# Notes are kept in English, the language of the status codes they map to.
_FOREIGN_VERBS = (
    (r"^(?:arrêt|arrestad)", "arrested"),
    (r"^(?:détenu|detenid)", "detained"),
    (r"^(?:libér|liberad)", "released"),
    (r"^(?:condamn|condenad)", "sentenced"),
)
_SENTENCE_END_RE = re.compile(r"[.!?](?=\s|$)|\n")


_INSIDE_NOT_NAME = _NOT_NAME | _ROLE_WORDS | _HONORIFICS
# "Journalist Ivan Petrov" at the start of a sentence: the noun is a cue, not a name.
_LEADING_NOT_NAME = _INSIDE_NOT_NAME | _RISK_WORDS | {
    "colleague", "brother", "sister", "wife", "husband", "son", "daughter", "mother", "father",
}  # fmt: skip


@dataclass
class _Mention:
    start: int
    end: int  # end of the name, before any possessive
    tokens: list[str]
    official: bool  # introduced by a role: "President X", "lawyer, X"
    positive: bool = False
    status: Found | None = None
    status_on: Found | None = None

    @property
    def spelling(self) -> str:
        return " ".join(_display_token(t) for t in self.tokens)


def find_people(text: str, known_people=(), *, year: int | None = None) -> list[Person]:
    """People at risk named in the text, grouped by ``name_key``; see module docstring.

    ``year`` completes status dates written without one ("released on 5 September").
    """
    mentions = _name_mentions(text)
    full_keys = {name_key(m.tokens[-1]) for m in mentions if len(m.tokens) > 1}
    full_keys |= {name_key(m.tokens[0]) for m in mentions if len(m.tokens) > 1}
    mentions = [m for m in mentions if len(m.tokens) > 1 or name_key(m.tokens[0]) in full_keys]
    _assign_statuses(text, mentions)
    for mention in mentions:
        # A bare surname near "release" is too weak alone ("asked Erdoğan to help release").
        mention.positive = mention.status is not None or (
            len(mention.tokens) > 1 and not mention.official and _near_risk_words(text, mention)
        )
    for mention in mentions:
        if mention.status is not None and mention.status_on is None:
            mention.status_on = _status_date(text, mention.status, year)
    return _group_people(mentions, known_people)


_ON_DATE_RE = re.compile(
    r"\b(?:on|since|le|el)[ \t]+(?:the[ \t]+)?(\d{1,2})(?:st|nd|rd|th|er)?[ \t]+(?:de[ \t]+)?"
    + _MONTH
    + r"(?:[ \t]*,?[ \t]+(?:de[ \t]+)?(\d{4}))?",
    re.IGNORECASE,
)


_NEW_CLAUSE_RE = re.compile(r",?[ \t]+(?:were|was|and|who|but|after|before)[ \t]", re.IGNORECASE)


def _status_date(text: str, status: Found, year: int | None) -> Found | None:
    """The date the sentence gives for a status: "detained ... on 18 July 2006"."""
    end = status.spans[0][1]
    _, hi = _sentence_bounds(text, end, end)
    hi = min(hi, end + 120)
    # A new clause has its own verb and its own date: "sentenced ..., were taken ... on 25 October".
    clause = _NEW_CLAUSE_RE.search(text, end, hi)
    match = _ON_DATE_RE.search(text, end, clause.start() if clause else hi)
    if not match:
        return None
    when_year = int(match.group(3)) if match.group(3) else year
    if when_year is None:
        return None
    try:
        when = date(when_year, _MONTHS[match.group(2).lower()], int(match.group(1)))
    except (ValueError, KeyError):
        return None
    return Found(when.isoformat(), [match.span()])


def _name_mentions(text: str) -> list[_Mention]:
    mentions: list[_Mention] = []
    run: list[re.Match] = []
    for match in _TOKEN_RE.finditer(text):
        if len(mentions) >= MAX_NAME_MENTIONS:
            break
        if run and text[run[-1].end() : match.start()] == " " and _continues_run(match, run):
            run.append(match)
            continue
        _close_run(text, run, mentions)
        run = [match] if _starts_run(match.group()) else []
    _close_run(text, run, mentions)
    return mentions


def _starts_run(token: str) -> bool:
    return token[0].isupper() and any(c.islower() for c in token)


def _continues_run(match: re.Match, run: list[re.Match]) -> bool:
    token = match.group()
    if _starts_run(token) or token.lower() in _PARTICLES:
        return True
    if "-" in token and token.split("-")[0].lower() in _PARTICLES:
        return True
    return token.isupper() and len(token) > 1  # "Ivan IVANOV", as in older sheets


def _close_run(text: str, run: list[re.Match], mentions: list[_Mention]) -> None:
    if not run:
        return
    tokens = [_strip_possessive(m.group()) for m in run]
    start_index, official = 0, False
    while start_index < len(tokens) and _lower(tokens[start_index]) in _LEADING_NOT_NAME:
        official = official or _lower(tokens[start_index]) in _ROLE_WORDS
        start_index += 1
    end_index = len(tokens)
    while end_index > start_index and tokens[end_index - 1].lower() in _PARTICLES:
        end_index -= 1
    kept = tokens[start_index:end_index]
    if not kept or len(kept) > 5:
        return
    if any(_lower(t) in _INSIDE_NOT_NAME for t in kept):
        return
    start = run[start_index].start()
    end = run[end_index - 1].start() + len(tokens[end_index - 1])
    if _next_word(text, run[-1].end()) in _FOLLOWING_NOUNS:
        return
    if _previous_word(text, start) in ("the", "a", "an"):  # "the Ukrainska Pravda newspaper"
        return
    official = official or _role_before(text, start)
    mentions.append(_Mention(start, end, kept, official))


def _strip_possessive(token: str) -> str:
    return re.sub(r"['’]s?$", "", token) if re.search(r"['’]s?$", token) else token


def _lower(token: str) -> str:
    return token.lower().strip(".")


def _display_token(token: str) -> str:
    if token.isupper() and len(token) > 1:
        return "-".join(part.capitalize() for part in token.split("-"))
    return token


def _next_word(text: str, pos: int) -> str:
    match = re.compile(r"[ \t]*([^\W\d_]+(?:-[^\W\d_]+)*)").match(text, pos, pos + 60)
    return match.group(1).lower() if match else ""


def _previous_word(text: str, pos: int) -> str:
    words = re.findall(r"[^\W\d_]+", text[max(0, pos - 20) : pos])
    return words[-1].lower() if words else ""


def _sentence_bounds(text: str, start: int, end: int) -> tuple[int, int]:
    lo = max(0, start - 300)
    before = [m.end() for m in _SENTENCE_END_RE.finditer(text, lo, start)]
    after = _SENTENCE_END_RE.search(text, end, end + 300)
    return (before[-1] if before else lo, after.start() if after else min(len(text), end + 300))


def _window_words(fragment: str) -> list[str]:
    return [w.lower() for w in re.findall(r"[\w()’'-]+", fragment)]


def _role_before(text: str, start: int) -> bool:
    lo, _ = _sentence_bounds(text, start, start)
    words = _window_words(text[lo:start])[-_ROLE_WINDOW_WORDS:]
    return any(_strip_possessive(w) in _ROLE_WORDS for w in words)


def _near_risk_words(text: str, mention: _Mention) -> bool:
    lo, hi = _sentence_bounds(text, mention.start, mention.end)
    before = _window_words(text[lo : mention.start])[-_RISK_WINDOW_WORDS:]
    after = _window_words(text[mention.end : hi])[:_RISK_WINDOW_WORDS]
    if after and after[0] in ("(m)", "(f)"):
        return True
    return any(w in _RISK_WORDS for w in before + after)


def _assign_statuses(text: str, mentions: list[_Mention]) -> None:
    """Read the words after each name; "X and Y to 12 years" gives X the status of Y."""
    for index in range(len(mentions) - 1, -1, -1):
        mention = mentions[index]
        lo, hi = _sentence_bounds(text, mention.start, mention.end)
        following = mentions[index + 1] if index + 1 < len(mentions) else None
        if following is not None and following.start < hi:
            gap = text[mention.end : following.start]
            if _COORDINATION_RE.fullmatch(gap) and following.status is not None:
                mention.status = following.status
                continue
            hi = following.start
        mention.status = _status_after(text, mention.end, hi, sentence_start=lo)


def _status_after(text: str, pos: int, limit: int, *, sentence_start: int) -> Found | None:
    match = _STATUS_RE.match(text, pos, limit)
    if match:
        verb = re.sub(r"[ \t]+", " ", match.group("verb").lower())
        note = _VERB_NOTES.get(verb, verb)
        for pattern, english in _FOREIGN_VERBS:
            if re.match(pattern, verb):
                note = english
        if match.group("term"):
            note = f"{note} to {_clean_term(match.group('term'))}"
        return Found(note, [(match.start("verb"), match.end())])
    bare = _BARE_TERM_RE.match(text, pos, limit)
    if bare and "sentenced" in text[sentence_start:pos].lower():
        term = _clean_term(bare.group("term"))
        return Found(f"sentenced to {term}", [(bare.start("term"), bare.end())])
    return None


def _clean_term(term: str) -> str:
    return re.sub(r"[ \t]+", " ", term.strip()).lower()


def _group_people(mentions: list[_Mention], known_people) -> list[Person]:
    groups: dict[str, list[_Mention]] = {}
    for mention in mentions:
        if len(mention.tokens) > 1:
            groups.setdefault(name_key(mention.spelling), []).append(mention)
    _attach_single_names(mentions, groups)
    known = [(pid, {name_key(s) for s in spellings}) for pid, spellings in known_people]
    people = []
    for key, group in groups.items():
        has_status = any(m.status is not None for m in group)
        if not any(m.positive for m in group) or (
            any(m.official and len(m.tokens) > 1 for m in group) and not has_status
        ):
            continue  # an official named once by role stays an official throughout
        people.append(_person_from_group(key, group, known))
    people.sort(key=lambda person: person.spans[0][0])
    return people


def _attach_single_names(mentions: list[_Mention], groups: dict[str, list[_Mention]]) -> None:
    """A bare surname ("Chiygoz, 52, was sentenced") joins the one group it can belong to."""
    by_part: dict[str, set[str]] = {}
    for key in groups:
        for part in key.split():
            by_part.setdefault(part, set()).add(key)
    for mention in mentions:
        if len(mention.tokens) == 1:
            owners = by_part.get(name_key(mention.tokens[0]), set())
            if len(owners) == 1:
                groups[next(iter(owners))].append(mention)


def _person_from_group(key: str, group: list[_Mention], known) -> Person:
    group = sorted(group, key=lambda m: m.start)
    full = [m.spelling for m in group if len(m.tokens) > 1]
    # The first full spelling names the person: a sheet introduces people by their
    # name and drifts into transliterations later (an update may spell the alias
    # more often than the name).
    name = full[0]
    aliases = [s for s in dict.fromkeys(full) if s != name]
    statuses = _distinct_statuses([m.status for m in group if m.status is not None])
    latest, status = _current_status(group, statuses)
    ids = [pid for pid, keys in known if key in keys or any(name_key(a) in keys for a in full)]
    ids = list(dict.fromkeys(ids))
    return Person(
        name=name,
        aliases=aliases,
        person_id=ids[0] if len(ids) == 1 else None,
        candidate_ids=ids if len(ids) > 1 else [],
        status=status,
        statuses=statuses,
        spans=[(m.start, m.end) for m in group],
        status_on=(latest.status_on if latest else None) or Found(),
    )


def _current_status(group: list[_Mention], statuses: list[Found]):
    """The person's status now, and the mention that dates it.

    Sheets tell a story out of order ("was released on 7 November ... had been
    arrested on 22 March"): the status with the latest date wins. A status said
    later without a date wins over it when it is a different status (seed 000:
    "sentenced on 11 September", then their "release"); said again, it is the same.
    """
    said = [m for m in group if m.status is not None]
    if not said:
        return None, Found()
    dated = [m for m in said if m.status_on is not None]
    latest = max(dated, key=lambda m: (m.status_on.value, m.start)) if dated else None
    after = [m for m in said if latest is None or m.start > latest.start]
    changed = [
        m
        for m in after
        if latest is None
        or (m.status_on is None and status_code(m.status.value) != status_code(latest.status.value))
    ]
    chosen = changed[-1] if changed else latest
    found = next(s for s in statuses if s.value == chosen.status.value)
    return (chosen if chosen.status_on is not None else None), found


def _distinct_statuses(statuses: list[Found]) -> list[Found]:
    """One entry per note, ordered by its last mention, with every span that said it."""
    spans: dict[str, dict[Span, None]] = {}
    for status in statuses:
        spans.setdefault(status.value, {}).update(dict.fromkeys(status.spans))
    merged = [Found(note, list(note_spans)) for note, note_spans in spans.items()]
    return sorted(merged, key=lambda found: max(found.spans)[0])
