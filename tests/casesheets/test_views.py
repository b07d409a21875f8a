"""The staff UI of the import: upload, review beside the source, correct, save.

The review form is read back from the rendered page and posted the way a browser
would post it, so these tests prove that the pre-filled proposal round-trips.
"""

from __future__ import annotations

import io
import zipfile
from datetime import date
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from campaign.audit.models import AuditEvent
from campaign.cases import services as cases
from campaign.cases.models import Case, Person, PersonStatus, Target
from campaign.casesheets.models import CaseDocument
from campaign.core import storage

SAMPLES = Path(__file__).parent / "samples"
SEEDS = Path(__file__).resolve().parents[3] / "shared" / "seeds"


def stored_bytes(document) -> bytes:
    return b"".join(storage.open_chunks(document.file_id))


def seed(prefix: str) -> Path:
    """The shared seed file itself when present, else the identical copy in samples."""
    found = sorted(SEEDS.glob(f"{prefix}_*.txt")) if SEEDS.is_dir() else []
    copies = {"000": "seed_000_ua_205_16_third_update.txt", "004": "seed_004_kuku_outcome.txt"}
    return found[0] if found else SAMPLES / copies[prefix]


def upload(client, data: bytes, filename: str):
    # Encoded in memory: the test client spools big bodies to a temporary file that
    # it never closes, which the warnings-as-errors setting would report.
    boundary, body = encode_multipart({"file": FileStorage(io.BytesIO(data), filename)})
    return client.post(
        "/casesheets/import", data=body, content_type=f"multipart/form-data; boundary={boundary}"
    )


def upload_ok(client, path: Path) -> str:
    response = upload(client, path.read_bytes(), path.name)
    assert response.status_code == 302, response.get_data(as_text=True)
    assert "/review" in response.headers["Location"]
    return response.headers["Location"]


def form_fields(html: str) -> dict[str, str]:
    """What a browser would send for the review form, unchanged."""
    form = BeautifulSoup(html, "html.parser").find("form", class_="review-form")
    data: dict[str, str] = {}
    for element in form.find_all(["input", "textarea", "select"]):
        name = element.get("name")
        if not name:
            continue
        if element.name == "textarea":
            data[name] = element.text.removeprefix("\r\n").removeprefix("\n")
        elif element.name == "select":
            chosen = element.find("option", selected=True) or element.find("option")
            data[name] = chosen.get("value", "") if chosen else ""
        elif element.get("type") in ("checkbox", "radio"):
            if element.has_attr("checked"):
                data[name] = element.get("value", "y")
        else:
            data[name] = element.get("value", "")
    return data


def row_of(data: dict, prefix: str, key: str, value: str) -> str:
    """The form prefix ("people-1") of the row whose field ``key`` holds ``value``."""
    for name, held in data.items():
        if name.startswith(prefix + "-") and name.endswith(f"-{key}") and held == value:
            return name.rsplit("-", 1)[0]
    raise AssertionError(f"no {prefix} row with {key}={value!r}")


def count(db, model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def demo(app, db):
    from campaign.demo import load

    load(supporters=5)
    db.session.commit()
    return cases.find_case(205, 2016)


# --- seed 000: the third update of UA 205/16 after `flask demo` ---------------------------


def test_seed_000_becomes_an_update_of_ua_205_16_matching_chyigoz(app, db, login, demo):
    client = login("campaigner")
    before_updates = len(demo.updates)
    people_before = count(db, Person)
    review_url = upload_ok(client, seed("000"))
    assert count(db, CaseDocument) == 1  # pending, not part of any case yet
    assert db.session.scalar(select(CaseDocument)).case_id is None

    page = client.get(review_url)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    soup = BeautifulSoup(html, "html.parser")
    assert "Third update of UA 205/16" in soup.find("h1").text
    assert "it is proposed as an update of that UA" in html
    assert "UA 205/16 already has its third update" in html
    # Side by side: the source, with the fields marked where they came from.
    source = soup.find("pre", class_="source")
    assert source.find("mark", id="src-ua_number").text == "205"
    assert source.find("mark", id="src-further_action").text == "No further action is requested"
    assert source.find("mark", id="src-index_reference").text == "eur50/7271/2017"
    chiygoz_marks = [m.text for m in source.find_all("mark", title="Person: Akhtem Chiygoz")]
    assert "Akhtem Chyigoz" in chiygoz_marks
    # Fields the sheet lacks are marked, not guessed.
    deadline_box = soup.find("input", id="deadline").find_parent("div", class_="notfound")
    assert "Not found in the document" in deadline_box.text

    data = form_fields(html)
    assert data["save_as"] == "update"
    assert (data["ua_number"], data["ua_year"]) == ("205", "2016")
    assert data["update_kind"] == "no_further_action"
    assert data["index_reference"] == "EUR 50/7271/2017"
    chiygoz = cases.search_people("Chiygoz")[0]
    row = row_of(data, "people", "name", "Akhtem Chiygoz")
    assert data[f"{row}-person_id"] == str(chiygoz.id)  # matched through "Chyigoz" too
    assert data[f"{row}-aliases"] == "Akhtem Chyigoz"
    assert data[f"{row}-status"] == ""  # "released" is already his current status
    umerov_row = row_of(data, "people", "name", "Ilmi Umerov")
    # Staff correct the proposal: a headline, and Umerov's status recorded after all.
    data["title"] = "Crimean Tatar leaders released and exiled"
    data[f"{umerov_row}-status"] = "exiled"
    data[f"{umerov_row}-note"] = "flown to Turkey, cannot return to Crimea"
    data[f"{umerov_row}-on"] = "2017-10-25"

    # Campaigners draft the news; a coordinator issues the update (README's roles).
    refused = client.post(review_url, data=data)
    assert refused.status_code == 422
    assert "Only a coordinator can issue an update." in refused.get_data(as_text=True)
    db.session.expire_all()
    assert len(cases.find_case(205, 2016).updates) == before_updates

    saved = login("coordinator").post(review_url, data=data)
    assert saved.status_code == 302, saved.get_data(as_text=True)
    db.session.expire_all()
    case = cases.find_case(205, 2016)
    assert saved.headers["Location"].endswith(f"/cases/{case.id}#update-4")
    assert len(case.updates) == before_updates + 1
    update = case.updates[-1]
    assert (update.kind, update.title) == ("no_further_action", data["title"])
    assert "Many thanks to all who sent appeals" in update.body
    assert count(db, Person) == people_before  # matched, no duplicate people
    umerov = cases.search_people("Umerov")[0]
    assert umerov.current_status.status == "exiled"
    assert umerov.current_status.on == date(2017, 10, 25)
    assert umerov.current_status.case_id == case.id
    document = db.session.scalar(select(CaseDocument))
    assert (document.case_id, document.update_id) == (case.id, update.id)
    assert stored_bytes(document) == seed("000").read_bytes()  # nothing of the document is lost

    shown = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "Documents" in shown and seed("000").name in shown
    download = login("viewer", "reader@example.org").get(f"/casesheets/documents/{document.id}")
    assert download.status_code == 200
    assert download.data == seed("000").read_bytes()
    assert "attachment" in download.headers["Content-Disposition"]
    # The review page of a saved document leads to its case; a second save is refused.
    assert client.get(review_url).headers["Location"].endswith(f"/cases/{case.id}")
    assert client.post(review_url, data=data).status_code == 302
    db.session.expire_all()
    assert len(cases.find_case(205, 2016).updates) == before_updates + 1


# --- seed 004: outcome, conviction upheld ---------------------------------------------------


def test_seed_004_outcome_becomes_an_update_of_the_kuku_case(app, db, login, demo):
    kuku = db.session.scalar(select(Case).where(Case.title.contains("upheld")))
    client = login("coordinator")
    review_url = upload_ok(client, seed("004"))
    html = client.get(review_url).get_data(as_text=True)
    soup = BeautifulSoup(html, "html.parser")
    assert soup.find("h1").text.strip() == (
        "A UA outcome: Conviction of prisoners of conscience upheld"
    )
    assert f"6 of the people named are on {kuku.label}" in " ".join(soup.get_text().split())
    assert soup.find("mark", id="src-outcome").text == (
        "Conviction of prisoners of conscience upheld"
    )
    further = soup.find("select", id="update_kind").find_parent("div", class_="notfound")
    assert "Not found in the document" in further.text  # the page does not say

    data = form_fields(html)
    assert data["save_as"] == f"case-{kuku.id}"  # suggested by the six people, not a number
    assert data["ua_number"] == ""
    assert data["update_kind"] == ""
    names = {data[k] for k in data if k.startswith("people-") and k.endswith("-name")}
    assert {"Emir-Usein Kuku", "Muslim Aliyev", "Arsen Dzhepparov"} <= names
    bekirov = row_of(data, "people", "name", "Enver Bekirov")
    assert data[f"{bekirov}-note"] == "sentenced to 18 years"
    assert all(
        data[f"{row_of(data, 'people', 'name', name)}-person_id"]
        for name in ("Emir-Usein Kuku", "Enver Bekirov", "Vadim Siruk", "Refat Alimov")
    )

    # Posting without the decision the page could not make is refused at that field.
    refused = client.post(review_url, data=data)
    assert refused.status_code == 422
    assert "Choose whether further action is requested" in refused.get_data(as_text=True)
    db.session.expire_all()
    assert len(kuku.updates) == 0 and db.session.scalar(select(CaseDocument)).case_id is None

    data["update_kind"] = "further_action"  # conviction upheld: keep writing
    saved = client.post(review_url, data=data)
    assert saved.status_code == 302, saved.get_data(as_text=True)
    db.session.expire_all()
    kuku = db.session.get(Case, kuku.id)
    (update,) = kuku.updates
    assert update.title == "Conviction of prisoners of conscience upheld"
    assert update.kind == "further_action"
    assert "Muslim Aliyev was sentenced to 19 years" in update.body
    assert len(kuku.people) == 6  # the same six, no new people
    assert db.session.scalar(select(CaseDocument)).update_id == update.id


# --- an original case sheet becomes a complete draft ----------------------------------------


def test_original_sheet_becomes_a_complete_draft_with_targets(app, db, login):
    client = login("coordinator")  # the sheet carries its UA number: coordinators set numbers
    review_url = upload_ok(client, SAMPLES / "ua_216_06_original.txt")
    html = client.get(review_url).get_data(as_text=True)
    soup = BeautifulSoup(html, "html.parser")
    assert soup.find("h1").text.strip() == "An original case sheet: UA 216/06"
    assert soup.find("mark", id="src-deadline").text == "BEFORE 27 SEPTEMBER 2019"
    assert soup.find("mark", id="src-target-0").text.startswith("Prosecutor General\n")
    assert "Not found in the document" not in html

    data = form_fields(html)
    assert data["save_as"] == "new"
    assert data["deadline"] == "2019-09-27"
    assert data["languages"] == "ru, en"
    assert data["targets-0-salutation"] == "Dear Prosecutor General"
    assert data["targets-2-is_copy"] == "y"
    assert data["country_code"] == "RU"  # "Russian Federation" on the first line
    assert data["issued_on"] == "2006-07-20"
    assert data["people-0-on"] == "2006-07-18"  # "detained ... on 18 July 2006", not today
    data["targets-1-email"] = "sledcom@example.ru"  # a correction

    saved = client.post(review_url, data=data)
    assert saved.status_code == 302, saved.get_data(as_text=True)
    db.session.expire_all()
    case = cases.find_case(216, 2006)
    assert saved.headers["Location"].endswith(f"/cases/{case.id}")
    assert case.status == "draft"
    assert case.title == "FEAR OF TORTURE AND ILL-TREATMENT / PRISONERS OF CONSCIENCE"
    assert (case.country_code, case.index_reference) == ("RU", "EUR 46/012/2006")
    assert case.deadline == date(2019, 9, 27)
    assert case.languages == ["ru", "en"]
    assert case.summary.startswith("Human rights defender Natalia Estemirovich")
    assert case.background.startswith("Human rights defenders and journalists")
    assert case.recommended_actions.count("\n") == 2
    assert [p.name for p in case.people] == ["Natalia Estemirovich", "Ruslan Example"]
    assert case.people[0].current_status.status == "detained"
    targets = {t.name: t for t in case.targets}
    assert set(targets) == {
        "Yury Yakovlevich Chaika",
        "Aleksandr Ivanovich Bastrykin",
        "Tatiana Nikolaevna Moskalkova",
    }
    chaika = targets["Yury Yakovlevich Chaika"]
    assert chaika.salutation == "Dear Prosecutor General"
    assert chaika.address == "ul. B. Dmitrovka, d.15a\n125993 Moscow GSP-3\nRussian Federation"
    assert (chaika.fax, chaika.is_copy) == ("+7 495 987 58 41", False)
    assert targets["Aleksandr Ivanovich Bastrykin"].email == "sledcom@example.ru"
    assert targets["Aleksandr Ivanovich Bastrykin"].salutation == "Dear Chairman"
    assert targets["Tatiana Nikolaevna Moskalkova"].is_copy is True
    # Issuing works straight away: the draft is complete.
    cases.issue_case(None, case)
    assert case.label == "UA 216/06"


def test_a_refused_save_changes_nothing_and_shows_the_field(app, db, login):
    client = login("coordinator")  # the sheet carries its UA number: coordinators set numbers
    review_url = upload_ok(client, SAMPLES / "ua_216_06_original.txt")
    data = form_fields(client.get(review_url).get_data(as_text=True))
    data["targets-2-email"] = "not an email"  # the last thing saved: everything before it ran
    response = client.post(review_url, data=data)
    assert response.status_code == 422
    soup = BeautifulSoup(response.get_data(as_text=True), "html.parser")
    assert "Enter a valid email address." in soup.find(id="targets-2-email-error").text
    assert "Not saved" in soup.find(class_="alert-error").text
    # The page is still the proposal (not a "UA 216/06 already exists" from a half-save).
    assert "already exists" not in response.get_data(as_text=True)
    assert (count(db, Case), count(db, Target), count(db, Person)) == (0, 0, 0)
    assert count(db, PersonStatus) == 0
    assert db.session.scalar(select(CaseDocument)).case_id is None


def test_pasted_text_is_reviewed_and_kept(app, db, login):
    client = login("campaigner")
    text = (SAMPLES / "ua_219_06_further_information.txt").read_text(encoding="utf-8")
    response = client.post("/casesheets/import", data={"text": text})
    assert response.status_code == 302
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "UA 219/06" in html and "Exampleov" in html
    document = db.session.scalar(select(CaseDocument))
    assert (document.filename, document.format) == ("pasted-text.txt", "pasted")
    assert stored_bytes(document).decode("utf-8") == text


def test_hostile_text_in_the_document_is_escaped(app, db, login):
    client = login("campaigner")
    sheet = (
        "URGENT ACTION\nUA 12/21\n<script>alert(1)</script> JOURNALIST DETAINED\n"
        'Journalist Ivan Petrov was detained on 2 May. "<img src=x onerror=alert(2)>"\n'
    )
    review_url = upload_ok_bytes(client, sheet.encode(), "x.txt")
    html = client.get(review_url).get_data(as_text=True)
    assert "<script>alert(1)" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(2)&gt;" in html


def upload_ok_bytes(client, data: bytes, filename: str) -> str:
    response = upload(client, data, filename)
    assert response.status_code == 302, response.get_data(as_text=True)
    return response.headers["Location"]


# --- hostile files are refused at the field, and nothing is stored --------------------------


def _zip_bomb() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", b"\0" * (45 * 1024 * 1024))
    return buffer.getvalue()


def _macro_docx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
        archive.writestr("word/vbaProject.bin", b"macro")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("data", "filename", "message"),
    [
        (_zip_bomb(), "bomb.docx", "zip bomb"),
        (_macro_docx(), "sheet.docx", "contains macros"),
        (b"%PDF-1.7\n1 0 obj <<", "broken.pdf", "truncated or damaged"),
        (b"PK\x03\x04broken", "broken.docx", "damaged or truncated"),
        (b"x" * (10 * 1024 * 1024 + 1), "huge.txt", "too large"),
        (b"data", "sheet.doc", "Old Word .doc files are not supported"),
        (b"", "empty.txt", "The file is empty"),
    ],
)
def test_hostile_files_are_refused_at_the_upload_field(app, db, login, data, filename, message):
    client = login("campaigner")
    events = count(db, AuditEvent)
    response = upload(client, data, filename)
    assert response.status_code == 422
    soup = BeautifulSoup(response.get_data(as_text=True), "html.parser")
    assert message in soup.find(id="file-error").text
    assert count(db, CaseDocument) == 0
    assert count(db, AuditEvent) == events


def test_nothing_given_is_refused(app, db, login):
    response = login("campaigner").post("/casesheets/import", data={"text": "  "})
    assert response.status_code == 422
    assert "Upload a case sheet or paste its text." in response.get_data(as_text=True)


def test_a_request_above_the_size_limit_gets_a_clear_413_page(app, db, login):
    assert app.config["MAX_CONTENT_LENGTH"] == 12 * 1024 * 1024
    response = upload(login("campaigner"), b"x" * (12 * 1024 * 1024 + 1), "huge.txt")
    assert response.status_code == 413
    page = response.get_data(as_text=True)
    assert "File too large" in page and "larger than 12 MB" in page
    assert count(db, CaseDocument) == 0


# --- roles, discard, the case page ---------------------------------------------------------


def test_viewers_cannot_import_and_pending_documents_are_not_downloadable(app, db, login):
    campaigner = login("campaigner")
    review_url = upload_ok(campaigner, SAMPLES / "ua_216_06_original.txt")
    document = db.session.scalar(select(CaseDocument))
    viewer = login("viewer", "viewer2@example.org")
    assert viewer.get("/casesheets/import").status_code == 403
    assert viewer.get(review_url).status_code == 403
    assert viewer.get(f"/casesheets/documents/{document.id}").status_code == 404
    assert campaigner.get("/casesheets/documents/999").status_code == 404
    assert campaigner.get("/casesheets/999/review").status_code == 404


def test_discarding_a_pending_document_deletes_it(app, db, login):
    client = login("campaigner")
    review_url = upload_ok(client, SAMPLES / "ua_216_06_original.txt")
    document_id = db.session.scalar(select(CaseDocument.id))
    response = client.post(f"/casesheets/{document_id}/discard")
    assert response.status_code == 302
    assert count(db, CaseDocument) == 0
    assert client.get(review_url).status_code == 404


def test_case_list_links_to_the_import_for_campaigners_only(app, db, login):
    assert "Import a case sheet" in login("campaigner").get("/cases/").get_data(as_text=True)
    viewer_page = login("viewer", "v3@example.org").get("/cases/").get_data(as_text=True)
    assert "Import a case sheet" not in viewer_page


def test_the_document_is_read_outside_any_transaction(app, db, login, monkeypatch):
    """Reading a big file takes a while; on SQLite an open transaction would hold the
    write lock (BEGIN IMMEDIATE) and stall every other writer meanwhile."""
    from campaign.casesheets import services

    seen = []

    def reading(data, filename):
        seen.append(db.session().in_transaction())
        return real_read(data, filename)

    real_read = services.read_document
    monkeypatch.setattr(services, "read_document", reading)
    upload_ok(login("campaigner"), SAMPLES / "ua_216_06_original.txt")
    assert seen == [False]
    assert db.session.scalar(select(CaseDocument)).uploaded_by_id is not None


def test_a_wrapped_pdf_is_reviewed_as_paragraphs_with_every_source_marked(app, db, login):
    client = login("campaigner")
    corpus = Path(__file__).parent / "corpus"
    review_url = upload_ok(client, corpus / "ua_301_09_original" / "sheet.pdf")
    html = client.get(review_url).get_data(as_text=True)
    soup = BeautifulSoup(html, "html.parser")
    source = soup.find("pre", class_="source").text
    # The headline and the language line were wrapped in the PDF; they are whole here.
    title = "STUDENT ACTIVISTS DETAINED AFTER PEACEFUL PROTEST AT UNIVERSITY OF TEHRAN"
    assert title in source.split("\n")
    assert soup.find("mark", id="src-title").text == title
    assert (
        soup.find("mark", id="src-languages").text
        == "Persian, English, French or your own language"
    )
    assert soup.find("mark", id="src-country").text == "Iran"
    assert soup.find("mark", id="src-issue_date").text == "Date: 12 November 2009"
    assert soup.find("mark", id="src-person-0-on").text == "on 3 November 2009"
    assert any("re-joined" in li.text for li in soup.select(".alert-warning li"))
    data = form_fields(html)
    assert (data["title"], data["country_code"], data["issued_on"]) == (title, "IR", "2009-11-12")
    assert data["languages"] == "fa, en, fr"
    assert data["people-0-on"] == data["people-1-on"] == "2009-11-03"
    for link in ("#src-title", "#src-country", "#src-issue_date", "#src-person-0-on"):
        assert soup.find("a", href=link) is not None, link
