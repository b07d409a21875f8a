"""Files that more than one machine needs (uploads, generated reports), kept
in the database: machines share only the database (DESIGN.md §3), never the
web machine's instance folder.

A file is stored as chunks of CHUNK bytes, written and read one chunk at a
time, so a file of any size passes through memory one chunk at a time.
The interface is small (save, ChunkWriter, open_chunks, copy_to, local_copy, remove) so that object
storage could stand behind it instead.
"""

from __future__ import annotations

import hashlib
import io
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO
from urllib.parse import quote

from flask import Response, current_app
from sqlalchemy import delete, select

from campaign.core.models import StoredChunk, StoredFile
from campaign.extensions import db

CHUNK = 1 << 20  # 1 MB: a few round trips for a large file, little memory


class TooLarge(Exception):
    """The stream held more than the ``max_size`` given to ``save``; nothing kept."""


def save(
    stream: BinaryIO,
    name: str = "",
    content_type: str = "text/csv",
    max_size: int | None = None,
) -> StoredFile:
    """Store what ``stream`` holds, chunk by chunk; flushes (the caller commits).
    Past ``max_size`` bytes it removes what it wrote and raises TooLarge."""
    stored = new_file(name, content_type)
    writer = ChunkWriter(stored)
    while chunk := stream.read(CHUNK):
        writer.write(chunk)
        if max_size is not None and writer.size > max_size:
            remove(stored.id)
            raise TooLarge(f"more than {max_size} bytes")
    return writer.close()


def new_file(name: str = "", content_type: str = "text/csv") -> StoredFile:
    """An empty file to write with a ChunkWriter (flushes, for its id)."""
    stored = StoredFile(name=name[:255], content_type=content_type)
    db.session.add(stored)
    db.session.flush()
    return stored


def save_bytes(data: bytes, name: str = "", content_type: str = "text/csv") -> StoredFile:
    return save(io.BytesIO(data), name, content_type)


class ChunkWriter:
    """Writes a file to the database as it is produced: whole chunks go out as
    they fill, so memory holds one chunk whatever the file's size. ``execute``
    (default: the app's session) runs each insert, so a thread with a
    connection of its own can write through it."""

    def __init__(self, stored: StoredFile | int, execute=None):
        self.file_id = stored if isinstance(stored, int) else stored.id
        self.stored = None if isinstance(stored, int) else stored
        self.execute = execute or db.session.execute
        self.digest, self.size, self.seq = hashlib.sha256(), 0, 0
        self.buffer = bytearray()

    def write(self, data: bytes) -> None:
        self.digest.update(data)
        self.size += len(data)
        self.buffer += data
        while len(self.buffer) >= CHUNK:
            self._put(bytes(self.buffer[:CHUNK]))
            del self.buffer[:CHUNK]

    def flush_all(self) -> None:
        """Write what is buffered as a (short) chunk of its own."""
        if self.buffer:
            self._put(bytes(self.buffer))
            self.buffer.clear()

    def close(self) -> StoredFile:
        """The last chunk, then the size and digest on the file's row (flushes)."""
        self.flush_all()
        stored = self.stored or db.session.get(StoredFile, self.file_id)
        assert stored is not None
        stored.size, stored.sha256 = self.size, self.digest.hexdigest()
        db.session.flush()
        return stored

    def _put(self, chunk: bytes) -> None:
        self.execute(
            StoredChunk.__table__.insert().values(file_id=self.file_id, seq=self.seq, data=chunk)
        )
        self.seq += 1


def save_path(path: str | Path, name: str = "", content_type: str = "text/csv") -> StoredFile:
    with open(path, "rb") as fh:
        return save(fh, name or Path(path).name, content_type)


def _chunk(file_id: int, seq: int) -> bytes | None:
    data = db.session.scalar(
        select(StoredChunk.data).where(StoredChunk.file_id == file_id, StoredChunk.seq == seq)
    )
    return None if data is None else bytes(data)


def open_chunks(file_id: int) -> Iterator[bytes]:
    """The file's bytes, one chunk per query (never the whole file at once)."""
    seq = 0
    while (chunk := _chunk(file_id, seq)) is not None:
        yield chunk
        seq += 1


def copy_to(file_id: int, out: BinaryIO) -> int:
    """Write the file to ``out``; returns its size."""
    size = 0
    for chunk in open_chunks(file_id):
        out.write(chunk)
        size += len(chunk)
    return size


def stream(file_id: int) -> Iterator[bytes]:
    """The file's bytes for a response, each chunk read in an app context (a
    session and a short transaction) of its own: a long download holds neither
    the whole file nor a transaction, which on SQLite would hold the write lock,
    and runs after the request's own session has committed and gone."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]

    def chunks() -> Iterator[bytes]:
        seq = 0
        while True:
            with app.app_context():
                chunk = _chunk(file_id, seq)
            if chunk is None:
                return
            yield chunk
            seq += 1

    return chunks()


def download(file_id: int, name: str, mimetype: str = "application/octet-stream") -> Response:
    """A stored file as an attachment, streamed chunk by chunk (``stream``)."""
    stored = db.session.get(StoredFile, file_id)
    response = Response(stream(file_id), mimetype=mimetype)
    if stored is not None:
        response.content_length = stored.size
    try:
        name.encode("ascii")
        response.headers.set("Content-Disposition", "attachment", filename=name)
    except UnicodeEncodeError:  # RFC 6266: an ASCII fallback and the UTF-8 name
        response.headers["Content-Disposition"] = (
            f'attachment; filename="{name.encode("ascii", "replace").decode()}"; '
            f"filename*=UTF-8''{quote(name, safe='')}"
        )
    return response


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
