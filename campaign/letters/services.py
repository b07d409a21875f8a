"""The rules of letters and actions: letter templates, choosing a letter, signed
action links, recording actions idempotently, and the figures per case.

Services take explicit arguments, validate, change rows, log and flush; the
caller's request or task commits.
"""

from __future__ import annotations

import hashlib
import hmac
import unicodedata
from datetime import date, datetime, timedelta
from types import SimpleNamespace

from babel.lists import format_list
from flask import current_app
from sqlalchemy import func, or_, select, update

from campaign.audit.services import diff, record
from campaign.cases.models import Case, CaseStatus, CaseUpdate
from campaign.cases.services import (
    normalise_country,
    normalise_languages,
    org_today,
)
from campaign.cases.texts import main_language as case_main_language
from campaign.core.db import dialect_name, insert_ignore
from campaign.core.errors import Conflict, NotFound, ValidationError
from campaign.core.tokens import TokenRefused, fast_signer, make_token, read_token
from campaign.core.types import utcnow
from campaign.extensions import db
from campaign.i18n import country_name, language_name
from campaign.letters import rendering, texts
from campaign.letters.models import LetterTemplate
from campaign.supporters import services as supporters
from campaign.supporters.models import ACTION_SOURCES, CHANNELS, Action, Supporter, SupporterState

ACTION_PURPOSE = "action"
# An action link outlives its deadline by ACTION_LINK_GRACE_DAYS (late letters
# still count, and deadlines get extended by updates), and never lives longer
# than a year.
ACTION_LINK_MAX_AGE = 400 * 24 * 3600
# Filled in for blank copies of the print pack: lines to write on by hand.
BLANK = {"first_name": "____________", "last_name": "________________", "city": "____________"}
SAMPLE_SUPPORTERS = {
    "en": ("Jane", "Smith", "Manchester", "GB"),
    "ru": ("Анна", "Иванова", "Казань", "RU"),
}


# --- letter templates -------------------------------------------------------


def list_letters(case: Case) -> list[LetterTemplate]:
    return list(
        db.session.scalars(
            select(LetterTemplate)
            .where(LetterTemplate.case_id == case.id)
            .order_by(LetterTemplate.update_id.nulls_first(), LetterTemplate.language)
        )
    )


def get_letter(case: Case, letter_id: int) -> LetterTemplate:
    letter = db.session.get(LetterTemplate, letter_id)
    if letter is None or letter.case_id != case.id:
        raise NotFound("There is no such letter on this UA.")
    return letter


def save_letter(actor, case: Case, letter: LetterTemplate | None, data: dict) -> LetterTemplate:
    """Create or change a letter; refuses text that would not render safely."""
    clean = _clean_letter(case, letter, data)
    creating = letter is None
    if creating:
        letter = LetterTemplate(case_id=case.id, **clean)
        db.session.add(letter)
        changes = {}
    else:
        changes = diff(letter, clean)
        for field, value in clean.items():
            setattr(letter, field, value)
    letter.updated_by_id = getattr(actor, "id", None)
    db.session.flush()
    if letter.is_default:
        _unset_other_defaults(letter)
    if creating:
        record(actor, "letter.create", case, f"Added the {letter.language} letter to {case.label}")
    elif changes:
        record(actor, "letter.update", case, f"Edited the {letter.language} letter", changes)
    return letter


def _clean_letter(case: Case, letter: LetterTemplate | None, data: dict) -> dict:
    current = letter or SimpleNamespace(language="", subject="", body="", update_id=None)
    codes = normalise_languages([data.get("language", current.language) or ""], "language")
    if not codes:
        raise ValidationError("Choose the letter's language, e.g. en or ru.", "language")
    language = codes[0]
    update_id = data.get("update_id", current.update_id) or None
    if update_id is not None and not any(u.id == update_id for u in case.updates):
        raise ValidationError("Choose an update of this UA.", "update_id")
    subject = " ".join((data.get("subject", current.subject) or "").split())
    body = (data.get("body", current.body) or "").replace("\r\n", "\n").strip()
    if not subject:
        raise ValidationError("Write the subject of the letter.", "subject")
    if not body:
        raise ValidationError("Write the letter.", "body")
    values = sample_values(case, language)
    rendering.check(subject, "subject", values)
    rendering.check(body, "body", values)
    _refuse_duplicate(case, letter, language, update_id)
    clean = {"language": language, "update_id": update_id, "subject": subject, "body": body}
    if "is_default" in data:
        clean["is_default"] = bool(data["is_default"])
    return clean


def _refuse_duplicate(case, letter, language: str, update_id: int | None) -> None:
    query = select(LetterTemplate.id).where(
        LetterTemplate.case_id == case.id,
        LetterTemplate.language == language,
        LetterTemplate.update_id.is_(None)
        if update_id is None
        else LetterTemplate.update_id == update_id,
    )
    if letter is not None and letter.id is not None:
        query = query.where(LetterTemplate.id != letter.id)
    if db.session.scalar(query) is not None:
        scope = "this update" if update_id else "this UA"
        raise Conflict(
            f"There is already a {language_name(language)} letter for {scope}: edit that one.",
            "language",
        )


def _unset_other_defaults(letter: LetterTemplate) -> None:
    scope = (
        LetterTemplate.update_id.is_(None)
        if letter.update_id is None
        else LetterTemplate.update_id == letter.update_id
    )
    db.session.execute(
        update(LetterTemplate)
        .where(LetterTemplate.case_id == letter.case_id, scope, LetterTemplate.id != letter.id)
        .values(is_default=False)
        .execution_options(synchronize_session="fetch")
    )


def delete_letter(actor, case: Case, letter: LetterTemplate) -> None:
    db.session.delete(letter)
    db.session.flush()
    record(actor, "letter.delete", case, f"Removed the {letter.language} letter of {case.label}")


def choose_letter(
    case: Case, language: str | None, update: CaseUpdate | None = None
) -> LetterTemplate | None:
    """The supporter's language if the case has a letter in it, else the default.

    Letters of the latest update that has any (up to ``update``) replace the
    case's own: after a sentencing, staff write new asks.
    """
    letters = list_letters(case)
    if not letters:
        return None
    sequences = {u.id: u.sequence for u in case.updates}
    limit = update.sequence if update is not None else None
    scoped = [
        letter
        for letter in letters
        if letter.update_id is None or limit is None or sequences[letter.update_id] <= limit
    ]
    if not scoped:
        return None
    latest = max(scoped, key=lambda x: sequences.get(x.update_id, 0))
    scope = [x for x in scoped if x.update_id == latest.update_id]
    default_language = (case.languages or ["en"])[0]
    for wanted in (
        lambda x: x.language == (language or ""),
        lambda x: x.is_default,
        lambda x: x.language == default_language,
        lambda x: x.language == "en",
        lambda x: True,
    ):
        found = next((x for x in scope if wanted(x)), None)
        if found is not None:
            return found
    return None  # pragma: no cover - the last test always matches


# --- placeholder values -----------------------------------------------------


def sample_supporter(language: str | None):
    first, last, city, country = SAMPLE_SUPPORTERS.get(language or "en", SAMPLE_SUPPORTERS["en"])
    return SimpleNamespace(
        id=None, first_name=first, last_name=last, city=city, country=country, language=language
    )


def letter_values(
    case: Case,
    language: str,
    *,
    supporter=None,
    target=None,
    today: date | None = None,
    blank: bool = False,
) -> dict:
    """The placeholders' values for one supporter and one target (all plain text)."""
    person = supporter
    if blank or person is None:
        person = SimpleNamespace(country=None, **BLANK)
    names = [name_in(p, language) for p in case.people]
    values = {
        "first_name": person.first_name or "",
        "last_name": person.last_name or "",
        "city": person.city or "",
        "country": country_name(person.country, language) if person.country else "",
        "target_name": getattr(target, "name", "") or "",
        "target_title": getattr(target, "title", "") or "",
        "target_organisation": getattr(target, "organisation", "") or "",
        "salutation": salutation_in(target, language),
        "case_label": case.label,
        "people": format_list(names, locale=texts.locale(language)) if names else "",
        "date": texts.long_date(today or org_today(), language),
    }
    values["supporter_name"] = " ".join(v for v in (values["first_name"], values["last_name"]) if v)
    return values


# The script each letter language is written in (the first letter of a spelling decides).
SCRIPTS = {
    **dict.fromkeys(("ru", "uk", "be", "bg", "sr", "mk", "kk"), "CYRILLIC"),
    **dict.fromkeys(("ar", "fa", "ur"), "ARABIC"),
    "he": "HEBREW",
    "el": "GREEK",
}


def _script(text: str) -> str:
    letter = next((c for c in text if c.isalpha()), "")
    return unicodedata.name(letter, "LATIN").split(" ")[0] if letter else ""


def name_in(person, language: str) -> str:
    """The person's name as readers of ``language`` spell it: the first spelling
    (the name, then the aliases) in that language's script, else the name."""
    script = SCRIPTS.get(language, "LATIN")
    spellings = [person.name, *(a.spelling for a in getattr(person, "aliases", []))]
    return next((s for s in spellings if _script(s) == script), person.name)


def salutation_in(target, language: str) -> str:
    """The target's salutation in ``language``: its own for that language, else
    the main one when the letter is in the case's main language (staff write
    the main salutation in it; the target's ``language`` is the one it reads,
    not the one its salutation is in), else the standard one of the language."""
    if target is None:
        return texts.text("salutation_fallback", language)
    own = (getattr(target, "salutations", None) or {}).get(language, "")
    if own:
        return own
    main = getattr(target, "salutation", "") or ""
    case = getattr(target, "case", None)
    if main and (case is None or case_main_language(case) == language):
        return main
    return texts.text("salutation_fallback", language)


def sample_values(case: Case, language: str, target=None) -> dict:
    target = target or next(iter(case.targets), None)
    return letter_values(case, language, supporter=sample_supporter(language), target=target)


# --- public pages -----------------------------------------------------------


def is_public(case: Case, now: datetime | None = None) -> bool:
    """Issued and past its embargo: a draft or an embargoed UA is not shown."""
    if case.status == CaseStatus.DRAFT:
        return False
    embargo = getattr(case, "embargo_until", None)
    return embargo is None or embargo <= (now or utcnow())


def public_case(case_id: int) -> Case:
    case = db.session.get(Case, case_id)
    if case is None or not is_public(case):
        raise NotFound("There is no such Urgent Action.")
    return case


def active_public_cases(exclude_id: int | None = None, limit: int = 10) -> list[Case]:
    """Active UAs the public may see, soonest deadline first: what to act on next."""
    now = utcnow()
    rows = db.session.scalars(
        select(Case).where(
            Case.status == CaseStatus.ACTIVE,
            Case.id != (exclude_id or 0),
            or_(Case.embargo_until.is_(None), Case.embargo_until <= now),
        )
    ).all()
    today = now.date()
    # A deadline that has passed asks for nothing any more; no deadline sorts last.
    open_ = [c for c in rows if c.current_deadline is None or c.current_deadline >= today]
    open_.sort(key=lambda c: (c.current_deadline is None, c.current_deadline or today))
    return open_[:limit]


def base_url() -> str:
    return current_app.config["BASE_URL"].rstrip("/")


def public_url(case: Case, language: str | None = None) -> str:
    query = f"?lang={language}" if language else ""
    return f"{base_url()}/ua/{case.id}{query}"


# --- signed action links ----------------------------------------------------


def _action_payload(case_id: int, supporter_id: int, channel: str | None = None) -> dict:
    """What an action token carries: ``{"c": case, "s": supporter}``, and the channel if any."""
    payload = {"c": case_id, "s": supporter_id}
    if channel:
        payload["ch"] = _channel(channel)
    return payload


def action_token(case: Case, supporter, channel: str | None = None) -> str:
    return make_token(ACTION_PURPOSE, _action_payload(case.id, supporter.id, channel))


def action_url(case: Case, supporter, channel: str | None = None) -> str:
    """The "I sent my appeal" link for one supporter: absolute, from BASE_URL.

    Built without a request, since Celery workers build it too. Following it
    shows a page with one button; only the POST records (mail scanners that
    prefetch links must not count as appeals).
    """
    return f"{base_url()}/act/{action_token(case, supporter, channel)}"


def action_urls(case_id: int):
    """supporter → ``action_url(case, supporter)``, fast: for the many links of a mailing.

    The base URL is read and the signing key derived once
    (campaign.core.tokens.fast_signer); the links are the same, byte for byte.
    """
    signer, prefix = fast_signer(ACTION_PURPOSE), f"{base_url()}/act/"

    def action_url(supporter) -> str:
        return prefix + signer.dumps(_action_payload(case_id, supporter.id))

    return action_url


def print_url(case: Case, supporter) -> str:
    return f"{base_url()}/act/{action_token(case, supporter)}/letters.pdf"


def read_action_token(token: str, *, today: date | None = None):
    """(case, supporter, channel or None) of a signed link, or TokenRefused."""
    payload = read_token(ACTION_PURPOSE, token, max_age=ACTION_LINK_MAX_AGE)
    if not isinstance(payload, dict) or not {"c", "s"} <= payload.keys():
        raise TokenRefused("This link is not valid. Check that it was copied whole.")
    case = db.session.get(Case, payload["c"]) if isinstance(payload["c"], int) else None
    supporter = db.session.get(Supporter, payload["s"]) if isinstance(payload["s"], int) else None
    if case is None or supporter is None or not is_public(case):
        raise TokenRefused("This link is no longer valid.")
    deadline = case.current_deadline
    grace = current_app.config["ACTION_LINK_GRACE_DAYS"]
    if deadline is not None and (today or org_today()) > deadline + timedelta(days=grace):
        raise TokenRefused("This link has expired: the appeal is over.")
    channel = payload.get("ch")
    return case, supporter, channel if channel in CHANNELS else None


# --- recording actions ------------------------------------------------------


def _channel(channel: str) -> str:
    if channel not in CHANNELS:
        raise ValidationError("Choose how you took action: " + ", ".join(CHANNELS) + ".", "channel")
    return channel


def email_hash(email: str) -> str:
    """A keyed hash of an address: dedupes reports without keeping the address."""
    key = current_app.config["SECRET_KEY"].encode()
    normalised = (email or "").strip().lower().encode()
    return hmac.new(key, b"action-email:" + normalised, hashlib.sha256).hexdigest()


def record_action(
    case: Case,
    *,
    supporter=None,
    channel: str,
    source: str,
    country: str | None = None,
    email: str | None = None,
) -> bool:
    """Count one action; a repeat for the same supporter (or address) × case ×
    channel changes nothing. True when a new action was recorded.
    """
    channel = _channel(channel)
    if source not in ACTION_SOURCES:
        raise ValidationError(f"Unknown source “{source}”.", "source")
    if case.status == CaseStatus.DRAFT:
        raise Conflict("A draft UA takes no actions yet.", "case_id")
    if country is None and supporter is not None:
        country = supporter.country
    values = {
        "case_id": case.id,
        "channel": channel,
        "source": source,
        "country": normalise_country(country) if country else None,
        "supporter_id": getattr(supporter, "id", None),
        "email_hash": email_hash(email) if email and supporter is None else None,
        "created_at": utcnow(),
    }
    if values["supporter_id"] is not None:
        key = ["case_id", "supporter_id", "channel"]
    elif values["email_hash"] is not None:
        key = ["case_id", "email_hash", "channel"]
    else:  # counted by staff or the API: no one to repeat it
        db.session.add(Action(**values))
        db.session.flush()
        return True
    inserted = db.session.execute(insert_ignore(Action, values, key).returning(Action.id))
    return inserted.scalar_one_or_none() is not None


# --- figures ----------------------------------------------------------------


def _day():
    if dialect_name() == "postgresql":
        return func.date(func.timezone("UTC", Action.created_at))
    return func.date(Action.created_at)


def action_stats(case: Case) -> dict:
    """Total appeals, per day (UTC, gaps filled), per country and per channel."""
    where = Action.case_id == case.id
    per_channel = dict(
        db.session.execute(
            select(Action.channel, func.count()).where(where).group_by(Action.channel)
        ).all()
    )
    per_country = {
        (code or "unknown"): count
        for code, count in db.session.execute(
            select(Action.country, func.count())
            .where(where)
            .group_by(Action.country)
            .order_by(func.count().desc())
        ).all()
    }
    day = _day()
    days = {
        _as_date(value): count
        for value, count in db.session.execute(
            select(day, func.count()).where(where).group_by(day)
        ).all()
    }
    return {
        "total": sum(per_channel.values()),
        "per_day": _fill_days(days),
        "per_country": per_country,
        "per_channel": {channel: per_channel.get(channel, 0) for channel in CHANNELS},
    }


def _as_date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def _fill_days(days: dict[date, int]) -> list[dict]:
    if not days:
        return []
    first, last = min(days), max(days)
    first = max(first, last - timedelta(days=365))
    return [
        {"day": (first + timedelta(n)).isoformat(), "count": days.get(first + timedelta(n), 0)}
        for n in range((last - first).days + 1)
    ]


def list_actions(case_id: int | None = None):
    query = select(Action).order_by(Action.id.desc())
    if case_id is not None:
        query = query.where(Action.case_id == case_id)
    return query


# --- linking a public-page action to a supporter ---------------------------------------
# An address typed on the public page proves nothing: the action is counted
# anonymously, and the supporter that address belongs to is asked, by email,
# whether it was them. Only their click on that signed link links the action.

CLAIM = "action-claim"
CLAIM_MAX_AGE = 14 * 86400


def claim_token(action_id: int, supporter_id: int) -> str:
    return make_token(CLAIM, {"a": action_id, "s": supporter_id})


def read_claim(token: str) -> tuple[Action, object]:
    """The action and the supporter a claim link names, or TokenRefused."""
    payload = read_token(CLAIM, token, max_age=CLAIM_MAX_AGE)
    action = db.session.get(Action, int(payload["a"])) if isinstance(payload, dict) else None
    supporter = db.session.get(Supporter, int(payload["s"])) if action is not None else None
    if action is None or supporter is None:
        raise TokenRefused("This link is no longer valid.")
    return action, supporter


def claim_action(action: Action, supporter) -> bool:
    """Link an anonymous public-page action to the supporter who confirmed it.

    True when it is now theirs. If they had already reported the same channel
    for the case (through their email link), the anonymous copy is the same
    act counted twice: it is removed, and the count stays true.
    """
    if action.supporter_id == supporter.id:
        return False
    if action.supporter_id is not None:
        raise TokenRefused("This link is no longer valid.")
    duplicate = db.session.scalar(
        select(Action.id).where(
            Action.case_id == action.case_id,
            Action.supporter_id == supporter.id,
            Action.channel == action.channel,
        )
    )
    if duplicate is not None:
        db.session.delete(action)
    else:
        action.supporter_id = supporter.id
        action.email_hash = None
    db.session.flush()
    return True


def claimable(case: Case, email: str | None):
    """(action id, supporter) when a known, subscribed supporter has this address and
    the public page just counted an action under it; else None."""
    supporter = supporters.find_by_email(email) if email else None
    if supporter is None or supporter.state != SupporterState.SUBSCRIBED:
        return None
    action_id = db.session.scalar(
        select(Action.id)
        .where(Action.case_id == case.id, Action.email_hash == email_hash(email))
        .order_by(Action.id.desc())
        .limit(1)
    )
    return (action_id, supporter) if action_id is not None else None
