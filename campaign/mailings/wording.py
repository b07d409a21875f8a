"""The few words of an email around the staff-written text, in the supporter's
language, from the message catalogues (campaign/translations).

``words(language)`` is called once per batch and language by the composer: it
translates inside ``force_locale`` and returns plain strings (``{name}`` and
``{date}`` stay ``str.format`` fields), so the templates that use ``w`` need no
locale of their own, and dates are spelt in that language too.
"""

from __future__ import annotations

from datetime import date

from flask_babel import format_date, gettext

from campaign.i18n import direction, email_language, in_language


class Words(dict):
    """One language's email words; ``w.date(day)`` spells a date in that language."""

    def __init__(self, language: str, table: dict, dates: dict):
        super().__init__(table)
        self.language = language
        self.direction = direction(language)
        self._dates = dates

    def date(self, day: date | None) -> str:
        if day is None:
            return ""
        if day not in self._dates:
            with in_language(self.language):
                self._dates[day] = format_date(day, format="long")
        return self._dates[day]

    def deadline_on(self, day: date) -> str:
        text = self["deadline"].format(date=self.date(day))
        # A date that ends in an abbreviation ("2019 г.") ends the sentence too.
        return text[:-1] if text.endswith("..") else text

    def update_label(self, update) -> str:
        """ "third update of UA 205/16" in English; numbered in other languages."""
        if self.language == "en":
            return update.full_label
        return self["update_label"].format(number=update.sequence, label=update.case.label)


def _table() -> dict:
    # str.format fields survive translation as %(name)s placeholders.
    return {
        "brand": gettext("Urgent Action"),
        "dear": gettext("Dear %(name)s,", name="{name}"),
        "friend": gettext("Dear friend,"),
        "act": gettext("I sent my appeal"),
        "targets": gettext("Please write to"),
        "actions": gettext("What to do"),
        "deadline": gettext("Please act before %(date)s.", date="{date}"),
        "update_label": gettext(
            "Update %(number)s of %(label)s", number="{number}", label="{label}"
        ),
        "why": gettext("You receive this because you joined the Urgent Action network."),
        "unsubscribe": gettext("Unsubscribe or change your preferences"),
    }


def words(language: str | None) -> Words:
    """The email words for a supporter of ``language`` (English without a catalogue)."""
    code = email_language(language)
    with in_language(code):
        return Words(code, _table(), {})
