"""Importing supporter files. This module owns an import job's life: new
(file checked, columns to map) → queued → running → done | failed. The work
is in its modules: files (checking a file whole, mapping its columns), rows
(validating each row into a typed Row), dedupe (duplicates and the merge
policy), stream (streaming the file to a writer thread), and one writer per
database (writer: the common part; sqlite, postgres: the statements).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from sqlalchemy import select

from campaign.audit.services import record
from campaign.core import storage
from campaign.core.errors import Conflict, ValidationError
from campaign.core.types import utcnow
from campaign.extensions import db
from campaign.supporters.imports import files
from campaign.supporters.imports.dedupe import Counts
from campaign.supporters.imports.stream import (  # for callers
    report_chunks as report_chunks,
)
from campaign.supporters.imports.stream import report_file as report_file
from campaign.supporters.imports.stream import run, source_file
from campaign.supporters.models import MERGE_POLICIES, ImportJob, ImportState
from campaign.supporters.services import clean_text, get_list


def receive(actor, stream, filename: str, encoding: str | None = None) -> ImportJob:
    """Check an uploaded file whole and keep it in the database, where any
    worker finds it; FileRefused when bad, and then nothing is kept."""
    name = clean_text(Path(filename or "upload.csv").name, 200) or "upload.csv"
    with storage.spooled(".csv") as path:
        with open(path, "wb") as out:
            shutil.copyfileobj(stream, out, 1 << 20)
        found = files.inspect(path, encoding)
        stored = storage.save_path(path, name)
    return _job_for(actor, "", name, found, encoding, file_id=stored.id)


def from_path(actor, path: str | Path, encoding: str | None = None) -> ImportJob:
    """A job for a file on disk (the command line); the file stays where it is."""
    path = Path(path).resolve()
    if not path.is_file():
        raise ValidationError(f"No such file: {path}", "file")
    return _job_for(actor, str(path), path.name, files.inspect(path, encoding), encoding)


def _job_for(actor, path: str, name: str, found, encoding, *, file_id=None) -> ImportJob:
    job = ImportJob(
        filename=name,
        path=path,
        file_id=file_id,
        headers=found.headers,
        size=found.size,
        encoding=encoding or None,
        delimiter=found.delimiter,
        mapping=files.guess_mapping(found.headers, last_mapping()),
        consent_source=f"import of {name}",
        warnings=found.warnings,
        state=ImportState.NEW,
        created_by_id=getattr(actor, "id", None),
    )
    db.session.add(job)
    db.session.flush()
    return job


def headers(job: ImportJob) -> list[str]:
    if job.headers:
        return job.headers
    with source_file(job) as path:  # a job from before headers were kept
        return files.inspect(path, job.encoding).headers


def last_mapping() -> dict:
    """The mapping staff chose last time, so the form remembers it."""
    mapping = db.session.scalar(
        select(ImportJob.mapping)
        .where(ImportJob.state != ImportState.NEW)
        .order_by(ImportJob.id.desc())
        .limit(1)
    )
    return mapping or {}


def configure(
    actor,
    job: ImportJob,
    *,
    mapping: dict,
    consent_source: str,
    list_id: int | None = None,
    policy: str = "keep",
    dry_run: bool = True,
) -> ImportJob:
    """Set a job's options and queue it; the caller enqueues the task after commit."""
    if job.state in (ImportState.QUEUED, ImportState.RUNNING):
        raise Conflict("This import is already running.", "state")
    source = clean_text(consent_source, 200)
    if not source:
        raise ValidationError(
            "Say where these people gave their consent (e.g. “petition at the Pride stall,"
            " June 2025”).",
            "consent_source",
        )
    if policy not in MERGE_POLICIES:
        raise ValidationError("Choose how to merge duplicates.", "policy")
    job.mapping = files.check_mapping(mapping, headers(job))
    job.consent_source = source
    job.list_id = get_list(list_id).id if list_id else None
    job.policy, job.dry_run, job.state = policy, dry_run, ImportState.QUEUED
    job.bytes_done = job.rows = 0
    db.session.flush()
    if not dry_run:
        record(actor, "supporters.import", job, f"Started import of {job.filename}")
    return job


def execute(job: ImportJob, progress=None) -> Counts | None:
    """Run a queued job to the end, recording failure on the job (never half-silent)."""
    try:
        counts = run(job, progress)
    except ValidationError as error:
        _fail(job, error.message)
        return None
    except Exception as error:
        _fail(job, f"The import stopped: {type(error).__name__}. Run it again to continue.")
        raise
    return counts


def _fail(job: ImportJob, message: str) -> None:
    db.session.rollback()
    job = db.session.get(ImportJob, job.id)
    job.state, job.error, job.finished_at = ImportState.FAILED, message[:500], utcnow()
    db.session.commit()


def broker_unreachable(job_id: int) -> None:
    """The task could not be queued (Redis down): say so on the job, which can run again."""
    job = db.session.get(ImportJob, job_id)
    if job is not None and job.state == ImportState.QUEUED:
        job.state, job.finished_at = ImportState.FAILED, utcnow()
        job.error = "The task queue (Redis) could not be reached, so the import did not start. "
        job.error += "Nothing was written. Run it again when the system is back."


def recent_jobs(limit: int = 20) -> list[ImportJob]:
    return list(db.session.scalars(select(ImportJob).order_by(ImportJob.id.desc()).limit(limit)))


def run_again(actor, job: ImportJob) -> ImportJob:
    """A finished dry run, for real; or a failed run, again (it continues safely)."""
    if job.state == ImportState.FAILED:
        dry_run = job.dry_run
    elif job.dry_run and job.state == ImportState.DONE:
        dry_run = False
    else:
        raise Conflict("Only a finished dry run or a failed import can be run again.", "state")
    if not (storage.exists(job.file_id) if job.file_id else Path(job.path).is_file()):
        raise Conflict("The uploaded file is gone: upload it again.", "state")
    return configure(
        actor,
        job,
        mapping=job.mapping,
        consent_source=job.consent_source,
        list_id=job.list_id,
        policy=job.policy,
        dry_run=dry_run,
    )
