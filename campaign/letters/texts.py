"""Every supporter-facing word of the appeal block, print pack and public page.

The words come from the message catalogues (campaign/translations), like the
rest of an email: ``strings(language)`` translates them all at once inside
that language, so the templates read ``block.t.what_happened`` without a
locale of their own. A language without a catalogue gets English. Dates are
spelt by Babel in the letter's language.
"""

from __future__ import annotations

from datetime import date

from babel import Locale, UnknownLocaleError
from babel.dates import format_date
from flask_babel import gettext

from campaign.i18n import email_language, in_language


def _table() -> dict:
    # str.format fields survive translation as %(name)s placeholders.
    return {
        "what_happened": gettext("What happened"),
        "what_to_ask": gettext("What to ask for"),
        "your_letter": gettext("Your letter"),
        "write_to": gettext("Write to"),
        "copy_to": gettext("Send a copy to"),
        "subject": gettext("Subject"),
        "salutation": gettext("Salutation"),
        "write_email": gettext("Write an email"),
        "email_shortened": gettext(
            "The letter was shortened to fit the email link: copy the full text from above."
        ),
        "print_letters": gettext("Print your letters (PDF)"),
        "sent_appeal": gettext("I sent my appeal"),
        "deadline_before": gettext("Please send appeals before %(date)s.", date="{date}"),
        "deadline_passed": gettext(
            "The deadline was %(date)s: please check with the office before sending appeals.",
            date="{date}",
        ),
        "salutation_fallback": gettext("Dear Sir or Madam"),
        "signature": gettext("Signature"),
        "name": gettext("Name"),
        "city": gettext("Town or city"),
        "closed": gettext("No further action is requested. Many thanks to all who sent appeals."),
        "outcome": gettext("Outcome"),
        "people": gettext("People at risk"),
        "languages": gettext("Also in"),
        "channel.letter": gettext("Letter"),
        "channel.email": gettext("Email"),
        "channel.fax": gettext("Fax"),
        "channel.social": gettext("Social media"),
        "channel.phone": gettext("Phone call"),
    }


_CACHE: dict[str, dict] = {}


# Languages written right to left: the print pack and pages set dir="rtl".
RTL = {"ar", "fa", "he", "ur", "yi"}
# Babel locale per language where the bare code is not what the office uses
# (the organisation writes dates the British way: 27 September 2019).
LOCALES = {"en": "en_GB"}


def strings(language: str | None) -> dict:
    """All strings for ``language``, English where it has no catalogue."""
    code = email_language(language)
    if code not in _CACHE:  # the catalogues do not change while the process runs
        with in_language(code):
            _CACHE[code] = _table()
    return _CACHE[code]


def text(key: str, language: str | None, **values) -> str:
    result = strings(language)[key].format(**values)
    # A date that ends in an abbreviation ("2019 г.") ends the sentence too.
    return result[:-1] if result.endswith("..") else result


def locale(language: str | None) -> Locale:
    code = LOCALES.get(language or "en", language or "en")
    try:
        return Locale.parse(code)
    except (UnknownLocaleError, ValueError):
        return Locale.parse("en_GB")


def long_date(day: date, language: str | None) -> str:
    """27 September 2019 · 27 сентября 2019 г. · ٢٧ سبتمبر ٢٠١٩"""
    return format_date(day, format="long", locale=locale(language))


def direction(language: str | None) -> str:
    return "rtl" if (language or "").lower() in RTL else "ltr"
