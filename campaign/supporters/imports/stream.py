"""Running an import: the file is streamed row by row in constant memory and
validated in this thread, while a writer thread writes the previous batch
(the drivers release the GIL while the database works). At most a few
batches are in flight, so memory stays flat (docs/PERFORMANCE.md).

Re-running a file is a no-op: each supporter remembers the file digest and row
that last set its fields (``import_ref``), so a second run recognises its own
earlier writes, and an interrupted run simply continues where it stopped.
Suppressed, unsubscribed and erased addresses are never re-subscribed: an
import never changes an existing supporter's state, and erased addresses
(keyed hashes) are rejected.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from campaign.core import storage
from campaign.core.types import utcnow
from campaign.extensions import db
from campaign.supporters.imports.dedupe import Counts
from campaign.supporters.imports.files import (
    FileRefused,
    as_text,
    check_mapping,
    inspect,
    max_line_bytes,
)
from campaign.supporters.imports.postgres import PostgresWriter
from campaign.supporters.imports.rows import Row, RowReader, RowRejected
from campaign.supporters.imports.sqlite import SqliteWriter
from campaign.supporters.imports.writer import Writer
from campaign.supporters.models import ImportJob, ImportState
from campaign.supporters.services import csv_safe

BATCH = 10000
PREVIEW_ROWS = 10
_PREVIEW_FIELDS = ("email", "first_name", "last_name", "language", "country", "city", "timezone")


@contextmanager
def source_file(job: ImportJob) -> Iterator[Path]:
    """The job's file as a path on this machine: an upload is copied from the
    database into a temporary file (read twice: checked, then streamed)."""
    if job.file_id is None:
        yield Path(job.path)
        return
    if not storage.exists(job.file_id):
        raise FileRefused("The uploaded file is gone: upload it again.")
    with storage.local_copy(job.file_id, ".csv") as path:
        yield path


def report_file(job: ImportJob) -> int | None:
    """The stored file of the rejected rows, once whole; None while a run writes it
    (it grows batch by batch) and when there is no report."""
    if job.state != ImportState.DONE or not storage.exists(job.report_id):
        return None
    return job.report_id


def report_chunks(job: ImportJob) -> Iterator[bytes] | None:
    """The rejected rows as CSV bytes, chunk by chunk; None when there is no report."""
    file_id = report_file(job)
    return None if file_id is None else storage.open_chunks(file_id)


def writer_for(job: ImportJob, file_digest: str) -> Writer:
    """The writer for the database the app uses."""
    if db.engine.dialect.name == "postgresql":
        return PostgresWriter(job, file_digest)
    return SqliteWriter(job, file_digest)


def run(job: ImportJob, progress: Callable[[int], None] | None = None) -> Counts:
    """Import (or dry-run) a job's file; commits batch by batch. A real run
    removes the uploaded file at its end; the report is kept."""
    with source_file(job) as path:
        return _run(job, path, progress)


class _Utf8:
    """What csv.writer writes to: the report's chunks, in UTF-8."""

    def __init__(self, out: storage.ChunkWriter):
        self.out = out

    def write(self, text: str) -> None:
        self.out.write(text.encode("utf-8"))


def _run(job: ImportJob, path: Path, progress) -> Counts:
    found = inspect(path, job.encoding)
    mapping = check_mapping(job.mapping, found.headers)
    job.state, job.started_at, job.error = ImportState.RUNNING, utcnow(), ""
    job.warnings, job.size, job.delimiter = found.warnings, found.size, found.delimiter
    job.bytes_done = job.rows = job.created = job.updated = 0
    job.unchanged = job.duplicates = job.rejected = 0
    writer = writer_for(job, found.digest[:16])
    storage.remove(job.report_id)  # of an earlier run of this job
    # The rejection report is written to the database as it is produced: each
    # full chunk goes with the next batch, in the writer's transaction (never
    # spooled whole, in memory or on this machine's disk).
    report_file = storage.new_file(f"import-{job.id}-rejected.csv", "text/csv")
    job.report_id = report_file.id
    chunks: list = []
    report = storage.ChunkWriter(report_file.id, execute=chunks.append)
    reader = RowReader(found.headers, mapping, found.delimiter)
    # Commit, and touch the session no more until the writer is done: on
    # SQLite any new transaction here would take the lock the writer needs.
    db.session.commit()

    def emit(batch: list[Row], rows: int, rejected: int, position: int) -> None:
        writer.put(batch, rows, rejected, position, chunks)
        chunks.clear()
        if progress:
            progress(position)

    writer.start()
    try:
        rows, rejected, preview = _read(path, found.encoding, reader, report, chunks, emit)
    finally:
        writer.finish()
    counts = Counts(rows=rows, rejected=rejected)
    report.execute = db.session.execute  # the writer is done: the rest goes through the session
    for insert in chunks:  # full chunks of rejections after the last batch
        db.session.execute(insert)
    if writer.erased_rows:
        csv.writer(_Utf8(report)).writerows(writer.erased_rows)
    counts.rejected += len(writer.erased_rows)
    for name in ("created", "updated", "unchanged", "duplicates"):
        setattr(counts, name, getattr(writer.counts, name))
    db.session.refresh(job)
    report.close()
    if not job.dry_run and job.file_id is not None:
        storage.remove(job.file_id)  # imported: the upload is no longer needed
        job.file_id = None
    job.preview = preview
    job.state, job.finished_at = ImportState.DONE, utcnow()
    for name, value in counts.as_dict().items():
        setattr(job, name, value)
    job.bytes_done = found.size
    db.session.commit()
    if progress:
        progress(found.size)
    return counts


def _read(
    path: Path,
    encoding: str,
    reader: RowReader,
    report: storage.ChunkWriter,
    chunks: list,
    emit: Callable[[list[Row], int, int, int], None],
) -> tuple[int, int, list[dict]]:
    """Stream, validate and hand on the file's rows in batches; write the
    rejected ones to the report, whose full chunks (``chunks``) go with the
    next batch, or on their own when rows are rejected for a long stretch.
    Returns (rows, rejected, preview)."""
    csv.field_size_limit(max_line_bytes())
    rows = rejected = 0
    preview: list[dict] = []
    size = os.path.getsize(path)
    with open(path, "rb") as fh, as_text(fh, encoding) as text:
        rejects = csv.writer(_Utf8(report))
        rejects.writerow(["row", "column", "reason", "value"])
        lines = csv.reader(text, delimiter=reader.delimiter)
        next(lines, None)
        batch: list[Row] = []
        read = reader.read
        for number, cells in enumerate(lines, 2):
            if not any(cells):  # blank line
                continue
            rows += 1
            try:
                row = read(cells, number)
            except RowRejected as error:
                rejected += 1
                rejects.writerow([number, error.column, error.reason, csv_safe(error.value[:200])])
                if chunks:  # a full chunk of rejections: on to the database now
                    emit([], rows, rejected, fh.tell())
                continue
            if len(preview) < PREVIEW_ROWS:
                preview.append(_preview(row))
            batch.append(row)
            if len(batch) >= BATCH:
                emit(batch, rows, rejected, fh.tell())
                batch = []
        if batch:
            emit(batch, rows, rejected, size)
    return rows, rejected, preview


def _preview(row: Row) -> dict:
    shown = dict(zip(_PREVIEW_FIELDS, row[:7], strict=True))
    shown["interests"] = ", ".join(json.loads(row.interests))
    return shown
