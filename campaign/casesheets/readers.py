"""Document readers: uploaded bytes or pasted text -> normalised text in paragraphs.

This module owns the trust boundary for case-sheet uploads. Everything that reaches
``extract`` passed through here, so every check against hostile files lives here:
size caps, extension/content mismatch, zip bombs and macros in .docx, DTDs (billion
laughs, external entities) in docx XML, encrypted, truncated or oversized PDFs.
Every failure is a ``DocumentError`` with a message fit to show to staff; no parser
traceback escapes, and no reader touches the network.

Supported formats: .txt, .html/.htm, .docx, .pdf, and pasted text (``read_text``).
Each reader hands over blocks separated by blank lines with their wrapped lines
re-joined (``layout``): PDFs from their line geometry (gaps between lines, running
headers, footers and page numbers), .docx from Word's paragraph spacing, text
from its measured wrap width. What was joined or dropped is said in the warnings.
"""

from __future__ import annotations

import codecs
import io
import re
import warnings as pywarnings
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from itertools import pairwise

from campaign.casesheets import layout

MAX_BYTES = 10 * 1024 * 1024
MAX_TEXT_CHARS = 5_000_000
MAX_PDF_PAGES = 200

# Zip-bomb limits for .docx. A real case sheet unzips to well under 10 MB (images
# included) and its XML compresses about 5-20 times; zeros compress ~1000 times.
DOCX_MAX_MEMBERS = 1000
DOCX_MAX_TOTAL_UNCOMPRESSED = 60 * 1024 * 1024
DOCX_MAX_MEMBER_UNCOMPRESSED = 40 * 1024 * 1024
DOCX_MAX_RATIO = 150
DOCX_RATIO_MIN_SIZE = 1024 * 1024

FORMATS = {
    ".txt": "text",
    ".text": "text",
    ".html": "html",
    ".htm": "html",
    ".docx": "docx",
    ".pdf": "pdf",
}

UNSUPPORTED_HINTS = {
    ".doc": "Old Word .doc files are not supported: save the file as .docx or PDF.",
    ".docm": "Macro-enabled Word files (.docm) are refused: save the file as a plain .docx.",
    ".dotm": "Macro-enabled Word templates (.dotm) are refused: save the file as a plain .docx.",
    ".rtf": "RTF files are not supported: save the file as .docx, PDF or plain text.",
    ".odt": "OpenDocument files are not supported: save the file as .docx or PDF.",
}


class DocumentError(ValueError):
    """A file that cannot or must not be read; ``message`` is shown to staff as is."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass
class ReadResult:
    text: str
    format: str  # "text", "html", "docx", "pdf" or "pasted"
    warnings: list[str] = field(default_factory=list)


def read_document(data: bytes, filename: str, *, max_bytes: int = MAX_BYTES) -> ReadResult:
    """Read an uploaded case sheet; raise DocumentError for anything unreadable or hostile."""
    if not isinstance(data, (bytes, bytearray)):
        raise DocumentError("The upload is not a file.")
    if len(data) == 0:
        raise DocumentError("The file is empty.")
    if len(data) > max_bytes:
        raise DocumentError(
            f"The file is too large ({len(data):,} bytes); the limit is {max_bytes:,} bytes."
        )
    fmt = _format_for(filename)
    data = bytes(data)
    warnings: list[str] = []
    # Parser warnings (bs4, pypdf) are about the file, not our code: keep them out of logs
    # and out of test runs that turn warnings into errors.
    with pywarnings.catch_warnings():
        pywarnings.simplefilter("ignore")
        if fmt == "text":
            raw = _decode_text(data, warnings)
        elif fmt == "html":
            raw = _read_html(data)
        elif fmt == "docx":
            raw = _read_docx(data)
        else:
            raw = _read_pdf(data, warnings)
    if fmt == "text":
        raw = _reflowed(raw, warnings)
    text = _finish(raw, warnings)
    return ReadResult(text=text, format=fmt, warnings=warnings)


def _reflowed(raw: str, warnings: list[str]) -> str:
    if len(raw) > MAX_TEXT_CHARS:
        return raw  # _finish cuts it and says so; re-joining megabytes would only cost time
    # Form feeds mark pages here; normalise_text would turn them into line breaks.
    text, dropped = layout.drop_page_lines(raw.replace("\r\n", "\n").replace("\r", "\n"))
    if dropped:
        warnings.append(f"{dropped} running header, footer or page-number lines were left out.")
    text, joined = layout.reflow(normalise_text(text))
    if joined:
        warnings.append(f"{joined} wrapped lines were re-joined into paragraphs.")
    return text


def read_text(text: str) -> ReadResult:
    """Normalise pasted text the same way as an uploaded file."""
    if not isinstance(text, str):
        raise DocumentError("The pasted content is not text.")
    warnings: list[str] = []
    text = _reflowed(text, warnings)
    return ReadResult(text=_finish(text, warnings), format="pasted", warnings=warnings)


def normalise_text(text: str) -> str:
    """Line endings to \\n, NBSP-like spaces to spaces, control characters dropped.

    Unicode quotes and apostrophes are kept: names like ``Chiygoz’s`` rely on them.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = text.translate(_TRANSLATE)
    text = _CONTROL_RE.sub("", text)
    text = _TRAILING_SPACE_RE.sub("", text)
    text = _MANY_BLANKS_RE.sub("\n\n", text)
    return text.strip("\n")


_TRANSLATE = {
    0x00A0: " ",  # no-break space
    0x2007: " ",  # figure space
    0x202F: " ",  # narrow no-break space
    0x2028: "\n",  # line separator
    0x2029: "\n",  # paragraph separator
    0x000B: "\n",  # vertical tab: Word's manual line break in some exports
    0x000C: "\n",  # form feed: page break in PDF text
    0x00AD: None,  # soft hyphen
    0x200B: None,  # zero-width space
    0xFEFF: None,  # stray BOM / zero-width no-break space
}
_CONTROL_RE = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")
_TRAILING_SPACE_RE = re.compile(r"[ \t]+(?=\n|\Z)")
_MANY_BLANKS_RE = re.compile(r"\n{3,}")


def _finish(raw: str, warnings: list[str]) -> str:
    if len(raw) > MAX_TEXT_CHARS:
        warnings.append(f"The text was cut to its first {MAX_TEXT_CHARS:,} characters.")
        raw = raw[:MAX_TEXT_CHARS]
    text = normalise_text(raw)
    if not text.strip():
        raise DocumentError("The document contains no text.")
    return text


def _format_for(filename: str) -> str:
    name = (filename or "").strip().lower()
    dot = name.rfind(".")
    ext = name[dot:] if dot >= 0 else ""
    if ext in FORMATS:
        return FORMATS[ext]
    if ext in UNSUPPORTED_HINTS:
        raise DocumentError(UNSUPPORTED_HINTS[ext])
    shown = ext or "(none)"
    raise DocumentError(
        f"Unsupported file type {shown}: upload a .txt, .html, .docx or .pdf file, "
        "or paste the text."
    )


# --- plain text -------------------------------------------------------------------

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


def _decode_text(data: bytes, warnings: list[str]) -> str:
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data[len(bom) :].decode(encoding)
            except UnicodeDecodeError as exc:
                raise DocumentError(
                    f"The file starts with a {encoding} marker but is not valid {encoding}."
                ) from exc
    _refuse_binary(data, "text")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        warnings.append("The file is not UTF-8; it was read as Windows-1252 (Western European).")
        return data.decode("cp1252", errors="replace")


def _refuse_binary(data: bytes, kind: str) -> None:
    head = data[:8]
    if head.startswith(b"%PDF"):
        raise DocumentError(f"This is a PDF file, not {kind}: rename it to .pdf.")
    if head.startswith(b"PK\x03\x04"):
        raise DocumentError(f"This is a zip or Word (.docx) file, not {kind}.")
    if b"\x00" in data[:65536]:
        raise DocumentError(f"This looks like a binary file, not {kind}.")


# --- HTML -------------------------------------------------------------------------

_DROP_TAGS = (
    "script",
    "style",
    "nav",
    "noscript",
    "template",
    "svg",
    "head",
    "iframe",
    "object",
    "embed",
    "form",
    "button",
    "select",
)
_PARA_TAGS = {
    "p",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "ul",
    "ol",
    "table",
    "blockquote",
    "pre",
    "section",
    "article",
    "header",
    "footer",
    "main",
    "aside",
    "figure",
    "address",
    "hr",
}
_LINE_TAGS = {"div", "li", "tr", "td", "th", "dt", "dd", "dl", "caption", "figcaption"}
# Private-use characters mark structure while source whitespace is collapsed.
_PARA = "\ue000"
_LINE = "\ue001"


def _read_html(data: bytes) -> str:
    _refuse_binary(data, "an HTML page")
    try:
        from bs4 import BeautifulSoup  # ~100 ms to import: loaded when an HTML sheet is read

        return _html_layout(_html_text(BeautifulSoup(data, "lxml")))
    except RecursionError as exc:
        raise DocumentError("The HTML page is nested too deeply to read.") from exc
    except Exception as exc:  # any parser failure is a bad upload
        raise DocumentError("The HTML page could not be read.") from exc


def _html_text(soup) -> str:
    """Walk the tree with an explicit stack: deep nesting must neither recurse nor
    cost more than linear time (bs4's tree edits are linear per edit)."""
    # bs4 is loaded when an HTML sheet is read (~100 ms), not with the app.
    from bs4 import Comment, Declaration, Doctype, NavigableString, ProcessingInstruction

    skipped = (Comment, Declaration, Doctype, ProcessingInstruction)
    out: list[str] = []
    stack = [(soup, iter(soup.children), 0)]
    while stack:
        node, children, opened_at = stack[-1]
        child = next(children, None)
        if child is None:
            stack.pop()
            if node is not soup:
                _close_html_tag(node, out, opened_at)
            continue
        if isinstance(child, NavigableString):
            if not isinstance(child, skipped):
                out.append(str(child))
        elif child.name == "br":
            out.append(_LINE)
        elif child.name not in _DROP_TAGS:
            _open_html_tag(child.name, out)
            stack.append((child, iter(child.children), len(out)))
    return "".join(out)


def _open_html_tag(name: str, out: list[str]) -> None:
    if name in _PARA_TAGS:
        out.append(_PARA)
    elif name in _LINE_TAGS:
        out.append(_LINE)
    if name == "li":
        out.append("- ")


def _close_html_tag(tag, out: list[str], opened_at: int) -> None:
    if tag.name == "a":
        _show_href(tag, out, opened_at)
    if tag.name in _PARA_TAGS:
        out.append(_PARA)
    elif tag.name in _LINE_TAGS:
        out.append(_LINE)


def _show_href(tag, out: list[str], opened_at: int) -> None:
    """Keep link targets visible: index references hide in document URLs."""
    href = (tag.get("href") or "").strip()
    if not href or href.startswith(("#", "javascript:", "data:")):
        return
    shown = href[7:] if href.lower().startswith("mailto:") else href
    # Links nested by the thousand would make this join quadratic: only short labels count.
    label = "".join(out[opened_at:]) if len(out) - opened_at <= 50 else ""
    if _bare(shown) and _bare(shown) in _bare(label):
        return
    out.append(f" ({shown})")


def _bare(url: str) -> str:
    return re.sub(r"^(?:https?://)?(?:www\.)?", "", url.strip().lower()).rstrip("/")


_MARKS_RE = re.compile("(?: ?[" + _PARA + _LINE + "])+ ?")


def _html_layout(text: str) -> str:
    text = re.sub(r"\s+", " ", text)
    text = _MARKS_RE.sub(lambda m: "\n\n" if _PARA in m.group() else "\n", text)
    lines = [line.strip() for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines))


# --- DOCX -------------------------------------------------------------------------

_MACRO_NAME_RE = re.compile(r"(?:^|/)(?:vbaproject\.bin|vbadata\.xml)$", re.IGNORECASE)
_MACRO_TYPE_RE = re.compile(rb"macroenabled|vbaproject|ms-office\.activex", re.IGNORECASE)
_DTD_RE = re.compile(rb"<!(?:DOCTYPE|ENTITY)", re.IGNORECASE)


def _read_docx(data: bytes) -> str:
    if not data.startswith(b"PK\x03\x04"):
        raise DocumentError("This is not a valid .docx file (it is not a zip archive).")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise DocumentError("This .docx file is damaged or truncated.") from exc
    _check_zip_sizes(infos)
    names = {info.filename for info in infos}
    if "word/document.xml" not in names or "[Content_Types].xml" not in names:
        raise DocumentError("This zip file is not a Word document.")
    if any(_MACRO_NAME_RE.search(name) for name in names):
        raise DocumentError("This document contains macros; macro-enabled files are refused.")
    _check_docx_xml(archive, infos)
    return _docx_text(data)


def _check_zip_sizes(infos: list[zipfile.ZipInfo]) -> None:
    """Judge the archive by its declared sizes before inflating a single byte.

    zipfile never returns more than a member's declared size, so capping declared
    sizes caps what python-docx can inflate.
    """
    if len(infos) > DOCX_MAX_MEMBERS:
        raise DocumentError("This .docx file has too many parts to be a case sheet.")
    total = 0
    for info in infos:
        if info.flag_bits & 0x1:
            raise DocumentError("This .docx file is encrypted or password-protected.")
        size = info.file_size
        total += size
        ratio = size / max(info.compress_size, 1)
        if size > DOCX_MAX_MEMBER_UNCOMPRESSED or total > DOCX_MAX_TOTAL_UNCOMPRESSED:
            raise DocumentError("This .docx file unpacks to too much data (possible zip bomb).")
        if size > DOCX_RATIO_MIN_SIZE and ratio > DOCX_MAX_RATIO:
            raise DocumentError("This .docx file is compressed suspiciously well (zip bomb).")


def _check_docx_xml(archive: zipfile.ZipFile, infos: list[zipfile.ZipInfo]) -> None:
    try:
        for info in infos:
            name = info.filename.lower()
            if not name.endswith((".xml", ".rels")):
                continue
            blob = archive.read(info)
            if _DTD_RE.search(blob):
                raise DocumentError(
                    "This .docx file contains XML entity declarations (DTD); it is refused."
                )
            if name == "[content_types].xml" and _MACRO_TYPE_RE.search(blob):
                raise DocumentError(
                    "This document is macro-enabled or has active content; it is refused."
                )
    except DocumentError:
        raise
    except Exception as exc:  # CRC errors, bad deflate streams, ...
        raise DocumentError("This .docx file is damaged or truncated.") from exc


def _docx_text(data: bytes) -> str:
    try:
        import docx  # ~70 ms to import: loaded when a .docx sheet is read
        from docx.table import Table
        from docx.text.paragraph import Paragraph

        document = docx.Document(io.BytesIO(data))
        styles = _DocxStyles()
        lines: list[str] = []
        previous = None
        for block in document.iter_inner_content():
            if isinstance(block, Paragraph):
                if previous is not None and _docx_gap(previous, block, styles):
                    lines.append("")
                lines.append(_docx_paragraph(block, styles))
                previous = block
            elif isinstance(block, Table):
                if lines and lines[-1]:
                    lines.append("")
                _docx_table(block, lines, (Paragraph, Table, styles), depth=0)
                previous = None
    except DocumentError:
        raise
    except Exception as exc:  # python-docx/lxml raise many kinds
        raise DocumentError("This .docx file could not be read (damaged or not Word).") from exc
    return "\n".join(lines)


@dataclass(frozen=True)
class _StyleFacts:
    heading: bool
    space_after: int | None
    numbered: bool


class _DocxStyles:
    """What a paragraph's style says, looked up once per style.

    python-docx resolves ``paragraph.style`` by scanning every style of the
    document each time: hundreds of paragraphs made that most of a second.
    """

    def __init__(self):
        self._facts: dict[str | None, _StyleFacts] = {}

    def of(self, paragraph) -> _StyleFacts:
        style_id = paragraph._p.style
        if style_id not in self._facts:
            self._facts[style_id] = self._resolve(paragraph.style)
        return self._facts[style_id]

    @staticmethod
    def _resolve(style) -> _StyleFacts:
        name = (style.name or "") if style is not None else ""
        space_after, numbered = None, False
        while style is not None:
            if space_after is None:
                space_after = style.paragraph_format.space_after
            style_ppr = style.element.pPr
            numbered = numbered or (style_ppr is not None and style_ppr.numPr is not None)
            style = style.base_style
        return _StyleFacts(name.startswith(("Heading", "Title")), space_after, numbered)


def _docx_gap(before, after, styles: _DocxStyles) -> bool:
    """A blank line between two Word paragraphs, unless they belong together.

    Word separates paragraphs by spacing, not by empty paragraphs: lines of one
    address are paragraphs with no space after them, list items follow each other;
    anything else (prose, headings) is a block of its own for the extractor.
    """
    if not before.text.strip() or not after.text.strip():
        return False
    if _is_list_paragraph(before, styles) and _is_list_paragraph(after, styles):
        return False
    if styles.of(before).heading or styles.of(after).heading:
        return True
    space_after = before.paragraph_format.space_after
    if space_after is None:
        space_after = styles.of(before).space_after
    return space_after != 0


def _docx_paragraph(paragraph, styles: _DocxStyles) -> str:
    text = "".join(_docx_inline(item) for item in paragraph.iter_inner_content())
    return f"- {text}" if text.strip() and _is_list_paragraph(paragraph, styles) else text


def _is_list_paragraph(paragraph, styles: _DocxStyles) -> bool:
    """Numbered either directly or through its style ("List Bullet")."""
    ppr = paragraph._p.pPr
    if ppr is not None and ppr.numPr is not None:
        return True
    return styles.of(paragraph).numbered


def _docx_inline(item) -> str:
    """Runs as text; hyperlinks keep their address visible, like HTML links."""
    text = item.text
    address = getattr(item, "address", "") or ""
    if address and _bare(address) not in _bare(text):
        return f"{text} ({address})"
    return text


def _docx_table(table, lines: list[str], kinds, depth: int) -> None:
    """Each cell becomes its own lines: target addresses are often laid out in tables.

    ``kinds`` is (Paragraph class, Table class, the document's style lookup).
    """
    if depth > 5:
        return
    paragraph_cls, table_cls, styles = kinds
    for row in table.rows:
        seen = set()
        for cell in row.cells:
            if id(cell._tc) in seen:  # merged cells repeat
                continue
            seen.add(id(cell._tc))
            for block in cell.iter_inner_content():
                if isinstance(block, paragraph_cls) and block.text.strip():
                    lines.append(_docx_paragraph(block, styles))
                elif isinstance(block, table_cls):
                    _docx_table(block, lines, kinds, depth + 1)
        lines.append("")


# --- PDF --------------------------------------------------------------------------


def _read_pdf(data: bytes, warnings: list[str]) -> str:
    if b"%PDF-" not in data[:1024]:
        raise DocumentError("This is not a valid PDF file (no PDF header).")
    if b"%%EOF" not in data[-2048:]:
        raise DocumentError("This PDF file is truncated or damaged (no end-of-file marker).")
    try:
        from pypdf import PdfReader  # ~100 ms to import: loaded when a PDF is read

        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            raise DocumentError("This PDF is encrypted or password-protected; it is refused.")
        count = len(reader.pages)
        if count > MAX_PDF_PAGES:
            raise DocumentError(
                f"This PDF has {count} pages; the limit for a case sheet is {MAX_PDF_PAGES}."
            )
        return _pdf_pages_text(reader, warnings)
    except DocumentError:
        raise
    except Exception as exc:  # pypdf raises many kinds, incl. RecursionError
        raise DocumentError("This PDF file could not be read (damaged or unsupported).") from exc


def _pdf_pages_text(reader, warnings: list[str]) -> str:
    pages: list[list[_PdfLine]] = []
    size = 0
    for number, page in enumerate(reader.pages, start=1):
        try:
            lines = _pdf_lines(page)
        except Exception:  # noqa: BLE001 - one bad page should not lose the others
            warnings.append(f"Page {number} of the PDF could not be read and was skipped.")
            continue
        pages.append(lines)
        size += sum(len(line.text) for line in lines)
        if size > MAX_TEXT_CHARS:
            warnings.append(f"Only the first {number} pages of the PDF were read.")
            break
    if not any(line.text.strip() for lines in pages for line in lines):
        raise DocumentError("This PDF has no text layer (probably a scan); OCR is not supported.")
    dropped = _drop_running_lines(pages)
    if dropped:
        warnings.append(f"{dropped} running header, footer or page-number lines were left out.")
    text, joined = _pdf_paragraphs(pages)
    if joined:
        warnings.append(f"{joined} wrapped lines were re-joined into paragraphs.")
    return text


@dataclass
class _PdfLine:
    x: float
    y: float
    size: float  # font size
    text: str
    height: float = 0.0  # the page height, for "near the top or bottom edge"


def _pdf_lines(page) -> list[_PdfLine]:
    """The page's text lines in content order, each with where it starts.

    pypdf calls the visitor for every text operation with its matrices; fragments
    on one baseline make one line. Content order (not top-to-bottom) keeps a
    two-column page's columns apart, as the producer laid them out.
    """
    height = float(page.mediabox.height)
    lines: list[_PdfLine] = []

    def visit(text, cm, tm, _font, font_size):
        if not text or not text.strip():
            return
        x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
        y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
        size = float(font_size) * (abs(tm[3] * cm[3]) or 1.0)
        for number, part in enumerate(text.split("\n")):
            if not part.strip():
                continue
            if number == 0 and lines and abs(lines[-1].y - y) < 1.0 and not lines[-1].ended:
                lines[-1].text += part
            else:
                lines.append(_OpenLine(x, y - number * size * 1.2, size, part, height))
        if text.endswith("\n") and lines:
            lines[-1].ended = True

    page.extract_text(visitor_text=visit)
    return [_PdfLine(line.x, line.y, line.size, line.text.rstrip(), height) for line in lines]


@dataclass
class _OpenLine(_PdfLine):
    ended: bool = False


_EDGE = 0.08  # running lines sit in the top or bottom 8% of the page


def _drop_running_lines(pages: list[list[_PdfLine]]) -> int:
    """Drop page numbers, lines repeated on several pages and bare list markers.

    A running line is one that several pages repeat at their top or bottom edge
    (digits aside), or at the very same place anywhere on the page (a banner that
    a printed web page repeats). Browser engines draw list bullets apart from the
    text, so a line of nothing but a marker says nothing.
    """

    def key(line: _PdfLine) -> str:
        return re.sub(r"\d+", "#", layout.without_page_number(line.text)).strip().lower()

    def at_edge(line: _PdfLine) -> bool:
        return line.height > 0 and not (line.height * _EDGE < line.y < line.height * (1 - _EDGE))

    at_edges: Counter[str] = Counter()
    in_place: Counter[tuple[str, int]] = Counter()
    for lines in pages:
        at_edges.update({key(line) for line in lines if at_edge(line)})
        in_place.update({(key(line), round(line.y)) for line in lines})
    several = len(pages) > 1
    dropped = 0
    for lines in pages:
        kept = []
        for line in lines:
            edge = at_edge(line)
            running = several and (
                (edge and at_edges[key(line)] > 1) or in_place[(key(line), round(line.y))] > 1
            )
            marker = not re.search(r"\w", line.text)
            footer = edge and (
                layout.is_page_number(line.text)
                # "amnesty.org   Page 1": a footer, on one page or many
                or layout.without_page_number(line.text) != line.text.strip()
            )
            if running or marker or footer:
                dropped += 1
                continue
            kept.append(line)
        lines[:] = kept
    return dropped


def _pdf_paragraphs(pages: list[list[_PdfLine]]) -> tuple[str, int]:
    """Blank lines where the vertical gap says a paragraph ended; wrapped lines joined.

    Glyph widths are not at hand, so a line's length in characters against the
    widest line of its column says whether it was full (widths estimated from
    typical proportional glyph widths, ``_em_width``); within a run of lines at
    the normal leading that reads as prose (long lines, sentences), every break is
    a wrap unless a list item or a labelled line follows.
    """
    lines = [line for page in pages for line in page]
    gaps = [
        round(a.y - b.y, 1)
        for a, b in pairwise(lines)
        if 0 < a.y - b.y < 2.5 * a.size and abs(a.size - b.size) < 0.5
    ]
    leading = Counter(gaps).most_common(1)[0][0] if gaps else 12.0
    longest: dict[int, float] = {}
    for line in lines:
        column = round(line.x / 4)
        longest[column] = max(longest.get(column, 0.0), _em_width(line.text.strip()))
    runs: list[list[_PdfLine]] = []
    for index, line in enumerate(lines):
        before = lines[index - 1] if index else None
        gap = before.y - line.y if before else 0
        same = (
            before is not None
            and (gap <= 0 or gap <= leading * 1.3 or gap > 3 * leading)
            and abs(before.size - line.size) < 0.5
        )
        if same:
            runs[-1].append(line)
        else:
            runs.append([line])
    blocks: list[str] = []
    joined = 0
    for run in runs:
        widest = max(longest.get(round(line.x / 4), 1) for line in run)
        prose = sum(_em_width(line.text.strip()) for line in run) / len(run) > 0.7 * widest
        text = run[0].text.strip()
        for before, line in pairwise(run):
            first = line.text.split()[0]
            full = prose or _em_width(f"{before.text.strip()} {first}") > 0.95 * widest
            glue = layout.joins(before.text, line.text, full=full)
            if glue is None:
                text += "\n" + line.text.strip()
            else:
                text = (text[:-1] if glue == "" else text) + glue + line.text.strip()
                joined += 1
        blocks.append(text)
    return "\n\n".join(blocks), joined


_NARROW = set(" il.,:;|!'’()[]-/tfjrI")
_WIDE = set("mwMW@%")


def _em_width(text: str) -> float:
    """About how wide a line is set in a proportional font, in ems.

    Glyph widths are not at hand (they hide behind each font's encoding), and a count
    of characters takes "UA: 216/06 Index ..." in capitals and digits for as wide
    as a line of lower-case prose of the same length: it is a third wider.
    """
    width = 0.0
    for char in text:
        if char in _NARROW:
            width += 0.3
        elif char in _WIDE:
            width += 0.85
        elif char.isupper():
            width += 0.68
        elif char.isdigit():
            width += 0.56
        else:
            width += 0.52
    return width
