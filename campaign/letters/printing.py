"""Print packs: personalised letters as a PDF (WeasyPrint), one page per target.

For one supporter (from their signed link) or, for a letter-writing group, N
blank copies with lines for names. Fonts: the Noto families (Debian's
fonts-noto-core and fonts-noto-cjk) cover Latin, Cyrillic, Arabic and Chinese;
the stylesheet names them so no script falls back to empty boxes.
"""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace

from flask import render_template

from campaign import i18n
from campaign.cases.models import Case
from campaign.cases.services import org_today
from campaign.core.errors import ValidationError
from campaign.letters import texts
from campaign.letters.appeal import appeal_block

MAX_COPIES = 100


def pack_html(
    case: Case,
    supporter=None,
    *,
    language: str | None = None,
    copies: int = 1,
    country: str | None = None,
    today: date | None = None,
) -> str:
    """The print pack as HTML; reads the database (call it inside the request)."""
    if not 1 <= copies <= MAX_COPIES:
        raise ValidationError(f"Print between 1 and {MAX_COPIES} copies.", "copies")
    today = today or org_today()
    blank = supporter is None
    if blank:
        # Nobody in particular: blank lines, and the embassy of the group's country.
        supporter = SimpleNamespace(id=None, country=country, language=language)
    block = appeal_block(case, supporter, language=language, today=today, blank=blank)
    pages = [entry for _ in range(copies) for entry in block.entries if entry.letter]
    if not pages:
        raise ValidationError(
            "There is nothing to print: write a letter and add targets first.", "language"
        )
    return render_template(
        "print/pack.html",
        block=block,
        pages=pages,
        sender=None if blank else supporter,
        # The sender's lines belong to the letter: in the letter's language.
        country=i18n.country_name(getattr(supporter, "country", None), pages[0].letter.language),
        date=texts.long_date(today, pages[0].letter.language),
        letter_language=pages[0].letter.language,
        letter_direction=texts.direction(pages[0].letter.language),
    )


def to_pdf(html: str) -> bytes:
    """Render without touching the network or the disk: the pack references nothing."""
    # WeasyPrint takes ~850 ms to import: loaded when a print pack is made.
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    return HTML(string=html, url_fetcher=URLFetcher(allowed_protocols=())).write_pdf()
