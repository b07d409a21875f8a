"""A case's text in several languages: what staff (or the case-sheet import) enter
per language, and what a reader of a given language gets.

The case row holds the text in the case's main language
(``case.text_language``); each ``CaseText`` row holds another language's. A
reader gets their language when the case has it, else the main language, and
is told so (``CaseContent.fallback``).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from campaign.audit.services import record
from campaign.cases.models import TRANSLATED_FIELDS, Case, CaseText
from campaign.cases.services import normalise_languages
from campaign.core.errors import ValidationError
from campaign.extensions import db

LIMITS = {"title": 300}
MAX_TEXT = 50_000


@dataclass(frozen=True)
class CaseContent:
    """The case's text as one reader gets it."""

    language: str  # the language the text is in
    title: str
    summary: str
    recommended_actions: str
    background: str
    closing_text: str
    fallback: bool  # the reader's language had no text: this is the main language's


def main_language(case: Case) -> str:
    return case.text_language or "en"


def translations(case: Case) -> dict[str, CaseText]:
    rows = db.session.scalars(select(CaseText).where(CaseText.case_id == case.id))
    return {row.language: row for row in rows}


def languages_of(case: Case) -> list[str]:
    """The main language first, then every language the case has text in."""
    return [main_language(case), *sorted(set(translations(case)) - {main_language(case)})]


def content(case: Case, language: str | None, closing_text: str = "") -> CaseContent:
    """The case's text for a reader of ``language``.

    ``closing_text`` is the main language's closing text (kept with the closing
    by the outcomes domain); a translation may carry its own.
    """
    main = main_language(case)
    wanted = (language or "").lower()
    row = translations(case).get(wanted) if wanted and wanted != main else None
    if row is not None and row.title.strip():
        return CaseContent(
            language=wanted,
            title=row.title,
            summary=row.summary or "",
            recommended_actions=row.recommended_actions or "",
            background=row.background or "",
            closing_text=row.closing_text or "",
            fallback=False,
        )
    return CaseContent(
        language=main,
        title=case.title,
        summary=case.summary or "",
        recommended_actions=case.recommended_actions or "",
        background=case.background or "",
        closing_text=closing_text,
        fallback=bool(wanted) and wanted != main,
    )


def set_case_text(actor, case: Case, language: str, data: dict) -> CaseText | None:
    """Set (or with an empty title, remove) the case's text in ``language``.

    The main language's text lives on the case itself and is edited there; the
    case-sheet import calls this for each further language a sheet carries.
    """
    [code] = normalise_languages([language], "language") or [None]
    if code is None:
        raise ValidationError("Choose a language.", "language")
    if code == main_language(case):
        raise ValidationError(
            "This is the case's main language: edit its text on the case itself.", "language"
        )
    unknown = set(data) - set(TRANSLATED_FIELDS)
    if unknown:
        raise ValidationError(f"Unknown field {sorted(unknown)[0]!r}.", sorted(unknown)[0])
    values = {}
    for name in TRANSLATED_FIELDS:
        value = str(data.get(name) or "").replace("\r\n", "\n").strip()
        limit = LIMITS.get(name, MAX_TEXT)
        if len(value) > limit:
            raise ValidationError(f"Keep this under {limit:,} characters.", name)
        values[name] = " ".join(value.split()) if name == "title" else value
    row = translations(case).get(code)
    if not values["title"]:
        if any(values.values()):
            raise ValidationError("Give the title in this language.", "title")
        if row is not None:
            db.session.delete(row)
            db.session.flush()
            record(actor, "case.text_remove", case, f"Removed the {code} text of {case.label}")
        return None
    if row is None:
        row = CaseText(case_id=case.id, language=code)
        db.session.add(row)
    for name, value in values.items():
        setattr(row, name, value)
    db.session.flush()
    record(actor, "case.text", case, f"Set the {code} text of {case.label}")
    return row


def fallback_counts(case: Case, language_counts: dict[str, int]) -> dict[str, dict]:
    """Per recipients' language: how many, and whether they get the main language instead.

    ``language_counts`` is {language: number of recipients} of a mailing's audience.
    """
    have = set(languages_of(case))
    return {
        language: {"count": count, "fallback": language not in have}
        for language, count in sorted(language_counts.items())
    }
