"""The turns of a case that reach the network: update mailings, outcome notices, reminders.

- Issuing an update drafts a mailing to the case audience (DESIGN.md §2 rule 3),
  labelled "UA 205/16: third update"; staff may narrow it, a coordinator sends it.
- Closing schedules an outcome notice: a row ticked by beat, started once.
- A deadline reminder goes to those who received the appeal and did not act,
  a configured number of days before the deadline; once per case and deadline.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import current_app
from sqlalchemy import func, select, update

from campaign.audit.services import record
from campaign.auth.models import User
from campaign.cases import services as cases
from campaign.cases.models import Case, CaseStatus
from campaign.cases.signals import update_issued
from campaign.core.db import insert_ignore
from campaign.core.errors import Conflict, ValidationError
from campaign.core.types import utcnow
from campaign.extensions import db
from campaign.mailings import compose
from campaign.mailings import services as mailings
from campaign.mailings.audience import audience_size
from campaign.mailings.models import Delivery, Mailing, MailingKind
from campaign.outcomes.models import (
    NOTICE_TIMINGS,
    Closing,
    Decision,
    NoticeState,
    NoticeTiming,
    OutcomeNotice,
    Reminder,
)
from campaign.outcomes.services import latest_closing
from campaign.supporters.models import Action, Supporter

log = logging.getLogger(__name__)
LOCAL_HOUR = 9
# The earliest 09:00 on a date is at UTC+14 (Kiribati).
EARLIEST_OFFSET = timedelta(hours=14)


# --- updates ----------------------------------------------------------------


@update_issued.connect
def draft_update_mailing(case: Case, *, update, actor) -> None:
    mailings.create_mailing(
        actor,
        kind=MailingKind.UPDATE,
        subject=f"{case.label}: {update.label}",
        body=update.body,
        case_id=case.id,
        update_id=update.id,
        case_audience=True,
    )


# --- outcome notices ----------------------------------------------------------


def default_texts(case: Case, closing: Closing) -> dict:
    """The notice's own texts start empty: the message itself says, in each
    reader's language, what happened to each person, the closing text, the
    thanks and the number of appeals (templates/emails/outcome.*). Staff may add
    a word of their own, with ``{{ appeals }}`` for the number."""
    return {"subject": default_subject(case, closing), "body": "", "thanks_body": ""}


def default_subject(case: Case, closing: Closing) -> str:
    return f"{case.label}: {closing.summary}"


@compose.provide("outcome")
def _outcome_context(case: Case, content) -> dict:
    """What an outcome notice tells (compose calls this once per composer)."""
    closing = latest_closing(case)
    if closing is None:
        return {"outcomes": [], "closing_text": "", "appeals": 0, "closed": False}
    mailing_id = content.context.get("mailing_id")
    notice = None
    if mailing_id:
        notice = db.session.scalar(
            select(OutcomeNotice).where(
                (OutcomeNotice.mailing_id == mailing_id)
                | (OutcomeNotice.thanks_mailing_id == mailing_id)
            )
        )
    appeals = notice.appeals if notice is not None and notice.appeals is not None else None
    if appeals is None:
        appeals = db.session.scalar(select(func.count(Action.id)).where(Action.case_id == case.id))
    return {
        "outcomes": list(closing.outcomes),
        "closing_text": closing.text or "",
        "appeals": appeals or 0,
        "closed": closing.decision == Decision.NO_FURTHER_ACTION,
        "default_subject": default_subject(case, closing),
    }


def _org_zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["ORG_TIMEZONE"])


def _when(timing: str, at: datetime | None, local_date: date | None, now: datetime):
    """(send_at in UTC, local_date) for a timing, or a refusal at the field."""
    if timing not in NOTICE_TIMINGS:
        raise ValidationError("Choose when the notice goes out.", "timing")
    if timing == NoticeTiming.ORG_TIME:
        if at is None:
            raise ValidationError("Give the date and time to send the notice.", "send_at")
        if at.tzinfo is None:  # a time typed by staff is the organisation's time
            at = at.replace(tzinfo=_org_zone())
        at = at.astimezone(UTC)
        if at < now - timedelta(minutes=1):
            raise ValidationError("That time has passed. Choose a later one.", "send_at")
        return at, None
    if local_date is None:
        raise ValidationError("Give the day to send the notice.", "local_date")
    if local_date < cases.org_today(now):
        raise ValidationError("That day has passed. Choose a later one.", "local_date")
    first = datetime.combine(local_date, time(LOCAL_HOUR), tzinfo=UTC) - EARLIEST_OFFSET
    return max(first, now), local_date


def schedule_notice(
    actor,
    case: Case,
    closing: Closing,
    *,
    timing: str,
    at: datetime | None = None,
    local_date: date | None = None,
    texts: dict | None = None,
    now: datetime | None = None,
) -> OutcomeNotice:
    now = now or utcnow()
    send_at, local_date = _when(timing, at, local_date, now)
    texts = {**default_texts(case, closing), **{k: v for k, v in (texts or {}).items() if v}}
    _check_texts(texts)
    notice = OutcomeNotice(
        case_id=case.id, closing_id=closing.id, timing=timing, send_at=send_at,
        local_date=local_date, subject=_subject(texts["subject"]), body=texts["body"].strip(),
        thanks_body=texts["thanks_body"].strip(), created_by_id=getattr(actor, "id", None),
    )  # fmt: skip
    db.session.add(notice)
    db.session.flush()
    record(
        actor,
        "notice.schedule",
        case,
        f"Outcome notice of {case.label} for {send_at:%Y-%m-%d %H:%M} UTC",
    )
    return notice


def _check_texts(texts: dict) -> None:
    """The notice's texts use the mailings' one placeholder syntax, checked now."""
    compose.check_subject(texts.get("subject") or "")
    for field in ("body", "thanks_body"):
        compose.check_text(texts.get(field) or "", field)


def _subject(text: str) -> str:
    subject = " ".join((text or "").split())
    if not subject:
        raise ValidationError("Give the notice a subject.", "subject")
    return subject[:300]


def edit_notice(actor, notice: OutcomeNotice, *, timing, at=None, local_date=None, texts=None):
    if notice.state != NoticeState.SCHEDULED:
        raise Conflict("The notice has started or was cancelled: it can no longer change.")
    now = utcnow()
    notice.send_at, notice.local_date = _when(timing, at, local_date, now)
    notice.timing = timing
    texts = texts or {}
    _check_texts(texts)
    notice.subject = _subject(texts.get("subject") or notice.subject)
    notice.body = (texts.get("body") or notice.body).strip()
    notice.thanks_body = (texts.get("thanks_body") or notice.thanks_body).strip()
    record(actor, "notice.edit", notice, f"Outcome notice {notice.id} changed")
    return notice


def cancel_notice(actor, notice: OutcomeNotice) -> None:
    claimed = db.session.execute(
        update(OutcomeNotice)
        .where(OutcomeNotice.id == notice.id, OutcomeNotice.state == NoticeState.SCHEDULED)
        .values(state=NoticeState.CANCELLED)
    ).rowcount
    if not claimed:
        raise Conflict("The notice has already started or was cancelled.")
    db.session.refresh(notice)
    record(actor, "notice.cancel", notice, f"Outcome notice {notice.id} cancelled")


def notices_of(case: Case) -> list[OutcomeNotice]:
    return list(
        db.session.scalars(
            select(OutcomeNotice).where(OutcomeNotice.case_id == case.id).order_by(OutcomeNotice.id)
        )
    )


def start_due_notices(now: datetime | None = None) -> int:
    """Start every notice that has fallen due (a periodic job); returns how many."""
    now = now or utcnow()
    due = db.session.scalars(
        select(OutcomeNotice.id).where(
            OutcomeNotice.state == NoticeState.SCHEDULED, OutcomeNotice.send_at <= now
        )
    ).all()
    started = 0
    for notice_id in due:
        # The conditional UPDATE is the claim: of two beats, or a beat and a
        # catch-up after downtime, exactly one sees rowcount 1.
        claimed = db.session.execute(
            update(OutcomeNotice)
            .where(OutcomeNotice.id == notice_id, OutcomeNotice.state == NoticeState.SCHEDULED)
            .values(state=NoticeState.STARTED, started_at=now)
        ).rowcount
        if claimed:
            _start(db.session.get(OutcomeNotice, notice_id), now)
            started += 1
    return started


def _start(notice: OutcomeNotice, now: datetime) -> None:
    case = db.session.get(Case, notice.case_id)
    notice.appeals = db.session.scalar(
        select(func.count(Action.id)).where(Action.case_id == case.id)
    )
    creator = _creator(notice)
    main = mailings.create_mailing(
        creator,
        kind=MailingKind.OUTCOME,
        subject=notice.subject,
        body=notice.body,
        case_id=case.id,
        case_audience=True,
    )
    thanks = mailings.create_mailing(
        creator,
        kind=MailingKind.OUTCOME,
        subject=notice.subject,
        case_id=case.id,
        case_audience=True,
        body=notice.thanks_body,
    )
    main.audience = {**main.audience, "acted": False}
    thanks.audience = {**thanks.audience, "acted": True}
    notice.mailing_id, notice.thanks_mailing_id = main.id, thanks.id
    for mailing in (main, thanks):
        mailings.approve(creator, mailing)
        if audience_size(mailing):
            mailings.start(creator, mailing)
            if notice.timing == NoticeTiming.LOCAL_MORNING:
                _stagger_by_time_zone(mailing.id, notice.local_date)
        else:
            mailings.cancel(creator, mailing)
    record(None, "notice.start", case, f"Outcome notice of {case.label} started")


def _creator(notice: OutcomeNotice):
    return db.session.get(User, notice.created_by_id) if notice.created_by_id else None


def local_send_time(zone_name: str, day: date) -> datetime:
    """09:00 on ``day`` in the zone, in UTC (an unknown zone counts as UTC)."""
    try:
        zone = ZoneInfo(zone_name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    return datetime.combine(day, time(LOCAL_HOUR), tzinfo=zone).astimezone(UTC)


def _stagger_by_time_zone(mailing_id: int, day: date) -> None:
    """Hold each delivery until 09:00 in its supporter's zone: one UPDATE per zone."""
    zones = db.session.scalars(
        select(Supporter.timezone)
        .join(Delivery, Delivery.supporter_id == Supporter.id)
        .where(Delivery.mailing_id == mailing_id)
        .distinct()
    ).all()
    for zone in zones:
        db.session.execute(
            update(Delivery)
            .where(
                Delivery.mailing_id == mailing_id,
                Delivery.supporter_id.in_(select(Supporter.id).where(Supporter.timezone == zone)),
            )
            .values(due_at=local_send_time(zone, day))
        )


# --- reminders ----------------------------------------------------------------


def send_due_reminders(today: date | None = None) -> int:
    """Remind non-acting recipients of the appeal a few days before the deadline."""
    today = today or cases.org_today()
    days = current_app.config["REMINDER_DAYS_BEFORE"]
    sent = 0
    for case in db.session.scalars(select(Case).where(Case.status == CaseStatus.ACTIVE)):
        deadline = case.current_deadline
        if deadline is None or not (today <= deadline <= today + timedelta(days=days)):
            continue  # never after the deadline, and not too early
        appealed = db.session.scalar(
            select(func.count(Mailing.id)).where(
                Mailing.case_id == case.id, Mailing.started_at.is_not(None)
            )
        )
        if not appealed:
            continue
        claim = insert_ignore(
            Reminder, {"case_id": case.id, "deadline": deadline}, ["case_id", "deadline"]
        ).returning(Reminder.id)
        # RETURNING, not rowcount: psycopg reports -1 for an INSERT ... ON CONFLICT.
        inserted = db.session.execute(claim).scalar()
        if not inserted:
            continue  # reminded already (or another beat is doing it right now)
        left = (deadline - today).days
        when = "last day" if left == 0 else f"{left} day{'s' if left != 1 else ''} left"
        # The body stays empty: the reminder says when appeals must arrive in each
        # reader's language (templates/emails/reminder.*); the subject is translated too.
        mailing = mailings.create_mailing(
            None, kind=MailingKind.REMINDER, case_id=case.id, case_audience=True,
            subject=f"{case.label}: {when} to send your appeal", body="",
        )  # fmt: skip
        mailing.audience = {**mailing.audience, "acted": False}
        reminder = db.session.scalar(
            select(Reminder).where(Reminder.case_id == case.id, Reminder.deadline == deadline)
        )
        reminder.mailing_id = mailing.id
        mailings.approve(None, mailing)
        if audience_size(mailing):
            mailings.start(None, mailing)
        else:
            mailings.cancel(None, mailing)
        sent += 1
    return sent
