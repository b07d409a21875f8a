"""Large files are read in a process of their own: the same results, reports,
progress and failure handling as reading in a thread."""

import csv

import pytest
from sqlalchemy import func, select

from campaign.supporters import importer, imports, services
from campaign.supporters.models import ConsentEvent, ImportJob, ListMember, Supporter
from tests.supporters.conftest import fail_the_second_write

# The importer reads in a process and writes on a thread and connection of its own.
pytestmark = pytest.mark.commits

HEADER = "Email,First name,Last name,Language,Country,City,Interests\n"


@pytest.fixture
def app_config(app_config):
    app_config["IMPORT_PROCESS_BYTES"] = 0  # every file counts as large
    return app_config


def rows(count: int) -> str:
    lines = [f"p{i}@Example.ORG,P{i},,fr,FR,Lyon,europe\n" for i in range(count)]
    lines.insert(10, "broken.example.org,No,,en,GB,,\n")
    lines.insert(20, "p3@example.org,Again,,,,,\n")  # a duplicate in the same batch
    lines.append("p5@example.org,Later,,,,,\n")  # and one in the last batch
    lines.append("p6@example.org,Bad,,qq,,,\n")
    return HEADER + "".join(lines)


def total(db, model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_a_large_file_is_read_in_a_process_and_imported(app, db, tmp_path, monkeypatch):
    people = importer.BATCH + 300
    path = tmp_path / "people.csv"
    path.write_text(rows(people), encoding="utf-8")
    used, seen = [], []
    original = importer._read_in_process
    monkeypatch.setattr(importer, "_read_in_process", lambda *a: used.append(1) or original(*a))
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
    assert used == [1]
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
    with open(importer.rejections_path(job), encoding="utf-8") as fh:
        reported = list(csv.DictReader(fh))
    assert [(r["row"], r["column"]) for r in reported] == [
        ("12", "Email"),
        (str(people + 5), "Language"),
    ]
    assert len(job.preview) == importer.PREVIEW_ROWS

    again = imports.from_path(None, path)
    imports.configure(None, again, mapping=again.mapping, consent_source="fair", dry_run=False)
    db.session.commit()
    counts = imports.execute(again)
    assert (counts.created, counts.updated, counts.unchanged) == (0, 0, people)


def test_a_failure_while_writing_stops_the_reading_process(app, db, tmp_path, monkeypatch):
    path = tmp_path / "people.csv"
    path.write_text(rows(2 * importer.BATCH), encoding="utf-8")
    fail_the_second_write(monkeypatch)
    job = imports.from_path(None, path)
    imports.configure(None, job, mapping=job.mapping, consent_source="fair", dry_run=False)
    db.session.commit()
    with pytest.raises(OSError):
        imports.execute(job)
    failed = db.session.scalar(select(ImportJob))
    assert failed.state == "failed" and "Run it again" in failed.error
    assert total(db, Supporter) == importer.BATCH - 1  # the first batch (one duplicate)
