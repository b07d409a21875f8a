"""The gallery: every message supporters can receive, written to a folder to look at.

``flask mailings gallery FOLDER`` renders, for the demo data's active UA, each
kind of message (docs/MESSAGES.md) in every catalogue language, for a
supporter who acted and one who did not, with and without a city, as ``.eml``
(the bytes the outbox would send), ``.html`` and ``.txt``, with ``index.html``
to browse them and ``gallery.json`` describing each (tests/mailings/test_gallery.py
reads it). The stages that need an update or a closing get them inside the
command's own transaction, which is rolled back: the database is left as it was.
Like ``demo.py`` it sits above the domains, since it drives all of them.
"""

from __future__ import annotations

import email
import html
import json
from dataclasses import asdict, dataclass
from datetime import timedelta
from email import policy
from email.message import EmailMessage
from pathlib import Path

from flask import render_template
from flask_babel import gettext
from sqlalchemy import select

from campaign.cases import services as cases
from campaign.cases import texts as case_texts
from campaign.cases.models import Case, CaseStatus, UpdateKind
from campaign.extensions import db
from campaign.i18n import catalogue_languages, direction, in_language
from campaign.letters.services import list_letters
from campaign.mailings import compose
from campaign.mailings.links import personal_links
from campaign.outcomes.lifecycle import default_subject
from campaign.outcomes.models import Decision
from campaign.outcomes.services import close_case

# One sample supporter per language: a name in the language's script, a city, a country.
SUPPORTERS = {
    "en": ("Jane", "Smith", "Manchester", "GB"),
    "fr": ("Camille", "Martin", "Lyon", "FR"),
    "es": ("Lucía", "García", "Sevilla", "ES"),
    "ru": ("Анна", "Иванова", "Казань", "RU"),
    "uk": ("Олена", "Коваль", "Львів", "UA"),
    "ar": ("ليلى", "حداد", "عمّان", "JO"),
    "de": ("Jonas", "Weber", "Köln", "DE"),
}
# What staff typed for the outcome of each person (issue 15 quotes this one).
OUTCOME_NOTE = "released without charge; travel ban imposed"
CLOSING_TEXT = (
    "All six men were released on 2 March. Many thanks to everyone who wrote: the "
    "authorities received thousands of appeals."
)
KINDS = (
    "appeal",
    "reminder",
    "update",
    "update-news",
    "stop",
    "outcome",
    "confirmation",
)
DESCRIPTIONS = {
    "appeal": "Appeal, while the UA is active and before its deadline",
    "reminder": "Deadline reminder (only to those who did not act)",
    "update": "Update asking for further action (new deadline)",
    "update-news": "Update once the deadline has passed: news, no ask",
    "stop": "Stop notice: update with no further action",
    "outcome": "Outcome notice (acted: the thank-you variant)",
    "confirmation": "Sign-up confirmation",
}


@dataclass
class Entry:
    kind: str
    stage: str
    language: str
    acted: bool
    city: bool
    name: str  # file name without extension, under the kind's folder
    fallback: bool  # the case text is not in the reader's language
    direction: str
    subject: str
    sent: bool = True  # False: this supporter would not get this kind (no files)


def active_case() -> Case:
    """The demo UA the gallery shows: active, with letters and people, latest deadline."""
    found = [
        case
        for case in db.session.scalars(select(Case).where(Case.status == CaseStatus.ACTIVE))
        if case.people and list_letters(case)
    ]
    if not found:
        raise LookupError("No active UA with people and letters: run `flask demo` first.")
    return max(found, key=lambda c: (c.current_deadline or c.deadline or cases.org_today(), c.id))


def recipients():
    for language in catalogue_languages():
        first, last, city, country = SUPPORTERS.get(language, SUPPORTERS["en"])
        for acted in (False, True):
            for with_city in (True, False):
                yield (
                    compose.Recipient(
                        delivery_id=0,
                        supporter_id=0,
                        email=f"{language}.{'acted' if acted else 'not'}@example.org",
                        first_name=first,
                        last_name=last,
                        language=language,
                        city=city if with_city else "",
                        country=country,
                    ),
                    acted,
                    with_city,
                )


def _content(kind: str, case: Case, *, update=None, acted: bool = False, subject: str = ""):
    return compose.Content(
        kind=kind,
        subject=subject,
        context={
            "case": case,
            "update": update,
            "body": "",
            "subject": subject,
            "mailing_id": None,
            "acted": acted,
        },
    )


def _stage_contents(kind: str, case_id: int):
    """(case, {acted: Content}) for a kind, after the changes the stage needs."""
    case = db.session.get(Case, case_id)
    if kind in ("appeal", "reminder"):
        deadline = case.current_deadline
        days = (deadline - cases.org_today()).days if deadline else 3
        subject = (
            f"{case.label}: {case.title}"
            if kind == "appeal"
            else f"{case.label}: {days} day{'s' if days != 1 else ''} left to send your appeal"
        )
        content = _content(kind, case, subject=subject)
        return case, {False: content, True: content if kind == "appeal" else None}
    if kind in ("update", "update-news", "stop"):
        further = kind != "stop"
        new_deadline = cases.org_today() + timedelta(days=14) if kind == "update" else None
        update = cases.add_update(
            None,
            case,
            kind=UpdateKind.FURTHER_ACTION if further else UpdateKind.NO_FURTHER_ACTION,
            title="Trial date set" if further else "Appeals can stop",
            body=(
                "The trial will open next month. Please write again before the new deadline."
                if further
                else "The authorities dropped the case: no further appeals are needed."
            ),
            new_deadline=new_deadline,
        )
        if kind == "update-news":  # the deadline has passed: the update asks nothing
            case.deadline = cases.org_today() - timedelta(days=1)
            for earlier in case.updates:
                earlier.new_deadline = None
        db.session.flush()
        content = _content("update", case, update=update, subject=f"{case.label}: {update.label}")
        return case, {False: content, True: content}
    if kind == "outcome":
        closing = close_case(
            None,
            case,
            decision=Decision.NO_FURTHER_ACTION,
            outcomes=[
                {
                    "person_id": p.id,
                    "outcome": "released",
                    "on": cases.org_today(),
                    "note": OUTCOME_NOTE,
                }
                for p in case.people
            ],
            text=CLOSING_TEXT,
        )
        subject = default_subject(case, closing)
        return case, {
            acted: _content("outcome", case, acted=acted, subject=subject)
            for acted in (False, True)
        }
    raise ValueError(kind)


def _write(folder: Path, name: str, raw: bytes) -> tuple[str, str]:
    message = email.message_from_bytes(raw, policy=policy.default)
    page = message.get_body(("html",)).get_content()
    text = message.get_body(("plain",)).get_content()
    (folder / f"{name}.eml").write_bytes(raw)
    (folder / f"{name}.html").write_text(page, encoding="utf-8")
    (folder / f"{name}.txt").write_text(text, encoding="utf-8")
    return str(message["Subject"]), page


def _confirmation(folder: Path, recipient) -> tuple[str, bytes]:
    context = {
        "supporter": recipient,
        "confirm_url": "https://ua.example.org/confirm/SAMPLE-TOKEN",
        "preferences_url": "https://ua.example.org/preferences/SAMPLE-TOKEN",
        "days": 7,
    }
    with in_language(recipient.language):
        subject = context["subject"] = gettext("Confirm your Urgent Action sign-up")
        text = render_template("emails/supporters/confirm.txt", **context)
        page = render_template("emails/supporters/confirm.html", **context)
    message = EmailMessage(policy=policy.SMTP)
    message["From"] = "Urgent Action <ua@example.org>"
    message["To"] = recipient.email
    message["Subject"] = subject
    message["Content-Language"] = recipient.language
    message.set_content(text)
    message.add_alternative(page, subtype="html")
    return subject, message.as_bytes()


def build(folder: Path) -> list[Entry]:
    """Write the gallery into ``folder``; the database is left as it was."""
    folder.mkdir(parents=True, exist_ok=True)
    case_id = active_case().id
    entries: list[Entry] = []
    try:
        for kind in KINDS:
            (folder / kind).mkdir(exist_ok=True)
            contents, case = {}, None
            if kind != "confirmation":
                case, contents = _stage_contents(kind, case_id)
                sets = {
                    acted: compose.ComposerSet(0, content, personal_links(case.id))
                    for acted, content in contents.items()
                    if content is not None
                }
            for recipient, acted, with_city in recipients():
                name = f"{recipient.language}-{'acted' if acted else 'not'}-" + (
                    "city" if with_city else "nocity"
                )
                language = recipient.language
                if kind == "confirmation":
                    subject, raw = _confirmation(folder, recipient)
                    stage, fallback = "confirmation", False
                elif contents.get(acted) is None:
                    entries.append(Entry(kind, "not sent", language, acted, with_city, name,
                                         False, direction(language), "", sent=False))  # fmt: skip
                    continue
                else:
                    content = contents[acted]
                    stage = compose.stage(content)
                    raw = sets[acted].build(recipient)[2]
                    fallback = case_texts.content(case, language).fallback
                subject, _page = _write(folder / kind, name, raw)
                entries.append(Entry(kind, stage, language, acted, with_city, name, fallback,
                                     direction(language), subject))  # fmt: skip
            db.session.rollback()  # the next kind starts from the demo data as it is
    finally:
        db.session.rollback()
    (folder / "gallery.json").write_text(
        json.dumps([asdict(e) for e in entries], ensure_ascii=False, indent=1), encoding="utf-8"
    )
    (folder / "index.html").write_text(_index(entries), encoding="utf-8")
    return entries


def _index(entries: list[Entry]) -> str:
    rows = []
    for kind in KINDS:
        for language in catalogue_languages():
            cells = []
            for e in (e for e in entries if e.kind == kind and e.language == language):
                label = (
                    f"{'acted' if e.acted else 'did not act'}, {'city' if e.city else 'no city'}"
                )
                if not e.sent:
                    cells.append(f"<td class='muted'>{html.escape(label)}: not sent</td>")
                    continue
                base = f"{kind}/{e.name}"
                flag = " <strong title='case text not in this language'>⚑</strong>" * e.fallback
                cells.append(
                    f"<td>{html.escape(label)}{flag}<br><a href='{base}.html'>html</a> · "
                    f"<a href='{base}.txt'>txt</a> · <a href='{base}.eml'>eml</a></td>"
                )
            subject = next((e.subject for e in entries if e.kind == kind
                            and e.language == language and e.sent), "")  # fmt: skip
            rows.append(
                f"<tr><th>{html.escape(DESCRIPTIONS[kind])}<br><small>{language}</small></th>"
                f"<td dir='auto'>{html.escape(subject)}</td>{''.join(cells)}</tr>"
            )
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>Message gallery"
        "</title><style>body{font-family:sans-serif}td,th{border:1px solid #ccc;padding:4px;"
        "vertical-align:top;text-align:left}.muted{color:#888}</style></head><body>"
        "<h1>Every message supporters receive</h1><p>docs/MESSAGES.md has the rules; ⚑ marks "
        "a message whose case text has no translation in its language (the main language "
        "is shown, with a note).</p><table><tr><th>kind · language</th><th>subject</th>"
        "<th colspan='4'>supporter</th></tr>" + "".join(rows) + "</table></body></html>"
    )
