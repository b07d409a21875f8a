"""The rules of a mailing's life: drafting, approving, sending or scheduling,
pausing, resuming, cancelling; its progress; the message it sends (content and
composers, for the outbox and the preview).

Who it goes to is in ``audience``, what an approval covers in ``approval``,
test sends in ``testsend``. Services take explicit arguments, validate, change
rows, log and flush; the caller's request or task commits. Tasks are enqueued
after that commit.
"""

from __future__ import annotations

import email
import logging
import re
from datetime import datetime, timedelta
from email import policy
from types import SimpleNamespace
from typing import Any, cast

from flask import current_app
from sqlalchemy import CursorResult, func, literal, select, update

from campaign.audit.services import record
from campaign.cases.models import Case, CaseUpdate
from campaign.core.db import insert_select_ignore, on_commit
from campaign.core.errors import Conflict, NotFound, ValidationError
from campaign.core.types import utcnow
from campaign.extensions import db
from campaign.mailings import compose
from campaign.mailings.approval import (
    approval_changes,
    approval_fingerprint,
    approval_holds,
    stale_message,
    unapprove_if_stale,
)
from campaign.mailings.audience import audience_select, audience_size
from campaign.mailings.links import personal_links
from campaign.mailings.models import (
    DELIVERY_STATES,
    FINAL_DELIVERY_STATES,
    KINDS,
    Delivery,
    DeliveryState,
    Mailing,
    MailingKind,
    MailingState,
)
from campaign.mailings.signals import work_queued
from campaign.supporters.models import Segment, Supporter, SupporterList

log = logging.getLogger(__name__)
EDITABLE = (MailingState.DRAFT,)
CASE_KINDS = (MailingKind.APPEAL, MailingKind.UPDATE, MailingKind.OUTCOME, MailingKind.REMINDER)


# -- drafting -----------------------------------------------------------------


def create_mailing(
    actor,
    *,
    kind: str,
    subject: str,
    body: str = "",
    case_id: int | None = None,
    update_id: int | None = None,
    list_ids=(),
    segment_ids=(),
    case_audience: bool = False,
    everyone: bool = False,
) -> Mailing:
    mailing = Mailing(created_by_id=getattr(actor, "id", None), state=MailingState.DRAFT)
    audience = (list_ids, segment_ids, case_audience, everyone)
    _apply(mailing, kind, subject, body, case_id, update_id, *audience)
    db.session.add(mailing)
    db.session.flush()
    record(actor, "mailing.create", mailing, f"Drafted {mailing.kind_label}: {mailing.subject}")
    return mailing


def update_mailing(actor, mailing: Mailing, **values) -> Mailing:
    if mailing.state not in EDITABLE:
        raise Conflict("Only a draft can be edited.")
    _apply(
        mailing,
        values.get("kind", mailing.kind),
        values.get("subject", mailing.subject),
        values.get("body", mailing.body),
        values.get("case_id", mailing.case_id),
        values.get("update_id", mailing.update_id),
        values.get("list_ids", mailing.audience.get("lists", [])),
        values.get("segment_ids", mailing.audience.get("segments", [])),
        values.get("case_audience", mailing.audience.get("case", False)),
        values.get("everyone", mailing.audience.get("all", False)),
    )
    # An edit after approval needs a new approval: what was approved has changed.
    mailing.approved_at = mailing.approved_by_id = mailing.approval_fingerprint = None
    db.session.flush()
    record(actor, "mailing.update", mailing, f"Edited mailing {mailing.id}")
    return mailing


def _apply(mailing, kind, subject, body, case_id, update_id, lists, segments, case_audience,
           everyone=False):  # fmt: skip
    if kind not in KINDS:
        raise ValidationError("Choose what kind of mailing this is.", "kind")
    subject = (subject or "").strip()
    if not subject:
        raise ValidationError("Write a subject.", "subject")
    if len(subject) > 300:
        raise ValidationError("Keep the subject under 300 characters.", "subject")
    try:
        compose.clean_header(subject, "subject")
    except compose.HeaderInjection as error:
        raise ValidationError(str(error), "subject") from error
    case = _case(case_id) if case_id else None
    if kind in CASE_KINDS and case is None:
        raise ValidationError("Choose the UA this mailing is about.", "case_id")
    update_row = None
    if update_id:
        update_row = db.session.get(CaseUpdate, int(update_id))
        if update_row is None or case is None or update_row.case_id != case.id:
            raise ValidationError("Choose an update of this UA.", "update_id")
    if kind == MailingKind.UPDATE and update_row is None:
        raise ValidationError("Choose which update to send.", "update_id")
    if kind == MailingKind.FREE and not (body or "").strip():
        raise ValidationError("Write the text of the mailing.", "body")
    lists, segments = _ids(lists), _ids(segments)
    _must_exist(SupporterList, lists, "list_ids", "list")
    _must_exist(Segment, segments, "segment_ids", "segment")
    if case_audience and case is None:
        raise ValidationError("The case audience needs a UA.", "case_audience")
    if not (lists or segments or case_audience or everyone):
        raise ValidationError("Choose who receives it: lists, segments or the case audience.",
                              "list_ids")  # fmt: skip
    compose.check_subject(subject)
    compose.check_text(body or "", "body")
    mailing.kind, mailing.subject, mailing.body = kind, subject, (body or "").strip()
    mailing.case_id = case.id if case else None
    mailing.update_id = update_row.id if update_row else None
    mailing.audience = {
        "lists": lists,
        "segments": segments,
        "case": bool(case_audience),
        "all": bool(everyone),
    }


def _ids(values) -> list[int]:
    try:
        return sorted({int(v) for v in values or ()})
    except (TypeError, ValueError) as error:
        raise ValidationError("Choose from the list.", "list_ids") from error


def _must_exist(model, ids: list[int], field: str, noun: str) -> None:
    """An audience names only lists and segments that exist (no silent empty send)."""
    if not ids:
        return
    found = set(db.session.scalars(select(model.id).where(model.id.in_(ids))))
    missing = [str(i) for i in ids if i not in found]
    if missing:
        raise ValidationError(f"No such {noun}: {', '.join(missing[:5])}.", field)


def _case(case_id) -> Case:
    case = db.session.get(Case, int(case_id))
    if case is None:
        raise ValidationError("That UA does not exist.", "case_id")
    return case


def get_mailing(mailing_id: int) -> Mailing:
    if not 0 < mailing_id < 2**31:  # beyond the id column: the database would refuse it
        raise NotFound("There is no such mailing.")
    mailing = db.session.get(Mailing, mailing_id)
    if mailing is None:
        raise NotFound("There is no such mailing.")
    return mailing


def list_mailings(limit: int = 100) -> list[Mailing]:
    return list(db.session.scalars(select(Mailing).order_by(Mailing.id.desc()).limit(limit)))


# -- approving, sending, pausing ---------------------------------------------------


def approve(actor, mailing: Mailing) -> Mailing:
    """Approve a draft, or approve again a scheduled mailing that changed since."""
    if mailing.state not in (MailingState.DRAFT, MailingState.SCHEDULED):
        raise Conflict("Only a draft can be approved.")
    if mailing.state == MailingState.SCHEDULED and approval_holds(mailing):
        raise Conflict("This mailing is approved and scheduled already.")
    mailing.approved_at, mailing.approved_by_id = utcnow(), getattr(actor, "id", None)
    mailing.approval_fingerprint = approval_fingerprint(mailing)
    mailing.pause_reason = ""
    db.session.flush()
    record(actor, "mailing.approve", mailing, f"Approved mailing {mailing.id}: {mailing.subject}")
    return mailing


def start_due(mailing: Mailing) -> bool:
    """The schedule tick: start a due mailing whose approval still holds; a stale
    one goes back to draft (its page and the audit log say why). True if started.
    One with no approval at all is left alone, as before (staff see it scheduled
    and unapproved)."""
    if mailing.approved_at is None:
        return False
    # Claim the due row first: of two ticks side by side (two beats, a catch-up
    # after downtime) only the one whose UPDATE finds it still scheduled starts it;
    # the other's UPDATE waits for that commit and then matches nothing.
    claim = (
        update(Mailing)
        .where(Mailing.id == mailing.id, Mailing.state == MailingState.SCHEDULED)
        .values(state=MailingState.SENDING)
        .execution_options(synchronize_session=False)
    )
    claimed = cast(CursorResult[Any], db.session.execute(claim)).rowcount
    if claimed != 1 or unapprove_if_stale(mailing):
        return False
    start(None, mailing)
    return True


def typed_confirmation_needed(size: int) -> bool:
    """A mass send (at or above MAILING_TYPED_CONFIRM_THRESHOLD) needs its count typed."""
    return size >= current_app.config["MAILING_TYPED_CONFIRM_THRESHOLD"]


def _typed_number(text: str) -> str:
    # "100,000", "100 000" and "100.000" all mean the number staff read on the page.
    return re.sub(r"[\s,.'’_]", "", text or "")


def send(
    actor,
    mailing: Mailing,
    *,
    at: datetime | None = None,
    expected: int | None = None,
    typed: str | None = None,
    ticked: bool | None = None,
):
    """Send now, or schedule for ``at``; ``expected`` is the count staff confirmed.

    The web form passes what the person did to confirm: ``typed`` (the count,
    typed, required for a mass send) and ``ticked`` (the box, enough below the
    threshold). None means the caller confirmed otherwise (the API states
    ``expected``; the CLI and tests call the service directly).
    """
    if mailing.state not in (MailingState.DRAFT, MailingState.SCHEDULED):
        raise Conflict("This mailing has already been sent or cancelled.")
    if mailing.approved_at is None:
        raise Conflict("A coordinator must approve the mailing first.")
    if changes := approval_changes(mailing):
        raise Conflict(stale_message(changes))
    size = audience_size(mailing)
    if size == 0:
        raise ValidationError("Nobody is in the audience.", "confirm")
    if expected is not None and expected != size:
        raise ValidationError(
            f"The audience is now {size:,} people, not {expected:,}. Confirm again.", "confirm"
        )
    if typed_confirmation_needed(size):
        if typed is not None and _typed_number(typed) != str(size):
            raise ValidationError(
                f"This sends to {size:,} people: type {size} to confirm.", "typed"
            )
    elif ticked is False:
        raise ValidationError("Tick to confirm.", "confirm")
    if at is not None and at > utcnow():
        mailing.state, mailing.scheduled_at = MailingState.SCHEDULED, at
        db.session.flush()
        record(actor, "mailing.schedule", mailing, f"Scheduled mailing {mailing.id} for {at}")
        return mailing
    start(actor, mailing)
    return mailing


def start(actor, mailing: Mailing) -> int:
    """Materialise the outbox with one set-based INSERT ... SELECT and wake the workers."""
    now = utcnow()
    ids = audience_select(mailing).subquery()
    rows = select(
        literal(mailing.id),
        ids.c[0],
        literal(DeliveryState.QUEUED),
        literal(0),
        literal(""),
        literal(now, type_=Delivery.__table__.c.updated_at.type),
    ).where(ids.c[0].is_not(None))
    # A supporter who already has a delivery of this mailing is skipped by the
    # unique (mailing, supporter) key, so starting twice adds nobody twice.
    statement = insert_select_ignore(
        Delivery,
        ["mailing_id", "supporter_id", "state", "attempts", "last_error", "updated_at"],
        rows,
        ["mailing_id", "supporter_id"],
    )
    db.session.execute(statement)
    count = select(func.count()).where(Delivery.mailing_id == mailing.id)
    mailing.total = db.session.scalar(count) or 0
    mailing.state, mailing.started_at, mailing.scheduled_at = MailingState.SENDING, now, None
    mailing.consecutive_failures, mailing.pause_reason = 0, ""
    db.session.flush()
    record(actor, "mailing.send", mailing, f"Started mailing {mailing.id} to {mailing.total}")
    wake(mailing.id)
    return mailing.total


def pause(actor, mailing: Mailing, reason: str = "Paused by staff.") -> Mailing:
    if mailing.state not in (MailingState.SENDING, MailingState.SCHEDULED):
        raise Conflict("Only a mailing that is sending or scheduled can be paused.")
    mailing.state, mailing.pause_reason = MailingState.PAUSED, reason[:500]
    db.session.flush()
    record(actor, "mailing.pause", mailing, f"Paused mailing {mailing.id}")
    return mailing


def resume(actor, mailing: Mailing) -> Mailing:
    """Carry on with the deliveries still queued; never re-send the ones sent (listmonk's bug)."""
    if mailing.state != MailingState.PAUSED:
        raise Conflict("Only a paused mailing can be resumed.")
    if mailing.started_at is None:
        mailing.state = MailingState.SCHEDULED if mailing.scheduled_at else MailingState.DRAFT
    else:
        mailing.state = MailingState.SENDING
    mailing.pause_reason, mailing.consecutive_failures = "", 0
    mailing.resume_at, mailing.resume_probes = None, 0  # staff took it over
    db.session.flush()
    record(actor, "mailing.resume", mailing, f"Resumed mailing {mailing.id}")
    if mailing.state == MailingState.SENDING:
        wake(mailing.id)
    return mailing


def cancel(actor, mailing: Mailing) -> Mailing:
    if mailing.state in (MailingState.SENT, MailingState.CANCELLED):
        raise Conflict("This mailing has already ended.")
    mailing.state, mailing.finished_at = MailingState.CANCELLED, utcnow()
    db.session.flush()
    record(actor, "mailing.cancel", mailing, f"Cancelled mailing {mailing.id}")
    return mailing


def wake(mailing_id: int) -> None:
    """Once the transaction commits, tell the workers (campaign/mailings/tasks.py listens).

    Through a signal, so that this module never imports the tasks that import it.
    """
    on_commit(lambda: work_queued.send(mailing_id))


# -- progress --------------------------------------------------------------------


def counts(mailing_id: int) -> dict[str, int]:
    rows = db.session.execute(
        select(Delivery.state, func.count())
        .where(Delivery.mailing_id == mailing_id)
        .group_by(Delivery.state)
    )
    result: dict[str, int] = dict.fromkeys(DELIVERY_STATES, 0)
    result.update({row[0]: row[1] for row in rows})
    return result


def progress(mailing: Mailing) -> dict:
    """Counts per state (one query, so they add up), rate and estimated time left."""
    by_state = counts(mailing.id)
    done = sum(by_state[s] for s in FINAL_DELIVERY_STATES)
    total = sum(by_state.values())
    rate = None
    eta = None
    if mailing.started_at and done:
        end = mailing.finished_at or utcnow()
        seconds = max((end - mailing.started_at).total_seconds(), 0.001)
        rate = done / seconds
        left = total - done
        if left and mailing.state == MailingState.SENDING:
            eta = timedelta(seconds=round(left / rate))
    return {
        "counts": by_state,
        "total": total,
        "done": done,
        "percent": round(100 * done / total, 1) if total else 0.0,
        "rate": round(rate, 1) if rate is not None else None,
        "eta": eta,
    }


# -- the message: content, composers, preview----------------------------------------------------


def content(mailing: Mailing) -> compose.Content:
    case = db.session.get(Case, mailing.case_id) if mailing.case_id else None
    update_row = db.session.get(CaseUpdate, mailing.update_id) if mailing.update_id else None
    return compose.Content(
        kind=mailing.kind,
        subject=mailing.subject,
        context={
            "case": case,
            "update": update_row,
            "body": mailing.body,
            "subject": mailing.subject,
            "mailing_id": mailing.id,
            # The thank-you notice goes to those who acted (docs/MESSAGES.md).
            "acted": bool((mailing.audience or {}).get("acted")),
        },
    )


def sample_recipient(language: str, supporter: Supporter | None = None) -> compose.Recipient:
    person: Supporter | SimpleNamespace
    if supporter is not None:
        person = supporter
    else:
        person = SimpleNamespace(
            id=0, email="supporter@example.org", first_name="Alex", last_name="Sample",
            city="", country=None,
        )  # fmt: skip
    return compose.Recipient(
        delivery_id=0,
        supporter_id=person.id,
        email=person.email,
        first_name=person.first_name,
        last_name=person.last_name,
        language=language,
        city=getattr(person, "city", ""),
        country=getattr(person, "country", None),
    )


def preview(mailing: Mailing, language: str, supporter: Supporter | None = None) -> dict:
    """The HTML and text a supporter in ``language`` would get, and the headers."""
    # The composer of the sample's own key: a letter's {% if city %} sees its empty city.
    composers = compose.ComposerSet(mailing.id, content(mailing), links_for(mailing.case_id))
    _sender, _to, raw = composers.build(sample_recipient(language, supporter))
    message = email.message_from_bytes(raw, policy=policy.default)
    parts = {p.get_content_type(): p.get_content() for p in message.iter_parts()}
    return {
        "subject": str(message["Subject"]),
        "headers": [(k, str(v)) for k, v in message.items()],
        "html": parts.get("text/html", ""),
        "text": parts.get("text/plain", ""),
    }


def composer_for(
    mailing: Mailing, language: str, country: str | None = None, blanks: tuple = ()
) -> compose.Composer:
    case_id = mailing.case_id
    return compose.Composer(
        mailing.id, content(mailing), language, links_for(case_id), country, blanks
    )


def links_for(case_id: int | None):
    """recipient → its personal links (built without a request; BASE_URL decides).

    Keys and URL prefixes are prepared here, once per composer; per recipient
    only the two tokens are signed (campaign.mailings.links).
    """
    return personal_links(case_id)
