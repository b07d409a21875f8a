"""Every word of an email around the staff-written text, in the supporter's
language, from the message catalogues (campaign/translations).

``words(language)`` is called once per batch and language by the composer: it
translates inside ``force_locale`` and returns plain strings (``{name}`` and
``{date}`` stay ``str.format`` fields), so the templates that use ``w`` need no
locale of their own, and dates are spelt in that language too. Sentences that
count (appeals, days left) are built here with ``ngettext`` for the same reason.
"""

from __future__ import annotations

import datetime

from babel import Locale
from flask_babel import format_date, format_decimal, gettext, ngettext

from campaign.i18n import babel_locale, direction, email_language, in_language

# The outcome of a person, as supporters read it (campaign.outcomes.models.OUTCOMES).
_OUTCOMES = {
    "released": lambda: gettext("Released"),
    "released_on_bail": lambda: gettext("Released on bail"),
    "charges_dropped": lambda: gettext("Charges dropped"),
    "acquitted": lambda: gettext("Acquitted"),
    "sentence_reduced": lambda: gettext("Sentence reduced"),
    "conviction_upheld": lambda: gettext("Conviction upheld"),
    "death_sentence_commuted": lambda: gettext("Death sentence commuted"),
    "executed": lambda: gettext("Executed"),
    "died_in_custody": lambda: gettext("Died in custody"),
    "transferred": lambda: gettext("Transferred"),
    "other": lambda: gettext("Other"),
}


class Words(dict):
    """One language's email words; ``w.date(day)`` spells a date in that language."""

    def __init__(self, language: str, table: dict, dates: dict):
        super().__init__(table)
        self.language = language
        self.direction = direction(language)
        self._dates = dates

    def __getattr__(self, key: str) -> str:
        # Templates write ``w.act``; a missing word is a bug, not an empty string.
        try:
            return self[key]
        except KeyError as error:
            raise AttributeError(key) from error

    def date(self, day: datetime.date | None) -> str:
        if day is None:
            return ""
        if day not in self._dates:
            with in_language(self.language):
                self._dates[day] = format_date(day, format="long")
        return self._dates[day]

    def deadline_on(self, day: datetime.date) -> str:
        return _end(self["deadline"].format(date=self.date(day)))

    def update_label(self, update) -> str:
        """ "third update of UA 205/16" in English; numbered in other languages."""
        if self.language == "en":
            return update.full_label
        return self["update_label"].format(number=update.sequence, label=update.case.label)

    def number(self, count: int) -> str:
        with in_language(self.language):
            return format_decimal(count)

    def outcome(self, code: str) -> str:
        with in_language(self.language):
            return _OUTCOMES.get(code, _OUTCOMES["other"])()

    def appeals(self, count: int, label: str, acted: bool) -> str:
        """The thanks of an outcome notice, with the number of appeals."""
        with in_language(self.language):
            number = format_decimal(count)
            if acted:
                return ngettext(
                    "Thank you for acting: yours was one of %(count)s appeal for %(label)s.",
                    "Thank you for acting: yours was one of %(count)s appeals for %(label)s.",
                    count,
                    count=number,
                    label=label,
                )
            return ngettext(
                "%(count)s appeal was sent for %(label)s. Many thanks to all who wrote.",
                "%(count)s appeals were sent for %(label)s. Many thanks to all who wrote.",
                count,
                count=number,
                label=label,
            )

    def days_left(self, label: str, days: int) -> str:
        """The subject of a deadline reminder."""
        with in_language(self.language):
            if days <= 0:
                return gettext("%(label)s: last day to send your appeal", label=label)
            return ngettext(
                "%(label)s: %(count)s day left to send your appeal",
                "%(label)s: %(count)s days left to send your appeal",
                days,
                count=days,
                label=label,
            )

    def reminder_intro(self, label: str, day: datetime.date) -> str:
        return _end(self["reminder"].format(label=label, date=self.date(day)))

    def fallback_note(self, case_language: str) -> str:
        """One line saying the case text is in another language, named in this one."""
        names = Locale.parse(babel_locale(self.language)).languages
        return self["fallback"].format(language=names.get(case_language, case_language))


def _end(text: str) -> str:
    # A date that ends in an abbreviation ("2019 г.") ends the sentence too.
    return text[:-1] if text.endswith("..") else text


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
        "public": gettext("Read this Urgent Action on our website"),
        "fallback": gettext(
            "This Urgent Action has no translation in your language yet: it is in %(language)s.",
            language="{language}",
        ),
        "stop": gettext(
            "No further action is requested on this Urgent Action: please send no more appeals."
        ),
        "over": gettext(
            "This Urgent Action no longer asks for appeals. Thank you for your support."
        ),
        "outcomes_heading": gettext("What happened to each person"),
        "closed": gettext("No further action is requested. Many thanks to all who sent appeals."),
        "reminder": gettext(
            "Appeals for %(label)s must arrive before %(date)s. If you have not written yet, "
            "there is still time.",
            label="{label}",
            date="{date}",
        ),
        "outcome_subject": gettext("%(label)s: the outcome", label="{label}"),
    }


def words(language: str | None) -> Words:
    """The email words for a supporter of ``language`` (English without a catalogue)."""
    code = email_language(language)
    with in_language(code):
        return Words(code, _table(), {})
