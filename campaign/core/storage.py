"""Files that more than one machine needs (uploads, generated reports), kept
in the database: machines share only the database (DESIGN.md §3), never the
web machine's instance folder.

A file is stored as chunks of CHUNK bytes, written and read one chunk at a
time, so a file of any size passes through memory one chunk at a time.
The interface is small (save, open_chunks, copy_to, local_copy, remove) so that object
storage could stand behind it instead.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import delete, select

from campaign.core.models import StoredChunk, StoredFile
from campaign.extensions import db

CHUNK = 1 << 20  # 1 MB: a few round trips for a large file, little memory


def save(stream: BinaryIO, name: str = "", content_type: str = "text/csv") -> StoredFile:
    """Store what ``stream`` holds, chunk by chunk; flushes (the caller commits)."""
    stored = StoredFile(name=name[:255], content_type=content_type)
    db.session.add(stored)
    db.session.flush()
    digest, size, seq = hashlib.sha256(), 0, 0
    table = StoredChunk.__table__
    while chunk := stream.read(CHUNK):
        digest.update(chunk)
        size += len(chunk)
        db.session.execute(table.insert().values(file_id=stored.id, seq=seq, data=chunk))
        seq += 1
    stored.size, stored.sha256 = size, digest.hexdigest()
    db.session.flush()
    return stored


def save_path(path: str | Path, name: str = "", content_type: str = "text/csv") -> StoredFile:
    with open(path, "rb") as fh:
        return save(fh, name or Path(path).name, content_type)


def open_chunks(file_id: int) -> Iterator[bytes]:
    """The file's bytes, one chunk per query (never the whole file at once)."""
    seq = 0
    while True:
        chunk = db.session.scalar(
            select(StoredChunk.data).where(StoredChunk.file_id == file_id, StoredChunk.seq == seq)
        )
        if chunk is None:
            return
        yield bytes(chunk)
        seq += 1


def copy_to(file_id: int, out: BinaryIO) -> int:
    """Write the file to ``out``; returns its size."""
    size = 0
    for chunk in open_chunks(file_id):
        out.write(chunk)
        size += len(chunk)
    return size


@contextmanager
def local_copy(file_id: int, suffix: str = "") -> Iterator[Path]:
    """The file in a temporary file of this machine, removed afterwards: for
    code that must read a file more than once (checking, then streaming)."""
    with tempfile.NamedTemporaryFile(suffix=suffix, delete=False) as out:
        copy_to(file_id, out)  # type: ignore[arg-type]  # a binary file object
    path = Path(out.name)
    try:
        yield path
    finally:
        path.unlink(missing_ok=True)


@contextmanager
def spooled(suffix: str = "") -> Iterator[Path]:
    """A temporary path of this machine's own (not the instance folder), removed
    afterwards: where an upload is checked before anything is stored."""
    folder = Path(tempfile.mkdtemp(prefix="campaign-"))
    try:
        yield folder / f"file{suffix}"
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def exists(file_id: int | None) -> bool:
    return file_id is not None and db.session.get(StoredFile, file_id) is not None


def remove(file_id: int | None) -> None:
    """Delete a file and its chunks (flushes)."""
    if file_id is None:
        return
    db.session.execute(delete(StoredChunk).where(StoredChunk.file_id == file_id))
    db.session.execute(delete(StoredFile).where(StoredFile.id == file_id))
