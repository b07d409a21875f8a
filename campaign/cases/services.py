"""The rules of the UA registry: numbering, issuing, updates, people, targets.

Services take explicit arguments, validate, change rows, log and flush; the
caller's request or task commits.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from types import SimpleNamespace
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import and_, false, func, or_, select, update
from sqlalchemy import case as sql_case
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from campaign.audit.services import diff, record
from campaign.cases.labels import case_label, parse_label, update_label
from campaign.cases.models import (
    CASE_STATUSES,
    PERSON_STATUSES,
    UPDATE_KINDS,
    Case,
    CaseNumberCounter,
    CasePerson,
    CaseStatus,
    CaseUpdate,
    Person,
    PersonAlias,
    PersonStatus,
    Target,
    UpdateKind,
)
from campaign.cases.names import name_key, search_keys
from campaign.cases.signals import update_issued
from campaign.core.db import dialect_name, insert_ignore
from campaign.core.errors import Conflict, Forbidden, NotFound, ValidationError
from campaign.core.roles import has_role
from campaign.core.types import utcnow
from campaign.extensions import db
from campaign.i18n import is_country_code, is_language_code

INDEX_REGIONS = ("ACT", "AFR", "AMR", "ASA", "EUR", "IOR", "MDE", "NWS", "ORG", "POL")
# "EUR 50/7271/2017" today; the 1990s wrote "AMR 41/23/94" (short document
# number, two-digit year), and a sheet of then is imported as it was issued.
_INDEX = re.compile(r"^\s*([A-Za-z]{3})\s*(\d{2})\s*/\s*(\d{1,5})\s*/\s*(\d{4}|\d{2})\s*$")

CASE_FIELDS = (
    "title",
    "index_reference",
    "country_code",
    "summary",
    "background",
    "recommended_actions",
    "deadline",
    "embargo_until",
    "languages",
    "themes",
)
# Fields the API and the case-sheet import may also set (the staff forms do not show them).
EXTRA_CASE_FIELDS = ("text_language",)
TARGET_FIELDS = (
    "name",
    "title",
    "organisation",
    "address",
    "email",
    "fax",
    "phone",
    "social",
    "salutation",
    "language",
    "is_copy",
    "copy_country",
)
EXTRA_TARGET_FIELDS = ("salutations",)


# --- time -----------------------------------------------------------------


def org_today(now: datetime | None = None) -> date:
    """Today in the organisation's time zone: deadlines are dates there."""
    zone = ZoneInfo(current_app.config["ORG_TIMEZONE"])
    return (now or utcnow()).astimezone(zone).date()


def days_left(case: Case, today: date | None = None) -> int | None:
    deadline = case.current_deadline
    if deadline is None:
        return None
    return (deadline - (today or org_today())).days


# --- validation -----------------------------------------------------------


def normalise_index_reference(value: str | None) -> str | None:
    """ "eur 50/7271/2017" → "EUR 50/7271/2017"; refuses other shapes."""
    if not value or not value.strip():
        return None
    match = _INDEX.match(value)
    if not match or match.group(1).upper() not in INDEX_REGIONS:
        raise ValidationError(
            "An index reference looks like “EUR 50/7271/2017”: a region code "
            f"({', '.join(INDEX_REGIONS)}), two digits, a document number and a year.",
            "index_reference",
        )
    region, sub, doc, year = match.groups()
    return f"{region.upper()} {sub}/{doc}/{year}"


def normalise_country(code: str | None) -> str | None:
    if not code or not code.strip():
        return None
    code = code.strip().upper()
    if not is_country_code(code):
        raise ValidationError(
            "Choose a country by its ISO 3166 code, e.g. UA or RU.", "country_code"
        )
    return code


def normalise_languages(codes, field: str = "languages") -> list[str]:
    if isinstance(codes, str):
        codes = re.split(r"[\s,;]+", codes)
    result = []
    for code in codes or []:
        code = (code or "").strip().lower()
        if not code:
            continue
        if not is_language_code(code):
            raise ValidationError(f"“{code}” is not an ISO 639-1 language code (en, ru…).", field)
        if code not in result:
            result.append(code)
    return result


def normalise_themes(themes) -> list[str]:
    if isinstance(themes, str):
        themes = themes.split(",")
    result = []
    for theme in themes or []:
        theme = " ".join((theme or "").split())[:60]
        if theme and theme.lower() not in (t.lower() for t in result):
            result.append(theme)
    return result


def _clean_case(data: dict) -> dict:
    clean = {}
    for field in CASE_FIELDS + EXTRA_CASE_FIELDS:
        if field not in data:
            continue
        value = data[field]
        if field == "title":
            value = " ".join((value or "").split())
            if not value:
                raise ValidationError("Give the UA a title.", "title")
            if len(value) > 300:
                raise ValidationError("Keep the title under 300 characters.", "title")
        elif field == "index_reference":
            value = normalise_index_reference(value)
        elif field == "country_code":
            value = normalise_country(value)
        elif field == "languages":
            value = normalise_languages(value)
        elif field == "text_language":
            value = (normalise_languages([value] if value else [], "text_language") or ["en"])[0]
        elif field == "themes":
            value = normalise_themes(value)
        elif field == "deadline":
            if value is not None and not isinstance(value, date):
                raise ValidationError("Give the deadline as a date.", "deadline")
        elif field == "embargo_until":
            value = _embargo(value)
        else:
            value = (value or "").strip()
        clean[field] = value
    return clean


def _embargo(value) -> datetime | None:
    """A naive time (from the form) is the organisation's local time."""
    if value is None:
        return None
    if not isinstance(value, datetime):
        raise ValidationError("Give the embargo as a date and time.", "embargo_until")
    if value.tzinfo is None:
        value = value.replace(tzinfo=ZoneInfo(current_app.config["ORG_TIMEZONE"]))
    return value.astimezone(UTC)


# --- cases ----------------------------------------------------------------


def get_case(case_id: int) -> Case:
    case = db.session.get(Case, case_id)
    if case is None:
        raise NotFound("There is no such UA.")
    return case


def find_case(number: int, year: int) -> Case | None:
    return db.session.scalar(select(Case).where(Case.number == number, Case.year == year))


def list_cases(
    *,
    status: str | None = None,
    country: str | None = None,
    year: int | None = None,
    q: str | None = None,
):
    """A select() of cases for the list, newest first, filtered and searched.

    ``q`` finds "205/16" or "UA 205/16" by number, words of the title, or a
    person's name in any spelling.
    """
    query = select(Case)
    if status in CASE_STATUSES:
        query = query.where(Case.status == status)
    if country:
        code = country.upper()[:2]
        # A code is two letters; anything else (NUL, which PostgreSQL refuses) matches none.
        query = query.where(
            Case.country_code == code if code.isascii() and code.isalpha() else false()
        )
    if year:
        # A year no column can hold matches nothing (and must not overflow the driver).
        query = query.where(Case.year == year if 0 < year < 10_000 else false())
    if q and "\x00" in q:
        # No stored text holds NUL; SQLite would end the LIKE pattern there, PostgreSQL refuse it.
        query = query.where(false())
    elif q and q.strip():
        query = query.where(_case_search(q.strip()))
    # The list shows people and update counts: load them in two queries, not per row.
    return query.options(selectinload(Case.links), selectinload(Case.updates)).order_by(
        Case.year.desc().nulls_first(), Case.number.desc().nulls_first(), Case.id.desc()
    )


def _case_search(q: str):
    conditions = []
    label = parse_label(q)
    if label:
        conditions.append((Case.number == label[0]) & (Case.year == label[1]))
    elif q.isascii() and q.isdigit() and len(q) <= 4:  # "²" is a digit to isdigit()
        conditions.append(Case.number == int(q))
    pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    conditions.append(Case.title.ilike(pattern, escape="\\"))
    conditions.append(Case.index_reference.ilike(pattern, escape="\\"))
    person_ids = select(Person.id).where(_person_match(q))
    conditions.append(
        Case.id.in_(select(CasePerson.case_id).where(CasePerson.person_id.in_(person_ids)))
    )
    return or_(*conditions)


def create_case(actor, data: dict, *, number: int | None = None, year: int | None = None) -> Case:
    """A new draft; ``number`` and ``year`` enter a historic UA by hand."""
    clean = _clean_case(data)
    if "title" not in clean:
        raise ValidationError("Give the UA a title.", "title")
    case = Case(status=CaseStatus.DRAFT, created_by_id=getattr(actor, "id", None), **clean)
    if number is not None or year is not None:
        _may_number(actor)
        _set_manual_number(case, number, year)
    db.session.add(case)
    _flush_unique(case)
    record(actor, "case.create", case, f"Created {case.label}: {case.title}")
    return case


MAX_NUMBER = 9999  # UA numbers run 1..9999 within a year (the API's range too)
FIRST_YEAR = 1961


def _may_number(actor) -> None:
    """Numbers are the network's shared reference: only coordinators (and the
    system, actor None: imports, the command line) enter one by hand."""
    if actor is not None and not has_role(actor, "coordinator"):
        raise Forbidden("Only a coordinator can set a UA number.", "number")


def _set_manual_number(case: Case, number: int | None, year: int | None) -> None:
    if not number or not 1 <= number <= MAX_NUMBER:
        raise ValidationError(f"Give the UA number, from 1 to {MAX_NUMBER}, e.g. 205.", "number")
    if not year or year < FIRST_YEAR or year > org_today().year:
        raise ValidationError("Give the year the UA was issued, e.g. 2016.", "year")
    if find_case(number, year) not in (None, case):
        raise Conflict(f"{case_label(number, year)} already exists.", "number")
    case.number, case.year = number, year


def _flush_unique(case: Case) -> None:
    """Flush, turning a lost race on (number, year) into a clear refusal."""
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError as error:
        raise Conflict(f"{case_label(case.number, case.year)} already exists.", "number") from error


def update_case(actor, case: Case, data: dict) -> Case:
    clean = _clean_case(data)
    changes = diff(case, clean)
    if "number" in data or "year" in data:
        number, year = data.get("number", case.number), data.get("year", case.year)
        if (number, year) != (case.number, case.year):
            if case.status != CaseStatus.DRAFT:
                raise Conflict(
                    f"{case.label} has been issued: its number can only be corrected by an "
                    "admin's renumbering, which is recorded.",
                    "number",
                )
            _may_number(actor)
            if number is None and year is None:
                case.number = case.year = None
            else:
                _set_manual_number(case, number, year)
            changes["label"] = "renumbered"
    for field, value in clean.items():
        setattr(case, field, value)
    if changes:
        _flush_unique(case)
        record(actor, "case.update", case, f"Edited {case.label}", changes)
    return case


def next_number(year: int) -> int:
    """Atomically take the next free UA number of ``year``.

    The counter row is updated in one statement; on PostgreSQL the row lock
    makes a second issuer wait and then read the first one's number, so two
    issuers never get the same number. Numbers entered by hand are skipped.
    """
    db.session.execute(insert_ignore(CaseNumberCounter, {"year": year, "last_number": 0}, ["year"]))
    used = (
        select(func.coalesce(func.max(Case.number), 0)).where(Case.year == year).scalar_subquery()
    )
    current = CaseNumberCounter.last_number
    statement = (
        update(CaseNumberCounter)
        .where(CaseNumberCounter.year == year)
        .values(last_number=sql_case((used > current, used), else_=current) + 1)
        .returning(CaseNumberCounter.last_number)
    )
    number = db.session.execute(statement).scalar_one()
    if number > MAX_NUMBER:
        raise Conflict(
            f"The UA numbers of {year} are used up to {MAX_NUMBER}: an admin must renumber "
            "the UA that holds the highest number.",
            "number",
        )
    return number


def renumber(actor, case: Case, number: int, year: int, reason: str) -> Case:
    """An admin's correction of an issued UA's number, recorded with its reason.

    Links, emails and letters already sent name the old label, so this is for
    correcting mistakes (a historic UA entered under the wrong number), not for
    tidying; the audit log keeps both labels and why.
    """
    if actor is not None and not has_role(actor, "admin"):
        raise Forbidden("Only an admin can renumber a UA.", "number")
    reason = " ".join((reason or "").split())
    if not reason:
        raise ValidationError("Say why the UA is renumbered (it is recorded).", "reason")
    if len(reason) > 300:
        raise ValidationError("Keep the reason under 300 characters.", "reason")
    old = case.label
    _set_manual_number(case, number, year)
    if case.label == old:
        raise ValidationError(f"{old} already has this number.", "number")
    _flush_unique(case)
    record(actor, "case.renumber", case, f"Renumbered {old} as {case.label}: {reason}",
           {"label": [old, case.label]})  # fmt: skip
    return case


def issue_case(actor, case: Case, *, today: date | None = None) -> Case:
    """draft → active, with the next number of the year unless one was entered."""
    if case.status != CaseStatus.DRAFT:
        raise Conflict(f"{case.label} has already been issued.", "status")
    missing = [f for f in ("summary", "recommended_actions") if not getattr(case, f).strip()]
    if missing:
        names = {"summary": "a summary", "recommended_actions": "recommended actions"}
        raise ValidationError(
            f"Before issuing, add {' and '.join(names[f] for f in missing)}.", missing[0]
        )
    if case.number is None:
        case.year = (today or org_today()).year
        case.number = next_number(case.year)
    case.status = CaseStatus.ACTIVE
    case.issued_at = utcnow()
    case.issued_by_id = getattr(actor, "id", None)
    _flush_unique(case)
    record(actor, "case.issue", case, f"Issued {case.label}: {case.title}")
    return case


def close_case(actor, case: Case, note: str = "") -> Case:
    if case.status != CaseStatus.ACTIVE:
        raise Conflict("Only an active UA can be closed.", "status")
    case.status = CaseStatus.CLOSED
    record(actor, "case.close", case, f"Closed {case.label}" + (f": {note}" if note else ""))
    return case


def add_update(
    actor,
    case: Case,
    *,
    kind: str,
    body: str,
    title: str = "",
    new_deadline: date | None = None,
) -> CaseUpdate:
    """Number the next update; one asking for action reopens a closed case (a re-arrest).

    Coordinators issue updates (campaigners draft their news), whatever the path:
    the pages, the API or a received case sheet.
    """
    if actor is not None and not has_role(actor, "coordinator"):
        raise Forbidden("Only a coordinator can issue an update.", "kind")
    if case.status == CaseStatus.DRAFT:
        raise Conflict("Issue the UA before adding updates to it.", "status")
    if kind not in UPDATE_KINDS:
        raise ValidationError("Choose whether further action is requested.", "kind")
    body = (body or "").strip()
    if not body:
        raise ValidationError("Write what has happened.", "body")
    if new_deadline is not None and case.issued_at and new_deadline < case.issued_at.date():
        raise ValidationError("The new deadline lies before the UA was issued.", "new_deadline")
    _lock_case(case)
    sequence = (
        db.session.scalar(
            select(func.coalesce(func.max(CaseUpdate.sequence), 0)).where(
                CaseUpdate.case_id == case.id
            )
        )
        + 1
    )
    item = CaseUpdate(
        case=case,
        sequence=sequence,
        kind=kind,
        title=" ".join((title or "").split())[:300],
        body=body,
        new_deadline=new_deadline,
        issued_by_id=getattr(actor, "id", None),
    )
    db.session.add(item)
    # News that asks for action again (a re-arrest) reopens a closed case; a
    # further "no further action" notice does not.
    reopened = case.status == CaseStatus.CLOSED and kind == UpdateKind.FURTHER_ACTION
    if reopened:
        case.status = CaseStatus.ACTIVE
    db.session.flush()
    update_issued.send(case, update=item, actor=actor)
    record(
        actor,
        "case.update_issued",
        case,
        f"Issued the {item.full_label}" + (" (case reopened)" if reopened else ""),
        {"sequence": sequence, "kind": kind},
    )
    return item


def _lock_case(case: Case) -> None:
    """Serialise writers of one case (update numbering) on PostgreSQL."""
    if dialect_name() == "postgresql":
        db.session.execute(select(Case.id).where(Case.id == case.id).with_for_update())


# --- people ---------------------------------------------------------------


def _person_match(q: str):
    """Every word of ``q`` must begin a word of some spelling of the person.

    Keys hold only [a-z0-9], so they cannot smuggle LIKE wildcards in.
    """
    keys = name_key(q).split()
    if not keys:
        return false()
    return and_(*(Person.search_keys.like(f"% {key}%") for key in keys))


def search_people(q: str, limit: int = 50) -> list[Person]:
    if not q or not q.strip():
        return list(db.session.scalars(select(Person).order_by(Person.name).limit(limit)))
    return list(
        db.session.scalars(
            select(Person).where(_person_match(q)).order_by(Person.name).limit(limit)
        )
    )


def get_person(person_id: int) -> Person:
    person = db.session.get(Person, person_id)
    if person is None:
        raise NotFound("There is no such person.")
    return person


def _clean_aliases(name: str, aliases) -> list[str]:
    if isinstance(aliases, str):
        aliases = re.split(r"[\n;]+", aliases)
    result = []
    for alias in aliases or []:
        alias = " ".join((alias or "").split())[:200]
        if alias and alias != name and alias not in result:
            result.append(alias)
    return result


_PERSON_FIELDS = ("name", "gender", "pronoun", "consent_to_name", "notes")


def save_person(actor, person: Person | None, data: dict) -> Person:
    """Create a person, or change the fields present in ``data`` (the others stay)."""
    current = person or SimpleNamespace(
        name="", gender="", pronoun="", consent_to_name=True, notes="", spellings=[""]
    )
    data = {**{f: getattr(current, f) for f in _PERSON_FIELDS}, **data}
    name = " ".join((data.get("name") or "").split())
    if not name:
        raise ValidationError("Give the person's name.", "name")
    if "\x00" in name:  # PostgreSQL refuses NUL in text: a clear refusal, not a 500
        raise ValidationError("The name holds a character that cannot be stored.", "name")
    if len(name) > 200:
        raise ValidationError("Keep the name under 200 characters.", "name")
    aliases = _clean_aliases(name, data.get("aliases", current.spellings[1:]))
    creating = person is None
    if creating:
        person = Person(name=name)
        db.session.add(person)
    values = {
        "name": name,
        "gender": (data.get("gender") or "").strip()[:30],
        "pronoun": (data.get("pronoun") or "").strip()[:30],
        "consent_to_name": bool(data["consent_to_name"]),
        "notes": (data.get("notes") or "").strip(),
    }
    changes = {} if creating else diff(person, values)
    for field, value in values.items():
        setattr(person, field, value)
    if [a.spelling for a in person.aliases] != aliases:
        changes["aliases"] = [[a.spelling for a in person.aliases], aliases]
        person.aliases = [PersonAlias(spelling=a) for a in aliases]
    person.search_keys = search_keys([name, *aliases])
    db.session.flush()
    if creating:
        record(actor, "person.create", person, f"Added person {name}")
    elif changes:
        record(actor, "person.update", person, f"Edited person {name}", changes)
    return person


def add_person_status(
    actor, person: Person, *, on: date, status: str, note: str = "", case: Case | None = None
) -> PersonStatus:
    if status not in PERSON_STATUSES:
        raise ValidationError("Choose a status from the list.", "status")
    if not isinstance(on, date):
        raise ValidationError("Give the date of this status.", "on")
    item = PersonStatus(
        person=person,
        on=on,
        status=status,
        note=(note or "").strip()[:500],
        case_id=getattr(case, "id", None),
    )
    db.session.add(item)
    db.session.flush()
    record(
        actor, "person.status", person, f"{person.name}: {item.status_label} on {on.isoformat()}"
    )
    return item


def link_person(actor, case: Case, person: Person) -> None:
    if any(link.person_id == person.id for link in case.links):
        raise Conflict(f"{person.name} is already on {case.label}.", "person_id")
    case.links.append(CasePerson(person=person, position=len(case.links)))
    db.session.flush()
    record(actor, "case.person_add", case, f"Added {person.name} to {case.label}")


def unlink_person(actor, case: Case, person: Person) -> None:
    link = next((link for link in case.links if link.person_id == person.id), None)
    if link is None:
        raise NotFound(f"{person.name} is not on {case.label}.")
    case.links.remove(link)
    db.session.flush()
    record(actor, "case.person_remove", case, f"Removed {person.name} from {case.label}")


# --- targets --------------------------------------------------------------


def _clean_target(data: dict) -> dict:
    clean = {}
    for field in TARGET_FIELDS + EXTRA_TARGET_FIELDS:
        if field not in data:
            continue
        value = data[field]
        if field == "is_copy":
            clean[field] = bool(value)
        elif field == "copy_country":
            clean[field] = normalise_country(value) if value else None
        elif field == "language":
            codes = normalise_languages([value] if value else [], "language")
            clean[field] = codes[0] if codes else ""
        elif field == "address":
            clean[field] = "\n".join(line.strip() for line in (value or "").strip().splitlines())
        elif field == "salutations":
            clean[field] = _clean_salutations(value)
        else:
            clean[field] = " ".join((value or "").split())
    if (
        "email" in clean
        and clean["email"]
        and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", clean["email"])
    ):
        raise ValidationError("Enter a valid email address.", "email")
    return clean


def _clean_salutations(value) -> dict:
    """{language: salutation}: how to address the target in letters of other languages."""
    if not isinstance(value, dict):
        raise ValidationError("Give the salutations as language: text.", "salutations")
    clean = {}
    for code, text in value.items():
        [language] = normalise_languages([code], "salutations") or [None]
        text = " ".join(str(text or "").split())
        if len(text) > 200:
            raise ValidationError("Keep each salutation under 200 characters.", "salutations")
        if language and text:
            clean[language] = text
    return clean


def save_target(actor, case: Case, target: Target | None, data: dict) -> Target:
    clean = _clean_target(data)
    merged = {**({f: getattr(target, f) for f in TARGET_FIELDS} if target else {}), **clean}
    if not (merged.get("name") or merged.get("title") or merged.get("organisation")):
        raise ValidationError("Give the target's name, title or organisation.", "name")
    if target is None:
        target = Target(case=case, **clean)
        db.session.add(target)
        db.session.flush()
        record(actor, "case.target_add", case, f"Added target {target.heading} to {case.label}")
    else:
        changes = diff(target, clean)
        for field, value in clean.items():
            setattr(target, field, value)
        if changes:
            record(actor, "case.target_edit", case, f"Edited target {target.heading}", changes)
    return target


def delete_target(actor, case: Case, target: Target) -> None:
    case.targets.remove(target)
    db.session.flush()
    record(actor, "case.target_remove", case, f"Removed target {target.heading} from {case.label}")


def get_target(case: Case, target_id: int) -> Target:
    target = next((t for t in case.targets if t.id == target_id), None)
    if target is None:
        raise NotFound("There is no such target on this UA.")
    return target


def update_label_for_next(case: Case) -> str:
    return f"{update_label(len(case.updates) + 1)} of {case.label}"


def cases_of(person: Person) -> list[Case]:
    return list(
        db.session.scalars(
            select(Case)
            .join(CasePerson, CasePerson.case_id == Case.id)
            .where(CasePerson.person_id == person.id)
            .order_by(Case.year.desc(), Case.number.desc())
        )
    )
