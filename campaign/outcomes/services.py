"""Closing a case with an outcome per person, and logging official replies."""

from __future__ import annotations

import io
from datetime import date, datetime, time
from typing import BinaryIO

from sqlalchemy import func, select

from campaign.audit.services import record
from campaign.cases import services as cases
from campaign.cases.models import PERSON_STATUSES, Case, CaseStatus, UpdateKind
from campaign.core import storage
from campaign.core.errors import Conflict, NotFound, ValidationError
from campaign.extensions import db
from campaign.mailings.models import Delivery, DeliveryState, Mailing
from campaign.outcomes.models import (
    DECISIONS,
    OUTCOMES,
    Closing,
    Decision,
    LifecycleNote,
    OfficialReply,
    PersonOutcome,
)
from campaign.supporters.models import Action

# The person's status history gets a line for each outcome.
_STATUS_OF_OUTCOME = {
    "released": "released",
    "released_on_bail": "released",
    "charges_dropped": "released",
    "acquitted": "released",
    "sentence_reduced": "sentenced",
    "conviction_upheld": "sentenced",
    "transferred": "detained",
}
MAX_REPLY_FILE = 10 * 1024 * 1024


def close_case(
    actor,
    case: Case,
    *,
    decision: str,
    outcomes: list[dict],
    text: str = "",
    today: date | None = None,
) -> Closing:
    """Record the outcome for each person; "no further action" closes the case.

    ``outcomes`` holds one ``{"person_id", "outcome", "on", "note"}`` per person
    on the case; "continue" keeps the case active (as after a conviction is
    upheld), with the outcomes on record.
    """
    if case.status != CaseStatus.ACTIVE:
        raise Conflict(f"{case.label} is {case.status}: only an active UA can be closed.", "status")
    if decision not in DECISIONS:
        raise ValidationError("Choose whether appeals stop or continue.", "decision")
    today = today or cases.org_today()
    people = {person.id: person for person in case.people}
    if not people:
        raise ValidationError("Add the people at risk before recording outcomes.", "outcomes")
    given = {}
    for index, item in enumerate(outcomes):
        person_id, outcome = item.get("person_id"), item.get("outcome")
        field = f"outcomes-{index}-outcome"
        if person_id not in people:
            raise ValidationError("An outcome names a person who is not on this UA.", field)
        if person_id in given:
            raise ValidationError(f"{people[person_id].name} has two outcomes.", field)
        if outcome not in OUTCOMES:
            raise ValidationError(f"Choose the outcome for {people[person_id].name}.", field)
        on = item.get("on")
        if not isinstance(on, date):
            raise ValidationError(
                f"Give the date of the outcome for {people[person_id].name}.",
                f"outcomes-{index}-on",
            )
        if on > today:
            raise ValidationError("An outcome cannot lie in the future.", f"outcomes-{index}-on")
        given[person_id] = (outcome, on, (item.get("note") or "").strip()[:500])
    missing = [people[pid].name for pid in people if pid not in given]
    if missing:
        raise ValidationError(f"Give an outcome for {', '.join(missing)}.", "outcomes")

    closing = Closing(
        case_id=case.id,
        decision=decision,
        text=(text or "").strip(),
        decided_by_id=getattr(actor, "id", None),
    )
    for person_id, (outcome, on, note) in given.items():
        closing.outcomes.append(
            PersonOutcome(person_id=person_id, outcome=outcome, on=on, note=note)
        )
        status = _STATUS_OF_OUTCOME.get(outcome, "other")
        # The status already says "Released": repeat the outcome only when it says more.
        said = [OUTCOMES[outcome]] if OUTCOMES[outcome] != PERSON_STATUSES[status] else []
        cases.add_person_status(
            actor,
            people[person_id],
            on=on,
            status=status,
            note=": ".join([*said, note] if note else said),
            case=case,
        )
    db.session.add(closing)
    db.session.flush()
    record(
        actor,
        "case.outcome",
        case,
        f"{case.label}: {closing.summary}; {DECISIONS[decision].split(':')[0].lower()}",
        {"outcomes": {people[p].name: o for p, (o, _on, _n) in given.items()}},
    )
    if decision == Decision.NO_FURTHER_ACTION:
        cases.close_case(actor, case, closing.summary)
    return closing


def closings_of(case: Case) -> list[Closing]:
    return list(
        db.session.scalars(select(Closing).where(Closing.case_id == case.id).order_by(Closing.id))
    )


def latest_closing(case: Case) -> Closing | None:
    return db.session.scalar(
        select(Closing).where(Closing.case_id == case.id).order_by(Closing.id.desc()).limit(1)
    )


def log_reply(
    actor,
    case: Case,
    *,
    received_on: date,
    sender: str,
    text: str = "",
    filename: str = "",
    content_type: str = "",
    data: bytes | BinaryIO | None = None,
) -> OfficialReply:
    """Log a reply; ``data`` (bytes or a stream, e.g. the upload's) is stored in
    the database in chunks as it is read, refused past MAX_REPLY_FILE."""
    sender = " ".join((sender or "").split())
    if not sender:
        raise ValidationError("Say which authority replied.", "sender")
    if not isinstance(received_on, date):
        raise ValidationError("Give the date the reply was received.", "received_on")
    if received_on > cases.org_today():
        raise ValidationError("The reply cannot be received in the future.", "received_on")
    stored = None
    if data is not None:
        stream = io.BytesIO(data) if isinstance(data, bytes) else data
        name = _safe_filename(filename)
        try:
            stored = storage.save(stream, name, "application/octet-stream", MAX_REPLY_FILE)
        except storage.TooLarge:
            raise ValidationError("The file is larger than 10 MB.", "file") from None
        if not stored.size:
            storage.remove(stored.id)
            raise ValidationError("The file is empty.", "file")
    if not (text or "").strip() and stored is None:
        raise ValidationError("Paste the reply's text or attach the file.", "text")
    reply = OfficialReply(
        case_id=case.id,
        received_on=received_on,
        sender=sender[:300],
        text=(text or "").strip(),
        filename=_safe_filename(filename) if stored else "",
        content_type=(content_type or "application/octet-stream")[:100] if stored else "",
        size=stored.size if stored else 0,
        file_id=stored.id if stored else None,
        logged_by_id=getattr(actor, "id", None),
    )
    db.session.add(reply)
    db.session.flush()
    record(actor, "case.reply", case, f"Reply from {reply.sender} logged on {case.label}")
    return reply


def _safe_filename(name: str) -> str:
    name = (name or "reply").replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = "".join(c for c in name if c.isalnum() or c in "._- ").strip(" .")
    return cleaned[:200] or "reply"


def replies_of(case: Case) -> list[OfficialReply]:
    return list(
        db.session.scalars(
            select(OfficialReply)
            .where(OfficialReply.case_id == case.id)
            .order_by(OfficialReply.received_on, OfficialReply.id)
        )
    )


def get_reply(case: Case, reply_id: int) -> OfficialReply:
    reply = db.session.get(OfficialReply, reply_id)
    if reply is None or reply.case_id != case.id:
        raise NotFound("There is no such reply on this UA.")
    return reply


def timeline(case: Case) -> list[dict]:
    """One story of the case, oldest first: issue, updates, mailings, appeals, replies, outcomes."""
    events = []
    if case.issued_at:
        events.append(_event(case.issued_at, "issued", f"Issued as {case.label}", case.title))
    for update in case.updates:
        kind = "stop" if update.kind == UpdateKind.NO_FURTHER_ACTION else "update"
        events.append(
            _event(
                update.issued_at,
                kind,
                update.label.capitalize(),
                update.title,
                f"update-{update.sequence}",
            )
        )
    for closing in closings_of(case):
        outcomes = "; ".join(f"{o.person.name}: {o.label}" for o in closing.outcomes)
        events.append(
            _event(closing.decided_at, "outcome", f"Outcome: {closing.summary}", outcomes)
        )
    for reply in replies_of(case):
        # Only the day of receipt is known; logged that same day, the logging time places it.
        logged = reply.logged_at if reply.logged_at.date() == reply.received_on else None
        events.append(
            _event(
                reply.received_on,
                "reply",
                f"Reply from {reply.sender}",
                reply.text[:200],
                at=logged.timetz().replace(tzinfo=None) if logged else None,
            )
        )
    for item in notes_of(case):
        events.append(_event(item.at, "note", item.label, item.reason))
    events.extend(_mailing_events(case))
    events.extend(_appeal_events(case))
    # By when things happened: a notice after the outcome it announces. Rows
    # that carry only a date sort by kind within their day.
    return sorted(events, key=lambda e: (e["day"], e["time"], e["order"]))


_ORDER = {"issued": 0, "reply": 1, "note": 2, "mailing": 3, "update": 3, "stop": 3, "outcome": 4,
          "appeals": 5}  # fmt: skip


def _event(when, kind: str, title: str, detail: str = "", anchor: str = "", at=None) -> dict:
    if isinstance(when, datetime):
        day, at = when.date(), when.timetz().replace(tzinfo=None)
    else:
        # A reply counts from the start of its day; a day's appeal count from its end.
        day, at = when, at or (time.max if kind == "appeals" else time.min)
    return {"when": when, "day": day, "time": at, "order": _ORDER.get(kind, 9), "kind": kind,
            "title": title, "detail": detail, "anchor": anchor}  # fmt: skip


def _mailing_events(case: Case) -> list[dict]:
    rows = db.session.execute(
        select(Mailing, func.count(Delivery.id))
        .outerjoin(
            Delivery, (Delivery.mailing_id == Mailing.id) & (Delivery.state == DeliveryState.SENT)
        )
        .where(Mailing.case_id == case.id, Mailing.started_at.is_not(None))
        .group_by(Mailing.id)
    ).all()
    return [
        _event(
            m.started_at,
            "mailing",
            f"{m.kind_label} sent to {_count(sent, 'supporter')}",
            m.subject,
        )
        for m, sent in rows
    ]


def _appeal_events(case: Case) -> list[dict]:
    day = func.date(Action.created_at)
    rows = db.session.execute(
        select(day, func.count(Action.id)).where(Action.case_id == case.id).group_by(day)
    ).all()
    events = []
    for value, count in rows:
        on = value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
        events.append(_event(on, "appeals", f"{_count(count, 'appeal')} reported"))
    return events


def _count(number: int, noun: str) -> str:
    """ "1 supporter", "2 supporters" (staff pages are English)."""
    return f"{number:,} {noun}{'' if number == 1 else 's'}"


def notes_of(case: Case) -> list[LifecycleNote]:
    """The reasons recorded when a coordinator went ahead (outcomes.guide writes them)."""
    return list(
        db.session.scalars(
            select(LifecycleNote).where(LifecycleNote.case_id == case.id).order_by(LifecycleNote.id)
        )
    )
