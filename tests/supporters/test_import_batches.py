"""A file of several batches: results, reports, progress and failure handling
across batches (this was the test of the reading process, which is gone)."""

import csv
import io

import pytest
from sqlalchemy import func, select

from campaign.supporters import imports, services
from campaign.supporters.imports.stream import BATCH, PREVIEW_ROWS
from campaign.supporters.models import ConsentEvent, ImportJob, ListMember, Supporter
from tests.supporters.conftest import fail_the_second_write

# The importer reads in a process and writes on a thread and connection of its own.
pytestmark = pytest.mark.commits

HEADER = "Email,First name,Last name,Language,Country,City,Interests\n"


def rows(count: int) -> str:
    lines = [f"p{i}@Example.ORG,P{i},,fr,FR,Lyon,europe\n" for i in range(count)]
    lines.insert(10, "broken.example.org,No,,en,GB,,\n")
    lines.insert(20, "p3@example.org,Again,,,,,\n")  # a duplicate in the same batch
    lines.append("p5@example.org,Later,,,,,\n")  # and one in the last batch
    lines.append("p6@example.org,Bad,,qq,,,\n")
    return HEADER + "".join(lines)


def total(db, model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_a_file_of_several_batches_is_imported(app, db, tmp_path):
    people = BATCH + 300
    path = tmp_path / "people.csv"
    path.write_text(rows(people), encoding="utf-8")
    seen = []
    members = services.save_list(None, None, "Lyon")
    db.session.commit()
    job = imports.from_path(None, path)
    imports.configure(
        None, job, mapping=job.mapping, consent_source="fair", list_id=members.id,
        dry_run=False,
    )  # fmt: skip
    db.session.commit()
    counts = imports.execute(job, seen.append)
    db.session.commit()
    assert (counts.rows, counts.created, counts.duplicates, counts.rejected) == (
        people + 4,
        people,
        2,
        2,
    )
    assert total(db, Supporter) == total(db, ConsentEvent) == total(db, ListMember) == people
    first = db.session.scalar(select(Supporter).where(Supporter.email == "p3@example.org"))
    assert (first.first_name, first.language, first.timezone) == ("P3", "fr", "Europe/Paris")
    assert seen == sorted(seen) and seen[-1] == job.size
    text = b"".join(imports.report_chunks(job)).decode("utf-8")
    reported = list(csv.DictReader(io.StringIO(text)))
    assert [(r["row"], r["column"]) for r in reported] == [
        ("12", "Email"),
        (str(people + 5), "Language"),
    ]
    assert len(job.preview) == PREVIEW_ROWS

    again = imports.from_path(None, path)
    imports.configure(None, again, mapping=again.mapping, consent_source="fair", dry_run=False)
    db.session.commit()
    counts = imports.execute(again)
    assert (counts.created, counts.updated, counts.unchanged) == (0, 0, people)


def test_a_failure_while_writing_stops_the_import(app, db, tmp_path, monkeypatch):
    path = tmp_path / "people.csv"
    path.write_text(rows(2 * BATCH), encoding="utf-8")
    fail_the_second_write(monkeypatch)
    job = imports.from_path(None, path)
    imports.configure(None, job, mapping=job.mapping, consent_source="fair", dry_run=False)
    db.session.commit()
    with pytest.raises(OSError):
        imports.execute(job)
    failed = db.session.scalar(select(ImportJob))
    assert failed.state == "failed" and "Run it again" in failed.error
    assert total(db, Supporter) == BATCH - 1  # the first batch (one duplicate)
