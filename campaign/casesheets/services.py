"""Importing case sheets: keep the upload, propose a draft, save what staff reviewed.

The flow: ``store_upload`` / ``store_paste`` read the document (``readers``; a hostile
or broken file is refused before anything is stored) and keep it as a pending
``CaseDocument``; ``propose`` extracts a ``Review`` from its text, matched against
the people and cases in the database; ``save_review`` turns the corrected proposal
into a new draft case, or into an update of an existing case, and attaches the
document to it. Nothing reaches a case before ``save_review``; pending documents
nobody saved are purged after a day (``purge_pending``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import delete, func, select

from campaign.audit.services import record
from campaign.cases import services as cases
from campaign.cases.labels import case_label, update_label
from campaign.cases.models import (
    PERSON_STATUSES,
    UPDATE_KINDS,
    Case,
    CasePerson,
    CaseStatus,
    CaseUpdate,
    Person,
    PersonAlias,
)
from campaign.casesheets.extract import Proposal, extract
from campaign.casesheets.models import CONTENT_TYPES, CaseDocument
from campaign.casesheets.readers import DocumentError, ReadResult, read_document, read_text
from campaign.core import storage
from campaign.core.errors import Conflict, NotFound, ServiceError, ValidationError
from campaign.core.types import utcnow
from campaign.extensions import db

PENDING_MAX_AGE = timedelta(days=1)
MAX_SUGGESTED_CASES = 3
PASTED_FILENAME = "pasted-text.txt"

# --- storing uploads ------------------------------------------------------


def store_upload(actor, data: bytes, filename: str) -> CaseDocument:
    """Read an uploaded file and keep it pending; a refused file stores nothing."""
    try:
        result = read_document(data, filename)
    except DocumentError as error:
        raise ValidationError(error.message, "file") from error
    return _store(actor, bytes(data), clean_filename(filename), result)


def store_paste(actor, text: str) -> CaseDocument:
    if not (text or "").strip():
        raise ValidationError("Upload a case sheet or paste its text.", "file")
    try:
        result = read_text(text)
    except DocumentError as error:
        raise ValidationError(error.message, "text") from error
    return _store(actor, text.encode("utf-8"), PASTED_FILENAME, result)


def clean_filename(filename: str) -> str:
    """The name as the uploader's system knew it, minus folders and control characters."""
    name = re.split(r"[\\/]", filename or "")[-1]
    name = re.sub(r"[\x00-\x1f\x7f]", "", name).strip()
    return name[-255:] or "document"


def _store(actor, data: bytes, filename: str, result: ReadResult) -> CaseDocument:
    content_type = CONTENT_TYPES[result.format]
    stored = storage.save_bytes(data, filename, content_type)  # in chunks, for every machine
    document = CaseDocument(
        filename=filename,
        content_type=content_type,
        format=result.format,
        size=stored.size,
        sha256=stored.sha256,
        file_id=stored.id,
        text=result.text,
        read_warnings=list(result.warnings),
        uploaded_by_id=getattr(actor, "id", None),
    )
    db.session.add(document)
    db.session.flush()
    record(actor, "casesheet.upload", document, f"Uploaded {filename} for review")
    return document


def get_document(document_id: int) -> CaseDocument:
    document = db.session.get(CaseDocument, document_id)
    if document is None:
        raise NotFound("There is no such document.")
    return document


def discard(actor, document: CaseDocument) -> None:
    if not document.is_pending:
        raise Conflict("Only a document that was not saved can be discarded.", "file")
    record(actor, "casesheet.discard", document, f"Discarded {document.filename} unsaved")
    file_id = document.file_id
    db.session.delete(document)
    db.session.flush()
    storage.remove(file_id)


def documents_of(case: Case) -> list[CaseDocument]:
    return list(
        db.session.scalars(
            select(CaseDocument)
            .where(CaseDocument.case_id == case.id)
            .order_by(CaseDocument.uploaded_at, CaseDocument.id)
        )
    )


def purge_pending(now: datetime | None = None, max_age: timedelta = PENDING_MAX_AGE) -> int:
    """Delete pending documents older than ``max_age``: uploads nobody saved."""
    cutoff = (now or utcnow()) - max_age
    stale = (CaseDocument.case_id.is_(None), CaseDocument.uploaded_at < cutoff)
    files = list(db.session.scalars(select(CaseDocument.file_id).where(*stale)))
    result = db.session.execute(delete(CaseDocument).where(*stale))
    for file_id in files:
        storage.remove(file_id)
    return result.rowcount or 0


# --- proposing ------------------------------------------------------------


@dataclass
class Review:
    """What the review page shows: the proposal and what it means for the database."""

    document: CaseDocument
    proposal: Proposal
    case: Case | None = None  # the case the document's UA number names
    suggestions: list[tuple[Case, int]] = field(default_factory=list)  # (case, people on it)
    known: dict[int, Person] = field(default_factory=dict)  # people the proposal matched
    duplicates: list[CaseDocument] = field(default_factory=list)  # same file, already saved
    notes: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return self.document.text


def known_people() -> list[tuple[int, list[str]]]:
    spellings: dict[int, list[str]] = {
        pid: [name] for pid, name in db.session.execute(select(Person.id, Person.name))
    }
    for pid, spelling in db.session.execute(select(PersonAlias.person_id, PersonAlias.spelling)):
        spellings.setdefault(pid, []).append(spelling)
    return list(spellings.items())


def known_cases() -> set[tuple[int, int]]:
    rows = db.session.execute(select(Case.number, Case.year).where(Case.number.is_not(None)))
    return {(number, year) for number, year in rows}


def propose(document: CaseDocument) -> Review:
    proposal = extract(
        document.text,
        known_people=known_people(),
        known_cases=known_cases(),
        today=cases.org_today(),
    )
    review = Review(document=document, proposal=proposal)
    if proposal.existing_case:
        review.case = cases.find_case(*proposal.existing_case)
    ids = {pid for person in proposal.people for pid in candidate_ids(person)}
    if ids:
        people = db.session.scalars(select(Person).where(Person.id.in_(ids)))
        review.known = {person.id: person for person in people}
    matched = [person.person_id for person in proposal.people if person.person_id]
    review.suggestions = _cases_of_people(matched, exclude=review.case)
    review.duplicates = list(
        db.session.scalars(
            select(CaseDocument).where(
                CaseDocument.sha256 == document.sha256, CaseDocument.case_id.is_not(None)
            )
        )
    )
    review.notes = _notes(review)
    return review


def candidate_ids(person) -> list[int]:
    return [person.person_id] if person.person_id else list(person.candidate_ids)


def _cases_of_people(person_ids: list[int], exclude: Case | None) -> list[tuple[Case, int]]:
    """Cases that name the matched people, most of them first: where an update belongs."""
    if not person_ids:
        return []
    count = func.count(CasePerson.person_id)
    query = (
        select(CasePerson.case_id, count)
        .where(CasePerson.person_id.in_(person_ids))
        .group_by(CasePerson.case_id)
        .order_by(count.desc(), CasePerson.case_id.desc())
        .limit(MAX_SUGGESTED_CASES + 1)
    )
    found = [(db.session.get(Case, case_id), n) for case_id, n in db.session.execute(query)]
    return [(case, n) for case, n in found if case is not exclude][:MAX_SUGGESTED_CASES]


def _notes(review: Review) -> list[str]:
    notes = []
    for duplicate in review.duplicates:
        notes.append(
            f"This same file was already imported into {duplicate.case.label} "
            f"({duplicate.filename})."
        )
    case, proposal = review.case, review.proposal
    if case is not None:
        said = proposal.update_number.value
        if said and len(case.updates) >= said:
            notes.append(
                f"{case.label} already has its {update_label(said)}; saving this as an update "
                f"issues the {update_label(len(case.updates) + 1)}. Check that the document "
                "was not imported before."
            )
        if case.status == CaseStatus.CLOSED:
            notes.append(f"{case.label} is closed: issuing an update reopens it.")
        if case.status == CaseStatus.DRAFT:
            notes.append(f"{case.label} is a draft: issue it before adding updates to it.")
    return notes


def update_body(review: Review) -> str:
    """The document's prose paragraphs, minus its headline: a first draft of an update."""
    title_spans = review.proposal.title.spans
    paragraphs = []
    pos = 0
    for line in review.text.split("\n"):
        start, pos = pos, pos + len(line) + 1
        stripped = line.strip()
        if any(s < start + len(line) and start < e for s, e in title_spans):
            continue
        if len(stripped) >= 60 and len(stripped.split()) >= 8:
            paragraphs.append(stripped)
    return "\n\n".join(paragraphs)


# --- saving ---------------------------------------------------------------


@dataclass
class PersonEntry:
    name: str = ""
    person_id: int | None = None
    aliases: list[str] = field(default_factory=list)
    status: str = ""
    note: str = ""
    on: date | None = None


@dataclass
class Reviewed:
    """The corrected proposal, as staff sent it from the review page.

    ``save_as`` is "new" (a new draft), "update" (an update of the UA numbered
    ``ua_number``/``ua_year``) or "case-<id>" (an update of a suggested case).
    """

    save_as: str
    ua_number: int | None = None
    ua_year: int | None = None
    case: dict = field(default_factory=dict)  # CASE_FIELDS of a new draft
    update_kind: str = ""
    update_title: str = ""
    update_body: str = ""
    new_deadline: date | None = None
    # The date the sheet says it was issued, and an update's own index reference.
    issued_on: date | None = None
    update_index_reference: str = ""
    # One item per row of the review form (None: left out), so that a refusal
    # names the row it is about.
    people: list[PersonEntry | None] = field(default_factory=list)
    targets: list[dict | None] = field(default_factory=list)  # TARGET_FIELDS each


def save_review(actor, document_id: int, reviewed: Reviewed) -> tuple[Case, CaseUpdate | None]:
    """Save the reviewed proposal and attach the document; all of it or nothing.

    A savepoint undoes a half-done save at once, so the page that shows the refusal
    is rendered from the database as it was, not with a half-made case in it.
    """
    if reviewed.issued_on is not None and reviewed.issued_on > cases.org_today():
        raise ValidationError("The sheet's issue date lies in the future.", "issued_on")
    with db.session.begin_nested():
        document = _lock_pending(document_id)
        document.issued_on = reviewed.issued_on
        if reviewed.save_as == "new":
            case, update = _save_new_case(actor, reviewed), None
        else:
            case = _case_to_update(reviewed)
            _align_issue_date(actor, case, reviewed.issued_on)
            update = _save_update(actor, case, reviewed)
        _save_people(actor, case, reviewed.people)
        _save_targets(actor, case, reviewed.targets)
        document.case_id = case.id
        document.update_id = update.id if update else None
        db.session.flush()
        what = f"the {update.full_label}" if update else f"a draft ({case.title})"
        record(actor, "casesheet.import", case, f"Imported {document.filename} as {what}")
    return case, update


def _lock_pending(document_id: int) -> CaseDocument:
    """The document, locked: a double click must not make two cases of one sheet."""
    document = db.session.scalar(
        select(CaseDocument)
        .where(CaseDocument.id == document_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if document is None:
        raise NotFound("There is no such document; it may have been discarded. Upload it again.")
    if not document.is_pending:
        raise Conflict(f"This document was already saved with {document.case.label}.", "save_as")
    return document


_RENAMED = {"number": "ua_number", "year": "ua_year", "deadline": "deadline"}


def _save_new_case(actor, reviewed: Reviewed) -> Case:
    number, year = reviewed.ua_number, reviewed.ua_year
    if number and year and cases.find_case(number, year) is not None:
        raise Conflict(
            f"{case_label(number, year)} already exists: save the document as an update of it.",
            "save_as",
        )
    try:
        return cases.create_case(actor, reviewed.case, number=number, year=year)
    except ServiceError as error:
        raise type(error)(error.message, _RENAMED.get(error.field, error.field)) from error


def _case_to_update(reviewed: Reviewed) -> Case:
    if reviewed.save_as.startswith("case-") and reviewed.save_as[5:].isdigit():
        case = db.session.get(Case, int(reviewed.save_as[5:]))
        if case is None:
            raise ValidationError("That UA no longer exists: choose again.", "save_as")
        return case
    if reviewed.save_as != "update":
        raise ValidationError("Choose whether this is a new UA or an update.", "save_as")
    number, year = reviewed.ua_number, reviewed.ua_year
    if not number or not year:
        raise ValidationError("Give the number and year of the UA this updates.", "ua_number")
    case = cases.find_case(number, year)
    if case is None:
        raise ValidationError(
            f"There is no {case_label(number, year)} to update: correct the number, "
            "or save the document as a new draft.",
            "ua_number",
        )
    return case


_UPDATE_FIELDS = {"kind": "update_kind", "body": "update_body", "new_deadline": "deadline"}


def _noon(day: date) -> datetime:
    """A date as a moment: noon UTC is the same day in every time zone staff work in."""
    return datetime.combine(day, time(12), tzinfo=UTC)


def _align_issue_date(actor, case: Case, issued_on: date | None) -> None:
    """An update sheet issued on a date proves its UA was issued by then.

    A historic UA imported and issued here today carries today as its issue date;
    its updates' deadlines (years ago) would then lie "before the UA was issued".
    The earliest date a sheet of the case gives is when it was really issued.
    """
    if issued_on is None or case.issued_at is None:
        return
    known = db.session.scalars(
        select(CaseDocument.issued_on).where(
            CaseDocument.case_id == case.id, CaseDocument.issued_on.is_not(None)
        )
    )
    earliest = min([issued_on, *known])
    if case.issued_at.date() > earliest:
        before = case.issued_at.date().isoformat()
        case.issued_at = _noon(earliest)
        record(
            actor,
            "case.issue_date",
            case,
            f"{case.label}: issue date {before} corrected to {earliest.isoformat()} "
            "from its case sheets",
        )


def _save_update(actor, case: Case, reviewed: Reviewed) -> CaseUpdate:
    if reviewed.update_kind not in UPDATE_KINDS:
        raise ValidationError(
            "Choose whether further action is requested (the document does not say).",
            "update_kind",
        )
    try:
        reference = cases.normalise_index_reference(reviewed.update_index_reference)
        update = cases.add_update(
            actor,
            case,
            kind=reviewed.update_kind,
            title=reviewed.update_title,
            body=reviewed.update_body,
            new_deadline=reviewed.new_deadline,
        )
    except ServiceError as error:
        raise type(error)(error.message, _UPDATE_FIELDS.get(error.field, error.field)) from error
    update.index_reference = reference
    if reviewed.issued_on is not None:
        update.issued_at = _noon(reviewed.issued_on)  # when it was issued, not imported
    return update


def _save_people(actor, case: Case, entries: list[PersonEntry | None]) -> None:
    for index, entry in enumerate(entries):
        if entry is None:
            continue
        prefix = f"people-{index}-"
        try:
            person = _person_for(actor, entry)
        except ServiceError as error:
            raise type(error)(error.message, prefix + (error.field or "name")) from error
        if not any(link.person_id == person.id for link in case.links):
            cases.link_person(actor, case, person)
        if entry.status:
            if entry.status not in PERSON_STATUSES:
                raise ValidationError("Choose a status from the list.", prefix + "status")
            if entry.on is None:
                raise ValidationError("Give the date of this status.", prefix + "on")
            cases.add_person_status(
                actor, person, on=entry.on, status=entry.status, note=entry.note, case=case
            )


def _person_for(actor, entry: PersonEntry) -> Person:
    """The matched person, with the document's new spellings added; else a new person."""
    if entry.person_id is None:
        return cases.save_person(actor, None, {"name": entry.name, "aliases": entry.aliases})
    person = db.session.get(Person, entry.person_id)
    if person is None:
        raise ValidationError("That person no longer exists: choose again.", "person_id")
    known = {s.casefold() for s in person.spellings}
    spellings = dict.fromkeys([entry.name, *entry.aliases])
    new = [s for s in spellings if s and s.casefold() not in known]
    if new:
        cases.save_person(
            actor,
            person,
            {
                "name": person.name,
                "aliases": [*person.spellings[1:], *new],
                "gender": person.gender,
                "pronoun": person.pronoun,
                "consent_to_name": person.consent_to_name,
                "notes": person.notes,
            },
        )
    return person


def _save_targets(actor, case: Case, targets: list[dict | None]) -> None:
    for index, data in enumerate(targets):
        if data is None:
            continue
        try:
            cases.save_target(actor, case, None, data)
        except ServiceError as error:
            raise type(error)(error.message, f"targets-{index}-{error.field or 'name'}") from error
