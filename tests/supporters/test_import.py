"""Importing files: bad files write nothing; rows are reported; re-runs are no-ops."""

import codecs
import csv
import io
import threading
from pathlib import Path

import pytest
from sqlalchemy import func, select

from campaign.core.errors import Conflict, ValidationError
from campaign.core.models import StoredFile
from campaign.supporters import imports, services
from campaign.supporters.imports.postgres import PostgresWriter
from campaign.supporters.imports.rows import RowReader, RowRejected
from campaign.supporters.imports.sqlite import SqliteWriter
from campaign.supporters.imports.stream import BATCH
from campaign.supporters.imports.writer import Writer
from campaign.supporters.models import ConsentEvent, ImportJob, ListMember, Supporter
from tests.supporters.conftest import fail_the_second_write

# The importer writes on a thread and connection of its own.
pytestmark = pytest.mark.commits

HEADER = "Email,First name,Last name,Language,Country,City,Interests\n"


def write(tmp_path, text: str | bytes, name="people.csv", encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode(encoding))
    return path


def run(db, path, *, dry_run=False, policy="keep", list_id=None, encoding=None, source="test form"):
    job = imports.from_path(None, path, encoding)
    imports.configure(
        None, job, mapping=job.mapping, consent_source=source, list_id=list_id,
        policy=policy, dry_run=dry_run,
    )  # fmt: skip
    db.session.commit()
    counts = imports.execute(job)
    db.session.commit()
    return job, counts


def count(db, model=Supporter):
    return db.session.scalar(select(func.count()).select_from(model))


def rejections(job) -> list[dict]:
    text = b"".join(imports.report_chunks(job) or ()).decode("utf-8")
    return list(csv.DictReader(io.StringIO(text)))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"\n\n  \n", "empty"),
        (b"Name,City\nAna,Sevilla\n", "no email column"),
        (b"Email,Name,email\na@example.org,A,b@example.org\n", "appears twice"),
        (HEADER.encode() + b"a@example.org,Ana\x00\x01\x02,,,,,\n", "binary"),
        (b"PK\x03\x04\x14\x00\x06\x00" + bytes(range(256)) * 10, "binary"),
        (HEADER.encode() + b"a@example.org," + b"x" * (10 * 1024 * 1024) + b"\n", "longer than"),
    ],
    ids=["empty", "blank", "no-email", "dup-header", "nul", "zip", "10mb-line"],
)
def test_bad_files_are_refused_clearly_and_write_nothing(app, db, tmp_path, content, message):
    path = write(tmp_path, content)
    with pytest.raises(ValidationError, match=message) as caught:
        run(db, path)
    assert caught.value.field in ("file", "mapping")
    db.session.rollback()
    assert count(db) == 0 and count(db, ImportJob) == 0


def test_a_broken_declared_encoding_is_refused(app, db, tmp_path):
    path = write(tmp_path, HEADER + "a@example.org,José,,,,,\n", encoding="cp1252")
    with pytest.raises(ValidationError, match="not valid UTF-8"):
        run(db, path, encoding="utf-8")
    db.session.rollback()
    assert count(db) == 0


@pytest.mark.parametrize(
    ("encoding", "bom"),
    [("utf-8", b""), ("utf-8", codecs.BOM_UTF8), ("utf-16", b""), ("cp1252", b"")],
)
def test_encodings_are_detected(app, db, tmp_path, encoding, bom):
    text = HEADER.replace(",", ";") + "jose@example.org;José;Muñoz;es;ES;Sevilla;Europe\n"
    if encoding == "cp1252":
        text = text.replace("Sevilla", "Sevilla “centro”")
    path = write(tmp_path, bom + text.encode(encoding))
    job, counts = run(db, path)
    assert counts.created == 1, job.error
    supporter = db.session.scalar(select(Supporter))
    assert (supporter.first_name, supporter.last_name, supporter.interests) == (
        "José",
        "Muñoz",
        ["europe"],
    )
    assert supporter.city.startswith("Sevilla")
    assert bool(job.warnings) == (encoding == "cp1252")


def test_rows_are_validated_and_every_rejection_is_reported(app, db, tmp_path):
    path = write(
        tmp_path,
        HEADER
        + "ok@example.org,Ok,,en,GB,,\n"
        + "broken.example.org,No,,en,GB,,\n"
        + ",Empty,,,,,\n"
        + "lang@example.org,Lang,,klingon,GB,,\n"
        + "land@example.org,Land,,en,Atlantis,,\n"
        + "cats@example.org,Cats,,en,GB,,cats\n"
        + "=cmd|' /C calc'!A0@example.org,Formula,,,,,\n"
        + "short@example.org\n",
    )
    job, counts = run(db, path)
    assert (counts.rows, counts.created, counts.rejected) == (8, 2, 6)
    report = rejections(job)
    assert [(r["row"], r["column"]) for r in report] == [
        ("3", "Email"), ("4", "Email"), ("5", "Language"), ("6", "Country"), ("7", "Interests"),
        ("8", "Email"),
    ]  # fmt: skip
    assert "klingon" in report[2]["reason"] and "Atlantis" in report[3]["reason"]
    assert report[5]["value"].startswith("'=")  # spreadsheet-safe report
    assert set(db.session.scalars(select(Supporter.email))) == {
        "ok@example.org",
        "short@example.org",
    }
    short = db.session.scalar(select(Supporter).where(Supporter.email == "short@example.org"))
    assert (short.language, short.state) == ("en", "subscribed")


def test_new_supporters_get_a_consent_event_naming_the_source(app, db, tmp_path):
    job, _ = run(
        db, write(tmp_path, HEADER + "a@example.org,A,,,GB,,\n"), source="Pride stall 2025"
    )
    event = db.session.scalar(select(ConsentEvent))
    assert (event.old_state, event.new_state, event.source) == (
        None,
        "subscribed",
        "Pride stall 2025",
    )
    assert str(job.id) in event.detail
    assert db.session.scalar(select(Supporter)).timezone == "Europe/London"


def test_the_consent_source_is_required(app, db, tmp_path):
    job = imports.from_path(None, write(tmp_path, HEADER + "a@example.org,,,,,,\n"))
    with pytest.raises(ValidationError) as caught:
        imports.configure(None, job, mapping=job.mapping, consent_source="  ")
    assert caught.value.field == "consent_source"


def test_a_dry_run_counts_and_previews_but_writes_nothing(app, db, tmp_path):
    path = write(
        tmp_path,
        HEADER + "a@example.org,A,,,,,\nb@example.org,B,,,,,\na@EXAMPLE.org,A2,,,,,\nbad,,,,,,\n",
    )
    job, counts = run(db, path, dry_run=True)
    assert (counts.created, counts.duplicates, counts.rejected) == (2, 1, 1)
    assert [row["email"] for row in job.preview] == [
        "a@example.org",
        "b@example.org",
        "a@example.org",
    ]
    assert count(db) == 0 and count(db, ConsentEvent) == 0


@pytest.mark.parametrize("policy", ["keep", "update"])
def test_rerunning_the_same_file_changes_nothing(app, db, tmp_path, policy):
    people = BATCH + 1000
    rows = [f"p{i}@example.org,P{i},,fr,FR,,europe\n" for i in range(people)]
    rows.insert(BATCH + 500, "p1@example.org,Changed,,es,ES,,\n")  # in a later batch
    path = write(tmp_path, HEADER + "".join(rows))
    lst = services.save_list(None, None, "Petition")
    db.session.commit()
    _, first = run(db, path, policy=policy, list_id=lst.id)
    assert (first.created, first.duplicates + first.updated) == (people, 1)
    before = {
        s.email: (s.first_name, s.language, s.updated_at)
        for s in db.session.scalars(select(Supporter))
    }
    events = count(db, ConsentEvent)
    _, second = run(db, path, policy=policy, list_id=lst.id)
    assert (second.created, second.updated) == (0, 0)
    assert second.unchanged + second.duplicates == people + 1
    after = {
        s.email: (s.first_name, s.language, s.updated_at)
        for s in db.session.scalars(select(Supporter))
    }
    assert after == before and count(db, ConsentEvent) == events and count(db, ListMember) == people
    expected = ("Changed", "es") if policy == "update" else ("P1", "fr")
    assert after["p1@example.org"][:2] == expected


def test_a_rerun_under_update_keeps_what_changed_since_the_first_run(app, db, tmp_path):
    """A supporter last set by this very row of this file is not set again: the
    language a supporter chose since (or a staff correction) stays."""
    path = write(
        tmp_path, HEADER + "anna@example.org,Anna,,ru,UA,,\nboris@example.org,Boris,,ru,,,\n"
    )
    _, first = run(db, path, policy="update")
    assert first.created == 2
    anna = services.find_by_email("anna@example.org")
    services.update_preferences(anna, {"language": "uk"}, ip=None)
    db.session.commit()
    _, again = run(db, path, policy="update")
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    db.session.refresh(anna)
    assert anna.language == "uk"
    # A new file (another digest) still updates, under "update".
    other = write(tmp_path, HEADER + "anna@example.org,Anna,,ru,UA,,\n", name="other.csv")
    _, newer = run(db, other, policy="update")
    assert newer.updated == 1
    db.session.refresh(anna)
    assert anna.language == "ru"


def test_update_policy_updates_existing_fields_but_never_blanks_them(
    app, db, tmp_path, make_supporter
):
    make_supporter(email="a@example.org", first_name="Ann", city="Leeds", language="en")
    path = write(tmp_path, HEADER + "a@example.org,Anne,,fr,,,\n")
    _, keep = run(db, path, policy="keep")
    assert (keep.updated, keep.unchanged) == (0, 1)
    _, update = run(db, path, policy="update")
    assert update.updated == 1
    supporter = db.session.scalar(select(Supporter))
    db.session.refresh(supporter)
    assert (supporter.first_name, supporter.language, supporter.city) == ("Anne", "fr", "Leeds")


@pytest.mark.parametrize("state", ["unsubscribed", "bounced", "complained", "blocked", "pending"])
def test_an_import_never_changes_a_state(app, db, tmp_path, make_supporter, state):
    person = make_supporter(state=state, email="gone@example.org")
    run(db, write(tmp_path, HEADER + "gone@example.org,G,,,,,\n"), policy="update")
    db.session.refresh(person)
    assert person.state == state and len(person.consent_events) == 1


def test_an_erased_address_is_not_brought_back(app, db, tmp_path, make_supporter):
    services.erase(None, make_supporter(email="erased@example.org"))
    db.session.commit()
    job, counts = run(
        db, write(tmp_path, HEADER + "Erased@EXAMPLE.ORG,E,,,,,\nnew@example.org,,,,,,\n")
    )
    assert (counts.created, counts.rejected) == (1, 1)
    assert "erased" in rejections(job)[0]["reason"]
    assert services.find_by_email("erased@example.org") is None


def test_an_interrupted_import_can_be_run_again(app, db, tmp_path, monkeypatch):
    total = 2 * BATCH + 500
    path = write(tmp_path, HEADER + "".join(f"p{i}@example.org,,,,,,\n" for i in range(total)))
    original = fail_the_second_write(monkeypatch)
    with pytest.raises(OSError):
        run(db, path)
    failed = db.session.scalar(select(ImportJob))
    assert failed.state == "failed" and "Run it again" in failed.error
    assert count(db) == BATCH  # the first batch was committed
    monkeypatch.setattr(Writer, "write", original)
    _, counts = run(db, path)
    assert (counts.created, counts.unchanged) == (total - BATCH, BATCH)
    assert count(db) == total and count(db, ConsentEvent) == total


@pytest.mark.parametrize("total", [2 * BATCH + 500, 2 * BATCH])
def test_a_writer_that_fails_with_the_next_batch_taken_early_ends_the_import(
    app, db, tmp_path, monkeypatch, total
):
    """The writer takes the next item off the queue right before a batch's long
    statement (Writer._make_room): a failure after that, with a batch or the end of
    the file taken, still ends the import with its error, and a second run finishes it."""
    path = write(tmp_path, HEADER + "".join(f"p{i}@example.org,,,,,,\n" for i in range(total)))
    original, taken = Writer._make_room, []

    def make_room_then_fail(self):
        original(self)
        taken.append(self.ahead)
        if len(taken) == 2:
            raise OSError("disk gone")

    monkeypatch.setattr(Writer, "_make_room", make_room_then_fail)
    outcome = []

    def import_it():
        with app.app_context():
            try:
                run(db, path)
            except OSError as error:
                outcome.append(error)

    thread = threading.Thread(target=import_it, daemon=True)
    thread.start()
    thread.join(60)
    assert not thread.is_alive(), "the import hung behind its failed writer"
    assert [str(error) for error in outcome] == ["disk gone"]
    assert (taken[1] is None) == (total == 2 * BATCH)  # the end of the file, or a batch
    failed = db.session.scalar(select(ImportJob).order_by(ImportJob.id.desc()))
    assert failed.state == "failed" and count(db) == BATCH
    monkeypatch.setattr(Writer, "_make_room", original)
    _, counts = run(db, path)
    assert (counts.created, counts.unchanged) == (total - BATCH, BATCH)
    assert count(db) == total and count(db, ConsentEvent) == total


def test_after_the_writer_failed_the_next_batch_is_refused_with_its_error(app, db, tmp_path):
    # Which call surfaces a failed write, the next ``put`` or ``finish``, depends on
    # when the thread fails (test_an_interrupted_import_can_be_run_again sees either):
    # the reader must not queue more batches behind a dead writer.
    from campaign.supporters.imports.stream import writer_for

    job = imports.from_path(None, write(tmp_path, HEADER + "a@example.org,,,,,,\n"), None)
    db.session.commit()
    writer = writer_for(job, "digest")
    writer.error = OSError("disk full")
    with pytest.raises(OSError, match="disk full"):
        writer.put([], rows=1, rejected=0, position=1, chunks=[b"chunk"])
    assert writer.queue.empty()


def test_the_command_line_prints_a_summary(app, db, tmp_path):
    path = write(tmp_path, HEADER + "a@example.org,,,,,,\nbad,,,,,,\n")
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["supporters", "import", str(path), "--list", "Stall", "--consent-source", "stall"]
    )
    assert result.exit_code == 0, result.output
    assert (
        "2 rows: 1 created, 0 updated, 0 unchanged, 0 duplicates merged, 1 rejected."
        in result.output
    )
    assert services.list_by_name("Stall") is not None
    again = runner.invoke(args=["supporters", "import", str(path), "--dry-run"])
    assert "0 would be created" in again.output and "1 unchanged" in again.output
    empty = runner.invoke(args=["supporters", "import", str(write(tmp_path, b"", "e.csv"))])
    assert empty.exit_code == 1 and "empty" in empty.output


def test_staff_import_through_the_ui(app, db, login, eager):
    client = login("campaigner")
    data = {
        "file": (io.BytesIO((HEADER + "ui@example.org,Ui,,,,,\n").encode()), "ui.csv"),
        "encoding": "",
    }
    upload = client.post("/supporters/imports", data=data, content_type="multipart/form-data")
    assert upload.status_code == 302
    job_url = upload.headers["Location"]
    page = client.get(job_url).get_data(as_text=True)
    assert '<option selected value="Email">' in page  # the columns were mapped by name
    form = {f"map_{k}": v for k, v in {"email": "Email", "first_name": "First name"}.items()}
    dry = client.post(
        job_url,
        data={**form, "consent_source": "web form", "policy": "keep", "list_id": 0, "mode": "dry"},
    )
    assert dry.status_code == 302
    shown = client.get(job_url).get_data(as_text=True)
    assert "Would create" in shown and "ui@example.org" in shown and count(db) == 0
    real = client.post(job_url + "/run")
    assert real.status_code == 302
    assert services.find_by_email("ui@example.org").first_name == "Ui"
    bad = client.post(
        "/supporters/imports",
        data={"file": (io.BytesIO(b""), "empty.csv"), "encoding": ""},
        content_type="multipart/form-data",
    )
    assert bad.status_code == 422 and "The file is empty" in bad.get_data(as_text=True)
    # The next upload remembers the mapping chosen last time.
    assert imports.last_mapping()["first_name"] == "First name"


def test_a_failed_job_can_be_run_again_and_a_dry_run_for_real(app, db, tmp_path, monkeypatch):
    path = write(tmp_path, HEADER + "a@example.org,,,,,,\n")
    monkeypatch.setattr(Writer, "write", lambda *a: (_ for _ in ()).throw(OSError("x")))
    with pytest.raises(OSError):
        run(db, path, dry_run=True)
    monkeypatch.undo()
    job = db.session.scalar(select(ImportJob))
    with pytest.raises(Conflict):  # only a failed import or a finished dry run
        imports.run_again(None, ImportJob(state="running", path=str(path), dry_run=False))
    imports.run_again(None, job)
    db.session.commit()
    imports.execute(job)
    assert (job.state, job.dry_run, job.created, count(db)) == ("done", True, 1, 0)
    imports.run_again(None, job)
    db.session.commit()
    imports.execute(job)
    assert (job.state, job.dry_run, count(db)) == ("done", False, 1)


@pytest.mark.parametrize("dry_run", [False, True], ids=["real", "dry"])
def test_a_row_with_more_cells_than_the_header_is_rejected(app, db, tmp_path, dry_run):
    # City and time zone are not mapped: before, they read the overflow cell
    # ("US"), and the time zone's rejection crashed the whole import.
    path = write(
        tmp_path,
        "Email,First name,Last name,Country\n"
        "a@example.org,Ann,Smith,GB\n"
        "b@example.org,Bob,Smith, Jr.,US\n"  # an unquoted comma: five cells
        "c@example.org,Cy,,FR,,, \n"  # trailing empty cells: harmless
        'd@example.org,Di,"Smith, Jr.",DE\n',
    )
    job, counts = run(db, path, dry_run=dry_run)
    assert job.state == "done", job.error
    assert (counts.rows, counts.created, counts.rejected) == (4, 3, 1)
    [report] = rejections(job)
    assert (report["row"], report["column"], report["value"]) == ("3", "whole row", "US")
    assert "5 cells, the header has 4" in report["reason"]
    assert "unquoted comma" in report["reason"]
    if dry_run:
        assert count(db) == 0
        return
    people = {s.email: s for s in db.session.scalars(select(Supporter))}
    assert set(people) == {"a@example.org", "c@example.org", "d@example.org"}
    assert (people["c@example.org"].city, people["c@example.org"].timezone) == ("", "Europe/Paris")
    assert people["d@example.org"].last_name == "Smith, Jr."


def test_an_over_long_row_never_escapes_as_a_key_error():
    reader = RowReader(["Email", "Land"], {"email": "Email", "country": "Land"}, ";")
    with pytest.raises(RowRejected) as caught:
        reader.read(["a@example.org", "GB", "Europe/Nowhere"], 2)
    assert "3 cells, the header has 2" in caught.value.reason
    assert "unquoted semicolon" in caught.value.reason
    row = reader.read(["a@example.org", "GB", "", " "], 2)
    assert (row.country, row.city, row.timezone) == ("GB", "", None)


def test_an_address_erased_during_an_import_is_not_created_again(
    app, db, tmp_path, make_supporter, monkeypatch
):
    gone = make_supporter(email="gone@example.org")
    people = [f"p{i}@example.org,,,,,,\n" for i in range(BATCH)]
    path = write(
        tmp_path, HEADER + "".join(people) + "new@example.org,,,,,,\nGone@example.org,G,,,,,\n"
    )
    original = Writer.consume

    def erase_after_the_first_batch(self, items):
        def hooked():
            for number, item in enumerate(items):
                if number == 1:  # the first batch is committed; the second not yet read
                    with app.app_context():
                        services.erase(None, services.find_by_email("gone@example.org"))
                        db.session.commit()
                yield item

        return original(self, hooked())

    monkeypatch.setattr(Writer, "consume", erase_after_the_first_batch)
    gone_id = gone.id
    job, counts = run(db, path)
    assert (counts.created, counts.rejected) == (BATCH + 1, 1)
    [report] = rejections(job)
    assert report["row"] == str(BATCH + 3) and "erased" in report["reason"]
    assert services.find_by_email("gone@example.org") is None
    assert db.session.get(Supporter, gone_id) is None


def test_an_address_created_between_lookup_and_insert_is_merged(
    app, db, tmp_path, make_supporter, monkeypatch
):
    person = make_supporter(email="race@example.org", first_name="Ra", city="Leeds")
    members = services.save_list(None, None, "Petition")
    db.session.commit()
    dialect = PostgresWriter if db.engine.dialect.name == "postgresql" else SqliteWriter
    init, lookup = Writer.__init__, dialect._existing

    def look_up_first(self, *args):
        init(self, *args)
        self.lookup_first = True  # as after a batch of mostly known addresses

    def lookup_before_the_sign_up(self, emails):
        found = lookup(self, emails)
        if "new@example.org" in emails:  # the batch's lookup: the sign-up came just after it
            found.pop("race@example.org", None)
        return found

    monkeypatch.setattr(Writer, "__init__", look_up_first)
    monkeypatch.setattr(dialect, "_existing", lookup_before_the_sign_up)
    path = write(tmp_path, HEADER + "race@example.org,Rachel,,fr,,,\nnew@example.org,N,,,,,\n")
    _, counts = run(db, path, policy="update", list_id=members.id)
    assert (counts.created, counts.updated, counts.unchanged) == (1, 1, 0)
    db.session.refresh(person)
    assert (person.first_name, person.language, person.city) == ("Rachel", "fr", "Leeds")
    listed = set(db.session.scalars(select(ListMember.supporter_id)))
    assert person.id in listed and len(listed) == 2


UTF16_TEXT = HEADER + "ann@example.org,Änn,Боб,,UA,Київ,\nbob@example.org,Bob,,,,,\n"


@pytest.mark.parametrize("order", ["utf-16-le", "utf-16-be"])
@pytest.mark.parametrize("chosen", ["utf-16", None], ids=["chosen", "detected"])
def test_utf16_without_a_byte_order_mark_imports_on_the_command_line(
    app, db, tmp_path, order, chosen
):
    path = write(tmp_path, UTF16_TEXT.encode(order))
    args = ["supporters", "import", str(path), "--consent-source", "stall"]
    result = app.test_cli_runner().invoke(args=args + (["--encoding", chosen] if chosen else []))
    assert result.exit_code == 0, result.output
    assert "2 rows: 2 created" in result.output
    ann = services.find_by_email("ann@example.org")
    assert (ann.first_name, ann.last_name, ann.city) == ("Änn", "Боб", "Київ")


@pytest.mark.parametrize("chosen", ["utf-16", ""], ids=["chosen", "detected"])
def test_utf16_without_a_byte_order_mark_uploads(app, db, login, chosen):
    client = login("campaigner")
    data = {"file": (io.BytesIO(UTF16_TEXT.encode("utf-16-le")), "u.csv"), "encoding": chosen}
    upload = client.post("/supporters/imports", data=data, content_type="multipart/form-data")
    assert upload.status_code == 302, upload.get_data(as_text=True)
    assert db.session.scalar(select(ImportJob)).headers[:2] == ["Email", "First name"]


@pytest.mark.parametrize(
    ("content", "chosen", "message"),
    [
        (HEADER.encode() + b"a@example.org,,,,,,\n", "utf-16", "not UTF-16"),
        (b"PK\x03\x04\x14\x00\x06\x00" + bytes(range(256)) * 10, "", "binary"),
        (HEADER.encode("cp1252") + "é@example.org,É,,,,,\n".encode("cp1252"), "utf-8", "UTF-8"),
    ],
    ids=["utf8-as-utf16", "zip", "cp1252-as-utf8"],
)
def test_a_refused_upload_leaves_nothing_behind(app, db, login, content, chosen, message):
    client = login("campaigner")
    data = {"file": (io.BytesIO(content), "bad.csv"), "encoding": chosen}
    upload = client.post("/supporters/imports", data=data, content_type="multipart/form-data")
    assert upload.status_code == 422 and message in upload.get_data(as_text=True)
    assert count(db, ImportJob) == 0 and count(db, StoredFile) == 0
    leftovers = list(Path(app.instance_path).rglob("*.csv"))
    assert leftovers == []


def test_an_erasure_holds_for_every_form_of_the_mailbox(app, db, tmp_path, make_supporter):
    """The erasure digest is of models.email_key, the identity of a mailbox: case
    folded ("STRASSE" is "Straße"), the domain in IDNA form. It was of the address
    lower-cased, so these came back as new supporters."""
    services.erase(None, make_supporter(email=services.normalise_email("Straße@bücher.example")))
    db.session.commit()
    assert services.is_erased("STRASSE@xn--bcher-kva.example")
    assert services.is_erased("strasse@BÜCHER.example")
    job, counts = run(
        db,
        write(tmp_path, HEADER + "STRASSE@BÜCHER.example,E,,,,,\nnew@example.org,,,,,,\n"),
    )
    assert (counts.created, counts.rejected) == (1, 1)
    assert "erased" in rejections(job)[0]["reason"]
    assert services.find_by_email("strasse@xn--bcher-kva.example") is None


def test_an_erasure_kept_before_the_identity_key_still_holds(app, db, tmp_path):
    """Rows kept before 2026-12-07 hold the digest of the address lower-cased;
    a digest cannot be recomputed, so the checks also try that form: the address
    as erased is still refused (its other case variants are not: see
    models.SuppressedAddress)."""
    import hashlib
    import hmac

    from campaign.supporters.models import SuppressedAddress

    secret = (app.config["SUPPRESSION_KEY"] or app.config["SECRET_KEY"]).encode()
    legacy = hmac.digest(secret, "weiß@example.org".encode(), hashlib.sha256).hex()
    db.session.add(SuppressedAddress(digest=legacy, reason="erased"))
    db.session.commit()
    assert services.is_erased("Weiß@example.org")
    job, counts = run(db, write(tmp_path, HEADER + "WEIß@example.org,E,,,,,\n"))
    assert (counts.created, counts.rejected) == (0, 1)
    assert "erased" in rejections(job)[0]["reason"]


def test_the_rejection_report_goes_to_the_database_as_it_is_produced(
    app, db, tmp_path, monkeypatch
):
    """The report is never spooled whole (in memory or on disk): each full chunk
    goes with the next batch, or on its own, to the writer's transaction, and the
    reader holds at most one chunk. Chunks of 1 KB here, to see them go."""
    from campaign.core import storage

    monkeypatch.setattr(storage, "CHUNK", 1024)
    handed: list[int] = []
    real_put = Writer.put

    def put(self, batch, rows, rejected, position, chunks=()):
        handed.append(len(chunks))
        return real_put(self, batch, rows, rejected, position, chunks)

    held: list[int] = []
    real_write = storage.ChunkWriter.write

    def chunk_write(self, data):
        real_write(self, data)
        held.append(len(self.buffer))

    monkeypatch.setattr(Writer, "put", put)
    monkeypatch.setattr(storage.ChunkWriter, "write", chunk_write)
    monkeypatch.setattr(storage, "spooled", None)  # no temporary file for the report
    bad = "".join(f"not-an-address-{i},X,,,,,\n" for i in range(2000))
    job, counts = run(db, write(tmp_path, HEADER + bad + "ok@example.org,,,,,,\n"))
    assert (counts.created, counts.rejected) == (1, 2000)
    assert sum(handed) >= 50 and len([n for n in handed if n]) >= 50  # along the way
    assert max(held) < 1024
    report = rejections(job)
    assert len(report) == 2000 and report[-1]["value"] == "not-an-address-1999"
    stored = db.session.get(StoredFile, job.report_id)
    assert stored.size == sum(len(c) for c in imports.report_chunks(job))


def test_the_report_of_a_run_in_progress_is_not_given_out(app, db, login, tmp_path):
    """The report grows batch by batch while a run writes it: neither the page's link
    nor the CLI gives out a partial one; once the job is done both do."""
    job, _counts = run(db, write(tmp_path, HEADER + "bad,,,,,,\nok@example.org,,,,,,\n"))
    client = login("campaigner")
    url = f"/supporters/imports/{job.id}/rejected.csv"
    assert client.get(url).status_code == 200 and imports.report_file(job) == job.report_id
    job.state = "running"  # as while a run (again) writes it
    db.session.commit()
    assert imports.report_file(job) is None and imports.report_chunks(job) is None
    assert client.get(url).status_code == 404
