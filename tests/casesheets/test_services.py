"""Import services: storing uploads, proposing against the database, saving reviews."""

from __future__ import annotations

import re
from datetime import date, timedelta
from html import unescape
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import func, select

from campaign.cases import names
from campaign.cases import services as cases
from campaign.cases.models import Case, CaseUpdate, Person, PersonStatus, Target
from campaign.casesheets import services
from campaign.casesheets.extract import extract, name_key, status_code
from campaign.casesheets.highlight import Mark, highlight, marks_of
from campaign.casesheets.models import CaseDocument
from campaign.core import storage
from campaign.core.errors import Conflict, ValidationError
from campaign.core.types import utcnow

SAMPLES = Path(__file__).parent / "samples"
SEED_000 = SAMPLES / "seed_000_ua_205_16_third_update.txt"
ORIGINAL = SAMPLES / "ua_216_06_original.txt"


def stored_bytes(document) -> bytes:
    return b"".join(storage.open_chunks(document.file_id))


def count(db, model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def store(path: Path) -> CaseDocument:
    return services.store_upload(None, path.read_bytes(), path.name)


def ua_205_16(*, chiygoz_spellings=("Akhtem Chiygoz",)) -> Case:
    case = cases.create_case(
        None, {"title": "Crimean Tatar leaders", "summary": "S", "recommended_actions": "A"},
        number=205, year=2016,
    )  # fmt: skip
    cases.issue_case(None, case)
    name, *aliases = chiygoz_spellings
    chiygoz = cases.save_person(None, None, {"name": name, "aliases": aliases})
    cases.link_person(None, case, chiygoz)
    return case


# --- one name key for search and import -----------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Akhtem Chiygoz", "Akhtem Chyigoz"),
        ("Arsen Dzhepparov", "Arsen Djepparov"),
        ("Muslim Aliyev", "Muslim Aliev"),
        ("Ilmi Umerov", "Ильми Умеров"),
    ],
)
def test_import_and_people_search_use_one_name_key(app, a, b):
    assert name_key is names.name_key
    person = cases.save_person(None, None, {"name": a})
    assert cases.search_people(b) == [person]  # the database search finds it ...
    text = f"Prisoner of conscience {b} was sentenced to 5 years."
    (found,) = extract(text, known_people=services.known_people()).people
    assert found.person_id == person.id  # ... and the import matches it


# --- storing -------------------------------------------------------------------------------


def test_an_upload_is_kept_whole_and_pending(app, db):
    data = ORIGINAL.read_bytes()
    document = services.store_upload(None, data, "C:\\Users\\me\\UA 216\x07.txt")
    assert document.filename == "UA 216.txt"
    assert (document.format, document.content_type) == ("text", "text/plain")
    assert stored_bytes(document) == data and document.size == len(data)
    assert len(document.sha256) == 64
    assert document.text.startswith("UA: 216/06")
    assert document.is_pending


def test_a_refused_upload_stores_nothing(app, db):
    with pytest.raises(ValidationError) as refused:
        services.store_upload(None, b"%PDF-1.4 no end", "x.pdf")
    assert refused.value.field == "file"
    assert "truncated or damaged" in refused.value.message
    assert count(db, CaseDocument) == 0


def test_reader_warnings_are_kept_for_the_review(app, db):
    document = services.store_upload(None, "Café UA 1/20".encode("cp1252"), "old.txt")
    assert "Windows-1252" in document.read_warnings[0]


# --- proposing -------------------------------------------------------------------------------


def test_proposal_matches_the_case_and_the_person_by_another_spelling(app, db):
    case = ua_205_16()
    review = services.propose(store(SEED_000))
    assert review.case == case
    assert review.proposal.is_update_of_existing
    chiygoz = next(p for p in review.proposal.people if p.name == "Akhtem Chiygoz")
    assert review.known[chiygoz.person_id].name == "Akhtem Chiygoz"
    assert review.notes == []  # no third update exists yet


def test_proposal_notes_an_update_the_case_already_has_and_a_closed_case(app, db):
    case = ua_205_16()
    for _ in range(3):
        cases.add_update(None, case, kind="further_action", body="News.")
    cases.close_case(None, case)
    review = services.propose(store(SEED_000))
    assert "already has its third update" in review.notes[0]
    assert "fourth update" in review.notes[0]
    assert "is closed: issuing an update reopens it" in review.notes[1]


def test_proposal_notes_a_file_imported_before(app, db):
    case = ua_205_16()
    first = store(SEED_000)
    first.case_id = case.id
    review = services.propose(store(SEED_000))
    assert review.duplicates == [first]
    assert "already imported into UA 205/16" in review.notes[0]


def test_cases_are_suggested_by_the_people_they_name(app, db):
    kuku = cases.create_case(None, {"title": "Kuku"}, number=94, year=2020)
    other = cases.create_case(None, {"title": "Other"}, number=95, year=2020)
    for name in ("Emir-Usein Kuku", "Enver Bekirov", "Vadim Siruk"):
        cases.link_person(None, kuku, cases.save_person(None, None, {"name": name}))
    cases.link_person(None, other, cases.search_people("Bekirov")[0])
    review = services.propose(store(SAMPLES / "seed_004_kuku_outcome.txt"))
    assert review.case is None
    assert review.suggestions == [(kuku, 3), (other, 1)]


@pytest.mark.parametrize(
    ("note", "code"),
    [
        ("sentenced to 12 years", "sentenced"),
        ("released", "released"),
        ("arrested", "detained"),
        ("on hunger strike", "hunger_strike"),
        ("acquitted", "released"),
        ("something new", "other"),
        (None, ""),
    ],
)
def test_status_notes_map_to_status_codes(note, code):
    assert status_code(note) == code


# --- saving ----------------------------------------------------------------------------------


def _original_reviewed(**changes) -> services.Reviewed:
    values = {
        "save_as": "new",
        "ua_number": 216,
        "ua_year": 2006,
        "case": {"title": "Fear of torture", "summary": "Two people held.", "deadline": None},
        "people": [
            services.PersonEntry(
                name="Natalia Estemirovich", status="detained", on=date(2006, 7, 18)
            )
        ],
        "targets": [{"title": "Prosecutor General", "salutation": "Dear Prosecutor General"}],
    }
    return services.Reviewed(**{**values, **changes})


def test_saving_a_new_draft_with_people_targets_and_the_document(app, db):
    document = store(ORIGINAL)
    case, update = services.save_review(None, document.id, _original_reviewed())
    assert update is None
    assert (case.label, case.status, case.title) == ("UA 216/06", "draft", "Fear of torture")
    (person,) = case.people
    assert person.current_status.status == "detained"
    assert person.current_status.case_id == case.id
    assert case.targets[0].salutation == "Dear Prosecutor General"
    assert (document.case_id, document.update_id) == (case.id, None)


def test_saving_twice_is_refused(app, db):
    document = store(ORIGINAL)
    services.save_review(None, document.id, _original_reviewed())
    with pytest.raises(Conflict, match="already saved with UA 216/06"):
        services.save_review(None, document.id, _original_reviewed(ua_number=217))
    assert count(db, Case) == 1


def test_a_refused_save_leaves_nothing_behind(app, db):
    document = store(ORIGINAL)
    reviewed = _original_reviewed(targets=[{"name": "A"}, {"name": "B", "email": "nope"}])
    with pytest.raises(ValidationError) as refused:
        services.save_review(None, document.id, reviewed)
    assert refused.value.field == "targets-1-email"
    # Undone at once, before the request ends: the page can be re-rendered truthfully.
    assert (count(db, Case), count(db, Target), count(db, Person)) == (0, 0, 0)
    assert document.case_id is None


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"case": {"title": ""}}, "title"),
        ({"ua_year": 1950}, "ua_year"),
        ({"people": [services.PersonEntry(name="", aliases=["x"])]}, "people-0-name"),
        ({"people": [None, services.PersonEntry(name="X", status="sentenced")]}, "people-1-on"),
        ({"save_as": "update", "ua_number": 999}, "ua_number"),
        ({"save_as": "case-99999"}, "save_as"),
        ({"save_as": "weird"}, "save_as"),
    ],
)
def test_refusals_name_the_field(app, db, changes, field):
    document = store(ORIGINAL)
    with pytest.raises(ValidationError) as refused:
        services.save_review(None, document.id, _original_reviewed(**changes))
    assert refused.value.field == field
    assert count(db, Case) == 0


def test_a_new_draft_cannot_take_the_number_of_an_existing_case(app, db):
    cases.create_case(None, {"title": "Existing"}, number=216, year=2006)
    with pytest.raises(Conflict, match="UA 216/06 already exists") as refused:
        services.save_review(None, store(ORIGINAL).id, _original_reviewed())
    assert refused.value.field == "save_as"


def test_saving_an_update_adds_aliases_statuses_and_links(app, db):
    case = ua_205_16()
    chiygoz = case.people[0]
    document = store(SEED_000)
    reviewed = services.Reviewed(
        save_as="update",
        ua_number=205,
        ua_year=2016,
        update_kind="no_further_action",
        update_title="Released",
        update_body="Both men were released.",
        people=[
            services.PersonEntry(
                name="Akhtem Chiygoz",
                person_id=chiygoz.id,
                aliases=["Akhtem Chyigoz", "AKHTEM CHIYGOZ"],
                status="released",
                note="released",
                on=date(2017, 10, 25),
            ),
            services.PersonEntry(name="Ilmi Umerov", status="released", on=date(2017, 10, 25)),
        ],
    )
    saved, update = services.save_review(None, document.id, reviewed)
    assert saved == case
    assert (update.sequence, update.kind, update.title) == (1, "no_further_action", "Released")
    # The new spelling becomes an alias; a mere change of case does not.
    assert chiygoz.spellings == ["Akhtem Chiygoz", "Akhtem Chyigoz"]
    assert cases.search_people("Chyigoz") == [chiygoz]
    assert [p.name for p in case.people] == ["Akhtem Chiygoz", "Ilmi Umerov"]
    assert {p.current_status.status for p in case.people} == {"released"}
    assert count(db, PersonStatus) == 2
    assert (document.case_id, document.update_id) == (case.id, update.id)


def test_an_update_needs_to_know_whether_action_continues(app, db):
    ua_205_16()
    reviewed = services.Reviewed(save_as="update", ua_number=205, ua_year=2016, update_body="x")
    with pytest.raises(ValidationError) as refused:
        services.save_review(None, store(SEED_000).id, reviewed)
    assert refused.value.field == "update_kind"
    assert count(db, CaseUpdate) == 0


def test_a_draft_cannot_take_an_update(app, db):
    draft = cases.create_case(None, {"title": "Draft"}, number=205, year=2016)
    reviewed = services.Reviewed(
        save_as=f"case-{draft.id}", update_kind="further_action", update_body="News."
    )
    with pytest.raises(Conflict, match="Issue the UA before"):
        services.save_review(None, store(SEED_000).id, reviewed)


def test_update_body_is_the_prose_without_the_headline(app, db):
    review = services.propose(store(SEED_000))
    body = services.update_body(review)
    assert body.startswith("Crimean Tatar leaders Ilmi Umerov and Akhtem Chiygoz, both sentenced")
    assert "CRIMEAN TATAR LEADERs released" not in body
    assert "No further action is requested from the UA network." in body


# --- housekeeping ------------------------------------------------------------------------------


def test_pending_documents_older_than_a_day_are_purged(app, db):
    from campaign.casesheets.tasks import purge_pending_documents
    from campaign.core.tasks import PERIODIC_JOBS

    assert purge_pending_documents in PERIODIC_JOBS
    old, fresh, kept = store(ORIGINAL), store(ORIGINAL), store(ORIGINAL)
    case = cases.create_case(None, {"title": "Kept"})
    kept.case_id = case.id
    old.uploaded_at = kept.uploaded_at = utcnow() - timedelta(days=1, minutes=1)
    db.session.flush()
    purge_pending_documents()
    db.session.expire_all()
    assert set(db.session.scalars(select(CaseDocument.id))) == {fresh.id, kept.id}


def test_discard_removes_only_pending_documents(app, db):
    document = store(ORIGINAL)
    services.discard(None, document)
    assert count(db, CaseDocument) == 0
    case, _ = services.save_review(None, store(ORIGINAL).id, _original_reviewed())
    (attached,) = services.documents_of(case)
    with pytest.raises(Conflict):
        services.discard(None, attached)


# --- the highlighted source ---------------------------------------------------------------------


def plain(html: str) -> str:
    """The text of our markup: its only tags are marks, and "<" in text is escaped."""
    return unescape(re.sub(r"<[^>]*>", "", html))


def test_highlight_escapes_every_piece_and_nests_overlapping_marks():
    text = "<b>Ivan</b> & Co"
    marks = [
        Mark("a", 'A "label"', "value", ((0, 8),)),
        Mark("b", "B", "person", ((3, 11), (14, 16))),
    ]
    html = str(highlight(text, marks))
    assert "<b>" not in html and "&lt;b&gt;" in html and "&amp;" in html
    assert 'title="A &#34;label&#34;"' in html
    assert plain(html) == text  # nothing lost, nothing added
    soup = BeautifulSoup(html, "html.parser")
    assert [m["id"] for m in soup.find_all("mark", id=True)] == ["src-a", "src-b", "src-b-2"]
    assert "".join(m.text for m in soup.find_all("mark", title="B")) == "Ivan</b>Co"


def test_highlight_ignores_spans_outside_the_text():
    html = str(highlight("short", [Mark("x", "X", "value", ((3, 99), (50, 60), (2, 2)))]))
    assert html == 'sho<mark class="hl hl-value" title="X" id="src-x">rt</mark>'


def test_every_proposal_span_becomes_a_mark():
    text = ORIGINAL.read_text(encoding="utf-8")
    proposal = extract(text)
    html = str(highlight(text, marks_of(proposal)))
    assert plain(html) == text
    soup = BeautifulSoup(html, "html.parser")
    for key in ("ua_number", "deadline", "languages", "title", "target-0", "person-0"):
        assert soup.find("mark", id=f"src-{key}") is not None, key


# --- the sheet's own dates and references ------------------------------------------------------

UPDATE_2016 = (
    Path(__file__).parent / "corpus" / "ua_205_16_second_update" / "sheet.pdf"
)  # issued 29 September 2016, new deadline 10 November 2016, index EUR 50/5055/2016


def test_an_update_of_a_historic_ua_issued_here_today_is_not_refused(app, db):
    """Issue #19: the UA was imported and issued here today; its 2016 update's deadline
    was refused as lying "before the UA was issued"."""
    case = ua_205_16()
    assert case.issued_at.date() == cases.org_today()
    document = services.store_upload(None, UPDATE_2016.read_bytes(), "update.pdf")
    proposal = services.propose(document).proposal
    assert proposal.issue_date.value == "2016-09-29"
    assert proposal.index_reference.value == "EUR 50/5055/2016"
    reviewed = services.Reviewed(
        save_as="update",
        ua_number=205,
        ua_year=2016,
        update_kind="further_action",
        update_body="Akhtem Chiygoz was sentenced.",
        new_deadline=date.fromisoformat(proposal.deadline.value),
        issued_on=date.fromisoformat(proposal.issue_date.value),
        update_index_reference=proposal.index_reference.value,
    )
    saved, update = services.save_review(None, document.id, reviewed)
    assert saved.issued_at.date() == date(2016, 9, 29)
    assert update.new_deadline == date(2016, 11, 10)
    assert update.issued_at.date() == date(2016, 9, 29)
    assert update.index_reference == "EUR 50/5055/2016"
    assert document.issued_on == date(2016, 9, 29)


def test_an_update_index_reference_that_is_not_one_is_refused_at_its_field(app, db):
    ua_205_16()
    document = store(SEED_000)
    reviewed = services.Reviewed(
        save_as="update",
        ua_number=205,
        ua_year=2016,
        update_kind="no_further_action",
        update_body="Released.",
        update_index_reference="see the website",
    )
    with pytest.raises(ValidationError) as refused:
        services.save_review(None, document.id, reviewed)
    assert refused.value.field == "index_reference"
    assert db.session.get(CaseDocument, document.id).is_pending


def test_an_issue_date_in_the_future_is_refused(app, db):
    document = store(ORIGINAL)
    reviewed = services.Reviewed(
        save_as="new", case={"title": "T"}, issued_on=cases.org_today() + timedelta(days=2)
    )
    with pytest.raises(ValidationError) as refused:
        services.save_review(None, document.id, reviewed)
    assert refused.value.field == "issued_on"
