"""Importing supporter files: checking, streaming, validating and merging.

A file is first checked whole without writing anything (encoding, binary
data, over-long lines, header): a bad file is refused with a clear reason and
changes nothing. Then it is streamed row by row in constant memory, validated,
and written in batches with set-based statements on the raw connection (no
ORM object per row), each batch in its own short transaction together with the
job's progress counters.

Re-running a file is a no-op: each supporter remembers the file digest and row
that last set its fields (``import_ref``), so a second run recognises its own
earlier writes, and an interrupted run simply continues where it stopped.
Suppressed, unsubscribed and erased addresses are never re-subscribed: an
import never changes an existing supporter's state, and erased addresses
(keyed hashes) are rejected.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import hmac
import io
import json
import marshal
import operator
import os
import queue
import re
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path

from email_validator import EmailNotValidError, validate_email
from flask import current_app

from campaign.core.errors import ValidationError
from campaign.core.types import utcnow
from campaign.extensions import db
from campaign.supporters import vocabulary as vocab
from campaign.supporters.models import ImportJob
from campaign.supporters.services import clean_text, csv_safe, normalise_email

FIELDS = {
    "email": "Email address",
    "first_name": "First name",
    "last_name": "Last name",
    "language": "Language",
    "country": "Country",
    "city": "City",
    "interests": "Interests",
    "timezone": "Time zone",
}
_SYNONYMS = {
    "email": ("email", "emailaddress", "mail", "courriel", "correo", "почта"),
    "first_name": ("firstname", "first", "givenname", "forename", "prenom", "nombre", "имя"),
    "last_name": ("lastname", "surname", "familyname", "last", "nom", "apellido", "фамилия"),
    "language": ("language", "lang", "locale", "langue", "idioma", "язык"),
    "country": ("country", "countrycode", "pays", "pais", "страна"),
    "city": ("city", "town", "ville", "ciudad", "город"),
    "interests": ("interests", "interest", "topics", "themes"),
    "timezone": ("timezone", "tz", "timezonename"),
}
ENCODINGS = {
    "": "Detect",
    "utf-8": "UTF-8",
    "utf-16": "UTF-16",
    "cp1252": "Windows-1252",
    "latin-1": "Latin-1 (ISO 8859-1)",
}
CHUNK = 1 << 20
BATCH = 10000
SQLITE_IMPORT_CACHE_KB = 32 * 1024
CHUNK_ROWS = 500  # rows per statement; 500 × 12 parameters fit SQLite's limit
PREVIEW_ROWS = 10
_ATOM = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*\Z")
_NUMBER = operator.itemgetter(8)  # a batch row's number in the file
_DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "vertical bar"}
_SQL_FIELDS = ("first_name", "last_name", "language", "country", "city", "timezone", "interests")


class FileRefused(ValidationError):
    """The file as a whole cannot be imported; nothing was written."""

    def __init__(self, message: str):
        super().__init__(message, "file")


# --- checking the file ----------------------------------------------------


@dataclass
class Inspection:
    encoding: str
    delimiter: str
    headers: list[str]
    digest: str
    size: int
    warnings: list[str] = field(default_factory=list)


def _max_line() -> int:
    return current_app.config.get("IMPORT_MAX_LINE_BYTES", 1 << 20)


def _scan(path: Path, encoding: str | None) -> tuple[str, str, list[str]]:
    """One pass over the bytes: digest, encoding, binary data, line lengths."""
    warnings: list[str] = []
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        head = fh.read(4)
        fh.seek(0)
        if not head.strip(b" \r\n\t\xef\xbb\xbf\xff\xfe\x00"):
            raise FileRefused("The file is empty.")
        bom16 = head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
        if encoding is None:
            if head.startswith(codecs.BOM_UTF8):
                encoding = "utf-8-sig"
            elif bom16:
                encoding = "utf-16"
        elif encoding == "utf-8" and head.startswith(codecs.BOM_UTF8):
            encoding = "utf-8-sig"
        utf16 = (encoding or "").startswith("utf-16")
        decoder = codecs.getincrementaldecoder(encoding or "utf-8")("strict")
        run, longest, utf8_ok = 0, 0, True
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
            if utf16:
                text = _decode(decoder, chunk, encoding)
                if "\x00" in text:
                    raise FileRefused("The file contains binary data (NUL characters), not text.")
                run, longest = _lines(text, "\n", run, longest)
                continue
            if b"\x00" in chunk:
                raise FileRefused(
                    "The file contains binary data (NUL bytes): save it as CSV (comma-separated"
                    " values) and upload that."
                )
            run, longest = _lines(chunk, b"\n", run, longest)
            if utf8_ok:
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError as error:
                    if encoding is not None:
                        raise FileRefused(_broken(encoding, error)) from error
                    utf8_ok = False
            if longest > _max_line():
                break
        if longest > _max_line():
            raise FileRefused(
                f"A line of the file is longer than {_max_line() // 1024} KB: it is not a"
                " supporter list (or its line endings are broken)."
            )
        if utf8_ok:
            try:
                decoder.decode(b"", final=True)
            except UnicodeDecodeError as error:
                if encoding is not None:
                    raise FileRefused(_broken(encoding, error)) from error
                utf8_ok = False
    if encoding is None:
        encoding = "utf-8" if utf8_ok else _single_byte(path, warnings)
    return encoding, digest.hexdigest(), warnings


def _decode(decoder, chunk: bytes, encoding: str) -> str:
    try:
        return decoder.decode(chunk)
    except UnicodeDecodeError as error:
        raise FileRefused(_broken(encoding, error)) from error


def _broken(encoding: str, error: UnicodeDecodeError) -> str:
    return (
        f"The file is not valid {encoding.upper()} (byte {error.object[error.start]:#04x} cannot"
        " be read). Choose its encoding, or save it again as UTF-8."
    )


def _lines(data, newline, run: int, longest: int) -> tuple[int, int]:
    parts = data.split(newline)
    if len(parts) == 1:
        run += len(data)
        return run, max(longest, run)
    longest = max(longest, run + len(parts[0]), *(len(p) for p in parts[1:-1]))
    return len(parts[-1]), max(longest, len(parts[-1]))


def _single_byte(path: Path, warnings: list[str]) -> str:
    # Not UTF-8: most such exports are Windows-1252, which leaves five bytes
    # undefined; a file using them can only be Latin-1.
    with open(path, "rb") as fh:
        decoder = codecs.getincrementaldecoder("cp1252")("strict")
        try:
            while chunk := fh.read(CHUNK):
                decoder.decode(chunk)
        except UnicodeDecodeError:
            warnings.append("The file is not UTF-8; it was read as Latin-1 (ISO 8859-1).")
            return "latin-1"
    warnings.append(
        "The file is not UTF-8; it was read as Windows-1252. Check the preview, and choose"
        " another encoding if names look wrong."
    )
    return "cp1252"


def _text(fh, encoding: str) -> io.TextIOWrapper:
    return io.TextIOWrapper(fh, encoding=encoding, newline="")


def _sniff(sample: str) -> str:
    lines = sample.splitlines()[:20]
    try:
        return csv.Sniffer().sniff("\n".join(lines), delimiters=",;\t|").delimiter
    except csv.Error:
        first = lines[0] if lines else ""
        return max(",;\t|", key=first.count) if first else ","


def inspect(path: str | Path, encoding: str | None = None) -> Inspection:
    """Check a whole file and read its header; FileRefused when unusable."""
    path = Path(path)
    if encoding and encoding not in ENCODINGS:
        raise ValidationError("Choose one of the encodings offered.", "encoding")
    encoding, digest, warnings = _scan(path, encoding or None)
    csv.field_size_limit(_max_line())
    with open(path, "rb") as fh, _text(fh, encoding) as text:
        sample = text.read(64 * 1024)
        delimiter = _sniff(sample)
        text.seek(0)
        try:
            header = next(csv.reader(text, delimiter=delimiter), [])
        except csv.Error as error:
            raise FileRefused(f"The header cannot be read as CSV: {error}.") from error
    headers = [h.strip().lstrip("\ufeff") for h in header]
    if not any(headers):
        raise FileRefused("The first line must name the columns (e.g. Email, First name).")
    seen: dict[str, int] = {}
    for number, name in enumerate(headers, 1):
        key = name.casefold()
        if key in seen:
            raise FileRefused(
                f"The column “{name}” appears twice (columns {seen[key]} and {number}):"
                " rename one of them."
            )
        seen[key] = number
    return Inspection(encoding, delimiter, headers, digest, path.stat().st_size, warnings)


def guess_mapping(headers: list[str], remembered: dict | None = None) -> dict[str, str]:
    """field → header: the remembered mapping where it fits, else by name."""
    mapping = {}
    remembered = remembered or {}
    for name, header in remembered.items():
        if name in FIELDS and header in headers:
            mapping[name] = header
    keys = {re.sub(r"[\W_]+", "", h.casefold()): h for h in headers}
    for name, synonyms in _SYNONYMS.items():
        if name not in mapping:
            for synonym in synonyms:
                if synonym in keys:
                    mapping[name] = keys[synonym]
                    break
    return mapping


def check_mapping(mapping: dict, headers: list[str]) -> dict[str, str]:
    clean = {k: v for k, v in (mapping or {}).items() if k in FIELDS and v}
    missing = [v for v in clean.values() if v not in headers]
    if missing:
        raise ValidationError(f"The file has no column “{missing[0]}”.", "mapping")
    if "email" not in clean:
        raise FileRefused("The file has no email column: map one of its columns to Email.")
    return clean


# --- validating rows ------------------------------------------------------


@lru_cache(maxsize=65536)
def _domain(domain: str) -> str | None:
    try:
        return validate_email("a@" + domain, check_deliverability=False).ascii_domain
    except EmailNotValidError:
        return None


def fast_normalise_email(value: str) -> str:
    """normalise_email, with the common case (a plain ASCII local part, a
    domain seen before) answered from a cache of email-validator's verdicts."""
    value = value.strip()
    local, at, domain = value.rpartition("@")
    if at and len(local) <= 64 and _ATOM.match(local):
        ascii_domain = _domain(domain)
        if ascii_domain and len(local) + len(ascii_domain) < 254:
            return f"{local}@{ascii_domain}"
    return normalise_email(value)


def _clean(value: str, limit: int = 100) -> str:
    if value.isprintable() and "  " not in value:
        return value.strip()[:limit]
    return clean_text(value, limit)


class RowRejected(Exception):
    def __init__(self, column: str, reason: str, value: str = ""):
        super().__init__(reason)
        self.column, self.reason, self.value = column, reason, value


class RowReader:
    """Turns CSV rows into supporter tuples, or RowRejected naming the column.

    Every row of a large file passes through ``read``: cells are taken with one
    itemgetter call, and codes and interests are looked up in caches keyed by
    the raw cell, so repeated values cost one dict lookup.
    """

    def __init__(self, headers: list[str], mapping: dict[str, str], delimiter: str = ","):
        self.headers = headers
        self.delimiter = delimiter
        names = list(FIELDS)
        self.columns = [headers.index(mapping[n]) if n in mapping else None for n in names]
        self.width = len(headers)
        # One itemgetter call takes all eight cells; an unmapped field reads
        # the empty cell appended to every row (index ``width``), so a row
        # must never reach ``take`` with more cells than the header.
        self.take = operator.itemgetter(*(i if i is not None else self.width for i in self.columns))
        self.padding = [""] * (self.width + 1)
        self.header_of = {
            n: headers[i] for n, i in zip(names, self.columns, strict=True) if i is not None
        }
        # Caches keyed by the raw cell: parsed codes (or the reason they are
        # refused) and cleaned texts; bounded, for hostile files.
        self.codes: dict[str, dict[str, object]] = {
            name: {} for name in ("language", "country", "interests", "timezone")
        }
        self.texts: dict[str, str] = {}

    def cells(self, row: list[str]) -> tuple:
        width = len(row)
        if width < self.width:
            row = row + self.padding[width:]
        elif width == self.width:
            row.append("")
        else:
            # More cells than the header: empty extra cells (a trailing
            # delimiter, blank unnamed columns) are dropped; anything else
            # means the cells no longer line up with the columns (an
            # unquoted delimiter inside a value), so the row is refused
            # rather than guessed at.
            extra = [cell for cell in row[self.width :] if cell.strip()]
            if extra:
                raise RowRejected("whole row", self._overlong(width), " | ".join(extra))
            row = row[: self.width]
            row.append("")
        return self.take(row)

    def _overlong(self, width: int) -> str:
        name = _DELIMITER_NAMES.get(self.delimiter, f"“{self.delimiter}”")
        return (
            f"the row has {width} cells, the header has {self.width}: check for an unquoted"
            f" {name} inside a value (put such values in double quotes)"
        )

    def read(self, row: list[str]) -> tuple:
        email, first, last, language, country, city, interests, zone = self.cells(row)
        try:
            email = fast_normalise_email(email)
        except ValidationError as error:
            message = error.message if email.strip() else "no email address"
            raise RowRejected(self.header_of.get("email", "email"), message, email) from None
        texts = self.texts
        if len(texts) > 100_000:
            texts.clear()
        return (
            email,
            (texts.get(first) or texts.setdefault(first, _clean(first))) if first else "",
            (texts.get(last) or texts.setdefault(last, _clean(last))) if last else "",
            self._lookup("language", language) if language else None,
            self._lookup("country", country) if country else None,
            (texts.get(city) or texts.setdefault(city, _clean(city))) if city else "",
            self._lookup("timezone", zone) if zone else None,
            self._lookup("interests", interests) if interests else "[]",
        )

    def _lookup(self, name: str, raw: str):
        cache = self.codes[name]
        value = cache.get(raw)
        if value is None:
            if len(cache) > 20_000:  # bounded memory on hostile files
                cache.clear()
            value = cache[raw] = _parse(name, raw.strip())
        if value.__class__ is str:
            return value or None
        raise RowRejected(self.header_of.get(name, name), value.args[0], raw)


def _parse(name: str, value: str) -> object:
    """A cell's normalised value, or an Exception whose message is the reason."""
    if not value:
        return "[]" if name == "interests" else ""
    try:
        if name == "language":
            code = vocab.language_codes().get(value.lower()) or vocab.language(value)
            return code
        if name == "country":
            return vocab.country(value)
        if name == "interests":
            return json.dumps(vocab.interests(value))
    except KeyError as error:
        label = "interest" if name == "interests" else name
        shown = error.args[0] if name == "interests" else value
        return Exception(f"unknown {label} “{shown}”")
    if value in _zones():
        return value
    return Exception(f"unknown time zone “{value}”")


# --- running --------------------------------------------------------------


@dataclass
class Counts:
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    duplicates: int = 0
    rejected: int = 0

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def rejections_path(job: ImportJob) -> Path:
    return imports_folder() / f"{job.id}-rejected.csv"


def imports_folder() -> Path:
    folder = Path(current_app.instance_path) / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def run(job: ImportJob, progress: Callable[[int], None] | None = None) -> Counts:
    """Import (or dry-run) a job's file; commits batch by batch.

    Reading and validating runs alongside the database work of the previous
    batch: in this thread, with a writer thread (the drivers release the GIL
    while the database works); or, for files of at least IMPORT_PROCESS_BYTES
    (off by default), in a process of its own with batches coming through a
    pipe. That uses a second core without sharing the GIL, but costs about
    90 MB for the second interpreter, and the database, not Python, is the
    limit (docs/PERFORMANCE.md). Either way at most a few batches are in
    flight, so memory stays constant.
    """
    path = Path(job.path)
    found = inspect(path, job.encoding)
    mapping = check_mapping(job.mapping, found.headers)
    job.state, job.started_at, job.error = "running", utcnow(), ""
    job.warnings, job.size, job.delimiter = found.warnings, found.size, found.delimiter
    job.bytes_done = job.rows = job.created = job.updated = 0
    job.unchanged = job.duplicates = job.rejected = 0
    writer = _Writer(job, found.digest[:16])
    report = rejections_path(job)
    # Commit, and touch the session no more until the writer is done: on
    # SQLite any new transaction here would take the lock the writer needs.
    db.session.commit()
    source = _Source(
        str(path), found.encoding, found.delimiter, found.headers, mapping, str(report),
        _max_line(), found.size,
    )  # fmt: skip
    threshold = current_app.config.get("IMPORT_PROCESS_BYTES")
    read = None
    if threshold is not None and found.size >= threshold:
        read = _read_in_process(source, writer, progress)
    if read is None:
        read = _read_in_thread(source, writer, progress)
    counts = Counts(rows=read[0], rejected=read[1])
    preview = read[2]
    if writer.erased_rows:
        with open(report, "a", newline="", encoding="utf-8") as rejects_file:
            csv.writer(rejects_file).writerows(writer.erased_rows)
    counts.rejected += len(writer.erased_rows)
    for name in ("created", "updated", "unchanged", "duplicates"):
        setattr(counts, name, getattr(writer.counts, name))
    db.session.refresh(job)
    job.preview = preview
    job.state, job.finished_at = "done", utcnow()
    for name, value in counts.as_dict().items():
        setattr(job, name, value)
    job.bytes_done = found.size
    db.session.commit()
    if progress:
        progress(found.size)
    return counts


@dataclass
class _Source:
    """What reading a file needs, picklable for a reading process."""

    path: str
    encoding: str
    delimiter: str
    headers: list[str]
    mapping: dict[str, str]
    report: str
    max_line: int
    size: int


def _read(source: _Source, emit: Callable[[list, int, int, int], None]) -> tuple:
    """Stream, validate and hand on the file's rows in batches; write the
    rejected ones to the report. Returns (rows, rejected, preview)."""
    csv.field_size_limit(source.max_line)
    reader = RowReader(source.headers, source.mapping, source.delimiter)
    rows = rejected = 0
    preview: list[dict] = []
    with (
        open(source.path, "rb") as fh,
        _text(fh, source.encoding) as text,
        open(source.report, "w", newline="", encoding="utf-8") as rejects_file,
    ):
        rejects = csv.writer(rejects_file)
        rejects.writerow(["row", "column", "reason", "value"])
        lines = csv.reader(text, delimiter=source.delimiter)
        next(lines, None)
        batch: list[tuple] = []
        read = reader.read
        zones: dict[str | None, str] = {}
        for number, row in enumerate(lines, 2):
            if not any(row):  # blank line
                continue
            rows += 1
            try:
                values = read(row)
            except RowRejected as error:
                rejected += 1
                reason = [number, error.column, error.reason, csv_safe(error.value[:200])]
                rejects.writerow(reason)
                continue
            if len(preview) < PREVIEW_ROWS:
                preview.append(_preview(values))
            # The row as read, its number, then the language and time zone to
            # store for a new supporter (defaults filled in).
            country = values[4]
            zone = (
                values[6]
                or zones.get(country)
                or zones.setdefault(country, vocab.timezone_for(country))
            )
            batch.append((*values, number, values[3] or "en", zone))
            if len(batch) >= BATCH:
                emit(batch, rows, rejected, fh.tell())
                batch = []
        if batch:
            emit(batch, rows, rejected, source.size)
    return rows, rejected, preview


def _read_in_thread(source: _Source, writer: _Writer, progress) -> tuple:
    def emit(batch: list, rows: int, rejected: int, position: int) -> None:
        writer.put(batch, rows, rejected, position)
        if progress:
            progress(position)

    writer.start()
    try:
        return _read(source, emit)
    finally:
        writer.finish()


def _read_in_process(source: _Source, writer: _Writer, progress) -> tuple | None:
    """Read in a child process and write here; None when no process can be
    started: then the file is read in a thread instead.

    The child is this module run with ``python -m`` (so nothing of the
    caller's main module is re-run); batches come back through its stdout as
    ``marshal`` records (plain tuples and strings), one batch ahead at most.
    """
    root = str(Path(__file__).resolve().parents[2])
    path = os.environ.get("PYTHONPATH")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([root, path] if path else [root])}
    try:
        child = subprocess.Popen(
            [sys.executable, "-m", "campaign.supporters.importer"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
            cwd=root,
        )
    except OSError:
        return None
    result: list = []

    def batches():
        while True:
            try:
                message = _receive(child.stdout)
            except (EOFError, ValueError):
                raise RuntimeError("the reading process ended unexpectedly") from None
            if message[0] == "batch":
                yield message[1:]
                if progress:
                    progress(message[4])
            elif message[0] == "done":
                result.extend(message[1:])
                return
            else:
                raise RuntimeError(f"reading the file failed: {message[1]}")

    try:
        marshal.dump(dict(source.__dict__), child.stdin)
        child.stdin.close()
        writer.consume(batches())
    finally:
        child.stdout.close()
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
    return tuple(result)


def _receive(stream) -> tuple:
    """One length-prefixed marshal record from the reading process."""
    head = stream.read(8)
    if len(head) < 8:
        raise EOFError
    data = stream.read(int.from_bytes(head, "big"))
    return marshal.loads(data)  # noqa: S302 - written by our own child process


def _read_child() -> None:
    """The reading process: a _Source on stdin, marshal records on stdout."""
    out = sys.stdout.buffer

    def send(message: tuple) -> None:
        data = marshal.dumps(message)
        out.write(len(data).to_bytes(8, "big"))
        out.write(data)
        out.flush()

    def emit(batch: list, rows: int, rejected: int, position: int) -> None:
        send(("batch", batch, rows, rejected, position))

    try:
        source = _Source(**marshal.load(sys.stdin.buffer))  # noqa: S302 - from our parent
        send(("done", *_read(source, emit)))
    except (BrokenPipeError, EOFError):  # the writer stopped: nothing to tell
        pass
    except Exception as error:  # noqa: BLE001 - reported to the writing process
        send(("error", f"{type(error).__name__}: {error}"))


def _preview(values: tuple) -> dict:
    row = dict(zip(("email", *_SQL_FIELDS[:5], "timezone"), values[:7], strict=True))
    row["interests"] = ", ".join(json.loads(values[7]))
    return row


class _Writer:
    """Set-based writes of each batch in its own transaction, on its own thread
    and connection: look up, insert new, update changed, record progress."""

    def __init__(self, job: ImportJob, file_digest: str):
        self.job_id = job.id
        self.list_id = job.list_id
        self.staff_id = job.created_by_id
        self.file = file_digest
        self.dry = job.dry_run
        self.policy = job.policy
        self.source = job.consent_source[:200]
        self.engine = db.engine
        self.postgres = self.engine.dialect.name == "postgresql"
        self.mark = "%s" if self.postgres else "?"
        # The key of tokens.address_digest, read here: the thread has no app context.
        self._key = (
            current_app.config.get("SUPPRESSION_KEY") or current_app.config["SECRET_KEY"]
        ).encode()
        # A dry run writes nothing, so it must remember what it has seen to
        # count duplicates across batches (8-byte keys: ~70 MB per million).
        self.seen: set[int] | None = set() if self.dry else None
        self.lookup_first = False
        self.counts = Counts()
        self.erased_rows: list[list] = []
        self.queue: queue.Queue = queue.Queue(maxsize=3)
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._loop, name=f"import-{job.id}", daemon=True)
        self.conn = None

    def start(self) -> None:
        self.thread.start()

    def put(self, batch: list[tuple], rows: int, rejected: int, position: int) -> None:
        if self.error is not None:
            raise self.error
        if batch:
            self.queue.put((batch, rows, rejected, position))

    def finish(self) -> None:
        self.queue.put(None)
        self.thread.join()
        if self.error is not None:
            raise self.error

    def consume(self, items) -> None:
        """Write (batch, rows, rejected, position) items, each batch in its own
        transaction together with the job's progress."""
        with self.engine.connect() as conn:
            self.conn = conn
            self._cache(SQLITE_IMPORT_CACHE_KB, 10_000)
            try:
                for batch, rows, rejected, position in items:
                    with conn.begin():
                        self.write(batch, self.counts)
                        self._progress(rows, rejected, position)
            finally:
                self._cache(2000, 1000)  # SQLite's defaults, before the connection goes back

    def _loop(self) -> None:
        try:
            self.consume(iter(self.queue.get, None))
        except BaseException as error:  # noqa: BLE001 - handed to the producer thread
            self.error = error
            while self.queue.get() is not None:  # let the producer finish
                pass

    def _cache(self, kilobytes: int, checkpoint_pages: int) -> None:
        # Inserting into the email index touches pages all over it: a larger
        # page cache for this one connection saves most of the reads, and
        # checkpointing the write-ahead log less often writes each of those
        # pages back once for several batches instead of once for each.
        if not self.postgres:
            raw = self.conn.connection.dbapi_connection
            raw.execute(f"PRAGMA cache_size=-{int(kilobytes)}")
            raw.execute(f"PRAGMA wal_autocheckpoint={int(checkpoint_pages)}")

    def _cursor(self):
        # The writer's own connection and transaction, without SQLAlchemy's
        # per-row result processing: the batch statements are plain SQL.
        return self.conn.connection.dbapi_connection.cursor()

    def _progress(self, rows: int, rejected: int, position: int) -> None:
        c, m = self.counts, self.mark
        sql = (
            f"UPDATE import_jobs SET bytes_done={m}, rows={m}, created={m}, updated={m}, "  # noqa: S608
            f"unchanged={m}, duplicates={m}, rejected={m} WHERE id={m}"
        )
        self._cursor().execute(
            sql,
            (position, rows, c.created, c.updated, c.unchanged, c.duplicates,
             rejected + len(self.erased_rows), self.job_id),
        )  # fmt: skip

    def _now(self):
        now = utcnow()
        return now if self.postgres else now.astimezone(UTC).replace(tzinfo=None).isoformat(" ")

    def write(self, batch: list[tuple], counts: Counts) -> None:
        rows = self._dedupe(batch, counts)
        rows = self._drop_erased(rows)
        if self.dry:
            existing = self._existing(list(rows))
            changed: list = []
            for email, row in rows.items():
                if email in existing:
                    self._compare(row, existing[email], changed, counts)
                else:
                    counts.created += 1
            counts.updated += len(changed)
            return
        # Insert first while most addresses are new (no lookup for them); look
        # up first while most exist (a re-run), as a doomed insert costs more.
        if self.lookup_first:
            existing = self._existing(list(rows))
            new = [row for email, row in rows.items() if email not in existing]
            created, skipped = self._insert(new)
            if skipped:  # created meanwhile (a sign-up): they exist now, so merge them
                existing.update(self._existing(list(skipped)))
        else:
            created, skipped = self._insert(list(rows.values()))
            existing = self._existing(list(skipped)) if skipped else {}
        self.lookup_first = len(existing) > created
        counts.created += created
        changed = []
        for email, old in existing.items():
            self._compare(rows[email], old, changed, counts)
        counts.unchanged += len(rows) - created - len(existing)  # gone meanwhile
        self._update(changed)
        counts.updated += len(changed)
        if self.list_id and existing:
            self._add_to_list([old[1] for old in existing.values()])

    def _dedupe(self, batch, counts) -> dict[str, tuple]:
        if self.seen is None:
            # The common case in C: the first occurrence of an address wins
            # (reversed, so that later ones are overwritten by earlier ones).
            rows = {row[0]: row for row in reversed(batch)}
            if len(rows) == len(batch):
                return rows
            if self.policy == "keep":
                counts.duplicates += len(batch) - len(rows)
                return rows
        rows = {}
        for row in batch:
            email = row[0]
            if self.seen is not None:
                key = int.from_bytes(hashlib.blake2b(email.encode(), digest_size=8).digest())
                if key in self.seen and email not in rows:
                    counts.duplicates += 1
                    continue
                self.seen.add(key)
            if email in rows:
                counts.duplicates += 1
                if self.policy == "update":
                    rows[email] = _merge(rows[email], row)
                continue
            rows[email] = row
        return rows

    def _drop_erased(self, rows: dict[str, tuple]) -> dict[str, tuple]:
        """The rows whose address was not erased, asked of the database in the
        batch's own transaction: an address erased while a long import runs
        must not come back in a later batch."""
        cursor = self._cursor()
        cursor.execute("SELECT 1 FROM suppressed_addresses LIMIT 1")
        if not rows or cursor.fetchone() is None:  # the common case: nobody erased
            return rows
        key, sha256 = self._key, hashlib.sha256
        digests = {hmac.digest(key, email.lower().encode(), sha256).hex(): email for email in rows}
        erased = self._suppressed(list(digests))
        if not erased:
            return rows
        reason = "erased at the person's request: not imported again"
        dropped = sorted((rows.pop(digests[digest]) for digest in erased), key=_NUMBER)
        self.erased_rows.extend([row[8], "email", reason, ""] for row in dropped)
        return rows

    def _suppressed(self, digests: list[str]) -> set[str]:
        cursor = self._cursor()
        if self.postgres:
            cursor.execute(
                "SELECT digest FROM suppressed_addresses WHERE digest = ANY(%s)",
                (digests,),
                prepare=False,
            )
            return {row[0] for row in cursor.fetchall()}
        marks = ",".join(["?"] * CHUNK_ROWS)
        sql = f"SELECT digest FROM suppressed_addresses WHERE digest IN ({marks})"  # noqa: S608 - only placeholders are formatted in
        found: set[str] = set()
        for chunk in _padded(digests):
            cursor.execute(sql, chunk)
            found.update(row[0] for row in cursor.fetchall())
        return found

    def _existing(self, emails: list[str]) -> dict[str, tuple]:
        if not emails:
            return {}
        marks = ",".join([self.mark] * CHUNK_ROWS)
        sql = (
            "SELECT email, id, first_name, last_name, language, country, city, timezone, "  # noqa: S608 - only placeholders are formatted in
            f"interests, import_ref FROM supporters WHERE email IN ({marks})"
        )
        cursor = self._cursor()
        found = {}
        if self.postgres:
            # Planned afresh each time (prepare=False): a plan cached while the
            # table was empty would scan it sequentially ever after. Chunks of
            # CHUNK_ROWS keep an index scan the cheaper plan on a large table.
            query = sql.split(" WHERE ")[0] + " WHERE email = ANY(%s)"
            for start in range(0, len(emails), CHUNK_ROWS):
                cursor.execute(query, (emails[start : start + CHUNK_ROWS],), prepare=False)
                found.update((row[0], row) for row in cursor.fetchall())
            return found
        for chunk in _padded(emails):
            cursor.execute(sql, chunk)
            found.update((row[0], row) for row in cursor.fetchall())
        return found

    def _compare(self, row: tuple, old: tuple, changed: list, counts: Counts) -> None:
        number = row[8]
        ref_file, _, ref_row = (old[9] or "").partition(":")
        if ref_file == self.file and ref_row.isdigit():
            if int(ref_row) > number:  # a later row of this file already applied
                counts.unchanged += 1
                return
            if int(ref_row) < number and self.policy == "keep":  # repeats an applied row
                counts.duplicates += 1
                return
        if self.policy == "keep":
            counts.unchanged += 1
            return
        merged = _merge(_as_row(old), row)
        if merged[1:8] == _as_row(old)[1:8]:
            counts.unchanged += 1
            return
        changed.append((old[1], merged))

    def _insert(self, rows: list[tuple]) -> tuple[int, set[str] | None]:
        """Insert the rows whose address is new, each with its consent-log row
        (and list membership), in a few set-based statements.

        Returns how many were created and the addresses that were skipped
        because they exist, or None when every row was created (the common
        case: nothing to look up then).
        """
        if not rows:
            return 0, None
        # Sorted by address: the unique index is then filled in order. The
        # rows carry their number, language and zone at 8, 9 and 10.
        rows = sorted(rows)
        if self.postgres:
            return self._insert_postgres(rows)
        return self._insert_sqlite(rows)

    def _insert_sqlite(self, rows: list[tuple]) -> tuple[int, set[str] | None]:
        # The writer holds SQLite's write lock for the whole transaction (BEGIN
        # IMMEDIATE, campaign.core.db), and
        # rowids are max(rowid) + 1: the rows created here are exactly those
        # above the largest id before the insert.
        now, cursor = _literal(self._now()), self._cursor()
        before = cursor.execute("SELECT coalesce(max(id), 0) FROM supporters").fetchone()[0]
        cursor.executemany(
            "INSERT INTO supporters (email, first_name, last_name, language, country, city, "  # noqa: S608 - only our own digest and timestamp are formatted in
            "timezone, interests, state, import_ref, state_changed_at, created_at, updated_at) "
            f"VALUES (?1,?2,?3,?10,?5,?6,?11,?8,'subscribed','{self.file}:' || ?9,"
            f"{now},{now},{now}) ON CONFLICT (email) DO NOTHING",
            rows,
        )
        created = cursor.rowcount
        if created:
            cursor.execute(
                "INSERT INTO consent_events (supporter_id, at, new_state, source, detail, "  # noqa: S608
                f"staff_id) SELECT id, {now}, 'subscribed', ?, ?, ? FROM supporters WHERE id > ?",
                (self.source, f"import job {self.job_id}", self.staff_id, before),
            )
        if created and self.list_id:
            cursor.execute(
                "INSERT INTO list_members (list_id, supporter_id, added_at) "  # noqa: S608
                f"SELECT ?, id, {now} FROM supporters WHERE id > ? ON CONFLICT DO NOTHING",
                (self.list_id, before),
            )
        if created == len(rows):
            return created, None
        cursor.execute(
            "SELECT value FROM json_each(?) WHERE value NOT IN "
            "(SELECT email FROM supporters WHERE id > ?)",
            (json.dumps([row[0] for row in rows]), before),
        )
        return created, {row[0] for row in cursor.fetchall()}

    def _insert_postgres(self, rows: list[tuple]) -> tuple[int, set[str] | None]:
        # COPY into a per-connection staging table, then one statement inserts
        # the new supporters, their consent-log rows and list memberships.
        cursor = self._cursor()
        cursor.execute(
            "CREATE TEMP TABLE IF NOT EXISTS import_rows (email text, first_name text, "
            "last_name text, language_given text, country text, city text, zone_given text, "
            "interests text, row_number int, language text, timezone text) "
            "ON COMMIT DELETE ROWS"
        )
        with cursor.copy("COPY import_rows FROM STDIN") as copy:
            write_row = copy.write_row
            for row in rows:
                write_row(row)
        listed = (
            ", listed AS (INSERT INTO list_members (list_id, supporter_id, added_at) "
            "SELECT %(list)s, id, %(now)s FROM created ON CONFLICT DO NOTHING)"
            if self.list_id
            else ""
        )
        cursor.execute(
            "WITH created AS (INSERT INTO supporters (email, first_name, last_name, language, "  # noqa: S608 - only a constant clause is formatted in
            "country, city, timezone, interests, state, import_ref, state_changed_at, "
            "created_at, updated_at) SELECT email, first_name, last_name, language, country, "
            "city, timezone, interests::json, 'subscribed', %(file)s || row_number, %(now)s, "
            "%(now)s, %(now)s FROM import_rows ORDER BY email "
            "ON CONFLICT (email) DO NOTHING RETURNING id, email), "
            "logged AS (INSERT INTO consent_events (supporter_id, at, new_state, source, detail, "
            "staff_id) SELECT id, %(now)s, 'subscribed', %(source)s, %(detail)s, %(staff)s "
            f"FROM created){listed} SELECT r.email FROM import_rows r "
            "WHERE r.email NOT IN (SELECT email FROM created)",
            {
                "file": f"{self.file}:",
                "now": self._now(),
                "source": self.source,
                "detail": f"import job {self.job_id}",
                "staff": self.staff_id,
                "list": self.list_id,
            },
        )
        skipped = {row[0] for row in cursor.fetchall()}  # their address exists
        cursor.execute("TRUNCATE import_rows")
        return len(rows) - len(skipped), skipped or None

    def _update(self, changed: list[tuple[int, tuple]]) -> None:
        if not changed:
            return
        now, m = self._now(), self.mark
        interests = "%s::json" if self.postgres else "?"
        params = [(*row[1:7], row[7], now, f"{self.file}:{row[8]}", id_) for id_, row in changed]
        self._cursor().executemany(
            f"UPDATE supporters SET first_name={m}, last_name={m}, language={m}, country={m}, "  # noqa: S608 - only placeholders are formatted in
            f"city={m}, timezone={m}, interests={interests}, updated_at={m}, import_ref={m} "
            f"WHERE id={m}",
            params,
        )

    def _add_to_list(self, ids: list[int]) -> None:
        if not ids:
            return
        now, cursor = self._now(), self._cursor()
        if self.postgres:
            cursor.execute(
                "INSERT INTO list_members (list_id, supporter_id, added_at) "
                "SELECT %s, unnest(%s::int[]), %s ON CONFLICT DO NOTHING",
                (self.list_id, ids, now),
            )
            return
        cursor.executemany(
            "INSERT INTO list_members (list_id, supporter_id, added_at) VALUES (?, ?, ?) "
            "ON CONFLICT DO NOTHING",
            [(self.list_id, id_, now) for id_ in ids],
        )


def _literal(value: str) -> str:
    """A timestamp we made ourselves, as an SQL literal (digits and separators only)."""
    if not re.fullmatch(r"[0-9 :.T+-]+", value):
        raise ValueError(f"not a timestamp: {value!r}")
    return f"'{value}'"


def _padded(items: list):
    """Fixed-size chunks, the last one padded with repeats of its last item.

    One statement text per kind keeps the drivers' prepared-statement caches
    small (a cached 2,000-row INSERT costs megabytes); a repeated email is
    harmless in an IN list and skipped by ON CONFLICT DO NOTHING in an INSERT.
    """
    for start in range(0, len(items), CHUNK_ROWS):
        chunk = items[start : start + CHUNK_ROWS]
        if len(chunk) < CHUNK_ROWS:
            chunk = chunk + [chunk[-1]] * (CHUNK_ROWS - len(chunk))
        yield chunk


def _as_row(old: tuple) -> tuple:
    interests = old[8]
    if not isinstance(interests, str):
        interests = json.dumps(interests or [])
    elif interests != "[]":
        interests = json.dumps(json.loads(interests))
    return (old[0], *old[2:8], interests, 0)


def _merge(old: tuple, new: tuple) -> tuple:
    """Non-empty values of ``new`` override ``old``; empty cells never blank a field."""
    merged = [old[0]]
    for i in range(1, 8):
        value = new[i]
        merged.append(old[i] if value in ("", None, "[]") else value)
    if new[6] is None and new[4] and new[4] != old[4]:
        merged[6] = vocab.timezone_for(new[4])  # moved country: its zone, unless given
    merged += (new[8], merged[3] or "en", merged[6] or vocab.timezone_for(merged[4]))
    return tuple(merged)


@lru_cache(maxsize=1)
def _zones() -> frozenset[str]:
    import zoneinfo

    return frozenset(zoneinfo.available_timezones())


def remove_upload(job: ImportJob) -> None:
    folder = imports_folder()
    path = Path(job.path)
    if path.parent == folder and path.exists():
        os.unlink(path)


def utc_iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat()


if __name__ == "__main__":
    _read_child()
