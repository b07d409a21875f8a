"""Checking a supporter file whole before anything is written: encoding,
binary data, over-long lines, delimiter, header; and mapping its columns.

A bad file is refused with a clear reason (FileRefused) and changes nothing.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

from flask import current_app

from campaign.core.errors import ValidationError

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


class FileRefused(ValidationError):
    """The file as a whole cannot be imported; nothing was written."""

    def __init__(self, message: str):
        super().__init__(message, "file")


@dataclass
class Inspection:
    encoding: str
    delimiter: str
    headers: list[str]
    digest: str
    size: int
    warnings: list[str] = field(default_factory=list)


def max_line_bytes() -> int:
    return current_app.config["IMPORT_MAX_LINE_BYTES"]


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
        if not bom16 and encoding in (None, "utf-16"):
            # Python's "utf-16" needs a byte-order mark; without one the order
            # shows in where the NUL bytes of the (mostly ASCII) text fall.
            encoding = _utf16_order(fh.read(4096)) or encoding
            fh.seek(0)
            if encoding == "utf-16":
                raise FileRefused(
                    "The file is not UTF-16 text: choose its encoding, or save it again as UTF-8."
                )
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
            if longest > max_line_bytes():
                break
        if longest > max_line_bytes():
            raise FileRefused(
                f"A line of the file is longer than {max_line_bytes() // 1024} KB: it is not a"
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


def _utf16_order(sample: bytes) -> str | None:
    """ "utf-16-le" or "utf-16-be" when the sample looks like UTF-16 text
    without a byte-order mark (NUL bytes at one parity of position only)."""
    pairs = len(sample) // 2
    if pairs < 2:
        return None
    even, odd = sample[0 : 2 * pairs : 2].count(0), sample[1 : 2 * pairs : 2].count(0)
    if odd >= pairs * 0.3 and even <= pairs * 0.02:
        return "utf-16-le"
    if even >= pairs * 0.3 and odd <= pairs * 0.02:
        return "utf-16-be"
    return None


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


def as_text(fh, encoding: str) -> io.TextIOWrapper:
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
    csv.field_size_limit(max_line_bytes())
    with open(path, "rb") as fh, as_text(fh, encoding) as text:
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
