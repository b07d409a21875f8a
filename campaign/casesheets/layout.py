"""A document as a document: wrapped lines re-joined into paragraphs, running lines dropped.

Readers hand over text whose blank lines separate blocks; inside a block a line
break may be a real one (an address, a list, a header) or only where the page or
the e-mail client ran out of width. ``reflow`` decides for each break:

- the next line starts a list item or a labelled line ("Fax: ...") -> keep;
- the line is a bare label ("Email:") -> join, the value follows;
- a word hyphenated at the line end, continued in lower case -> join without the
  hyphen;
- one line is in capitals and the other is not -> keep (a heading);
- the line was full (the next line's first word would not have fitted: the
  document's wrap width is measured, see ``wrap_width``) -> join;
- the line ends without sentence punctuation and the next starts in lower case
  -> join (a line of 40 characters or more: "al-Manama" ends an address);
- two lines in capitals, the first long and unpunctuated (a wrapped headline)
  -> join;
- anything else -> keep: short lines (addresses, headers) stay lines.

PDFs give more to go on (the vertical gaps between lines, where each line ends),
so ``readers`` builds their blocks from the page geometry and calls ``joins``
with its own measure of a full line. Running headers and footers and page
numbers are dropped there too (``is_page_number``).
"""

from __future__ import annotations

import re
from collections import Counter

_BULLET_RE = re.compile(r"^(?:[-•*–·▪◦]|\d{1,2}[.)]|o(?=[ \t]))[ \t]+\S")
_LABEL_RE = re.compile(
    r"^(?:Salutation|E-?mail|Fax(?:es)?|Tel|Telephone|Phone|Twitter|Facebook|Instagram"
    r"|Telegrams?|Website|Courriel|Formule[ \t]+d'appel|Tratamiento|Correo(?:-e)?|Anrede"
    r"|Index|Date|Fecha|UA|AU)\b[^\n:]{0,20}:",
    re.IGNORECASE,
)
_BARE_LABEL_RE = re.compile(
    r"^(?:Salutation|E-?mail|Fax(?:es)?|Tel|Telephone|Phone|Twitter|Courriel|Correo(?:-e)?"
    r"|Tratamiento|Formule[ \t]+d'appel)[ \t]?:$",
    re.IGNORECASE,
)
_END_PUNCT = '.:;!?»”")'
_PAGE_NUMBER_RE = re.compile(
    r"^(?:(?:page|p\.|seite|página)[ \t]*\d{1,3}(?:[ \t]*(?:of|/|de|sur|von)[ \t]*\d{1,3})?"
    r"|[-–—]?[ \t]*\d{1,3}[ \t]*[-–—]?|\d{1,3}[ \t]*/[ \t]*\d{1,3})$",
    re.IGNORECASE,
)
_TRAILING_PAGE_RE = re.compile(
    r"[ \t]+(?:page|p\.|seite|página)[ \t]*\d{1,3}(?:[ \t]*(?:of|/|de|sur|von)[ \t]*\d{1,3})?$",
    re.IGNORECASE,
)


def is_page_number(line: str) -> bool:
    return bool(_PAGE_NUMBER_RE.match(line.strip()))


def without_page_number(line: str) -> str:
    """ "amnesty.org    Page 2" -> "amnesty.org": running footers differ only there."""
    return _TRAILING_PAGE_RE.sub("", line.strip())


_PAGE_WORD_RE = re.compile(
    r"^(?:(?:page|p\.|seite|página)[ \t]*\d{1,3}(?:[ \t]*(?:of|/|de|sur|von)[ \t]*\d{1,3})?"
    r"|[-–—][ \t]*\d{1,3}[ \t]*[-–—])$",
    re.IGNORECASE,
)


def drop_page_lines(text: str) -> tuple[str, int]:
    """Plain text: drop page markers and running lines repeated at page breaks.

    A form feed ends a page (e-mailed and printed sheets keep them); a short line
    that opens or closes three or more pages alike (digits aside) is a running
    header or footer. Without form feeds only explicit markers ("Page 2 of 3",
    "- 2 -") go: a bare number could be anything.
    """
    pages = [page.split("\n") for page in text.split("\f")]

    def key(line: str) -> str:
        return re.sub(r"\d+", "#", without_page_number(line)).lower()

    edges: Counter[str] = Counter()
    for lines in pages:
        content = [line for line in lines if line.strip()]
        edge = content[:2] + content[-2:]
        edges.update({key(line) for line in edge if len(line.strip()) <= 80})
    running = {k for k, n in edges.items() if n >= 3 and k.strip()}
    dropped = 0
    kept_pages = []
    for lines in pages:
        content = [i for i, line in enumerate(lines) if line.strip()]
        edge = set(content[:2] + content[-2:])
        kept = []
        for index, line in enumerate(lines):
            marker = _PAGE_WORD_RE.match(line.strip()) or (
                len(pages) > 1 and index in edge and is_page_number(line)
            )
            if marker or (index in edge and key(line) in running):
                dropped += 1
                continue
            kept.append(line)
        kept_pages.append("\n".join(kept))
    # Pages meet like lines: a paragraph that runs over a page break is re-joined.
    return "\n".join(kept_pages), dropped


def joins(line: str, following: str, *, full: bool) -> str | None:
    """How ``line`` and ``following`` meet: " " or "" (joined), or None (a real break)."""
    prev, nxt = line.rstrip(), following.strip()
    if not prev or not nxt or _BULLET_RE.match(nxt):
        return None
    if _BARE_LABEL_RE.match(prev.strip()):
        return " "
    if _LABEL_RE.match(nxt):
        return None
    starts_lower = nxt[0].islower()
    if re.search(r"[^\W\d_]-$", prev) and starts_lower:
        return ""
    if _is_caps(nxt) != _is_caps(prev):
        return None  # capitals begin or end: a heading, not a wrap
    if full:
        return " "
    if _is_caps(prev) and _is_caps(nxt) and len(prev.strip()) >= 25 and prev[-1] not in _END_PUNCT:
        return " "  # a headline in capitals, wrapped
    if prev[-1] not in _END_PUNCT and starts_lower and len(prev.strip()) >= 40:
        return " "
    return None


def _is_caps(line: str) -> bool:
    letters = [c for c in line if c.isalpha()]
    return len(letters) >= 3 and all(c.isupper() for c in letters)


def wrap_width(lines: list[str]) -> int | None:
    """The width a text was hard-wrapped at, or None when its lines were not wrapped.

    A wrapped text has many lines ending within a few characters of one length (the
    width); unwrapped text (a paragraph a line) has no such cluster.
    """
    lengths = [len(line.rstrip()) for line in lines if len(line.strip()) >= 30]
    if len(lengths) < 4:
        return None
    counts = Counter(lengths)

    def near(width: int) -> int:
        return sum(n for length, n in counts.items() if width - 10 <= length <= width)

    width = max((w for w in counts if w <= 120), key=lambda w: (near(w), -w), default=None)
    if width is None or near(width) < max(4, len(lengths) // 3):
        return None
    if sum(n for length, n in counts.items() if length > width + 10) > len(lengths) // 20:
        return None  # paragraphs run far past it: short lines that merely look alike
    return width


def reflow(text: str) -> tuple[str, int]:
    """Re-join wrapped lines of plain text; returns the text and how many breaks went."""
    lines = text.split("\n")
    width = wrap_width(lines)
    out: list[str] = []
    joined = 0
    physical = ""  # the line as it was in the file: fullness is judged on it, not on out[-1]
    for line in lines:
        if out and out[-1].strip() and line.strip():
            full = width is not None and len(physical.rstrip()) + 1 + len(line.split()[0]) > width
            glue = joins(out[-1], line, full=full)
            if glue is not None:
                kept = out[-1].rstrip()
                out[-1] = (kept[:-1] if glue == "" else kept) + glue + line.strip()
                joined += 1
                physical = line
                continue
        out.append(line)
        physical = line
    return "\n".join(out), joined
