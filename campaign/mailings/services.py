"""The rules of mailings: drafting, approval, starting, pausing, progress, previews.

Services take explicit arguments, validate, change rows, log and flush; the
caller's request or task commits. Tasks are enqueued after that commit.
"""

from __future__ import annotations

import email
import hashlib
import json
import logging
import re
from datetime import datetime, timedelta
from email import policy
from types import SimpleNamespace

from flask import current_app
from sqlalchemy import and_, exists, func, insert, literal, select, update

from campaign.audit.services import record
from campaign.cases.models import Case, CaseUpdate
from campaign.core.db import on_commit
from campaign.core.errors import Conflict, NotFound, ValidationError
from campaign.core.types import utcnow
from campaign.extensions import db
from campaign.mailings import compose, smtp
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
from campaign.supporters.models import Action, Segment, Supporter, SupporterList, SupporterState
from campaign.supporters.services import audience_select as supporters_audience

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


# -- the audience ---------------------------------------------------------------


def audience_select(mailing: Mailing):
    """A Select of the supporter ids the mailing goes to (subscribed, deduplicated)."""
    audience = mailing.audience or {}
    parts = []
    if audience.get("lists") or audience.get("segments"):
        parts.append(_list_audience(audience.get("lists", ()), audience.get("segments", ())))
    if audience.get("all"):
        parts.append(select(Supporter.id).where(Supporter.state == SupporterState.SUBSCRIBED))
    if audience.get("case") and mailing.case_id:
        parts.append(case_audience_select(mailing.case_id, exclude_mailing_id=mailing.id))
    if not parts:
        return select(Supporter.id).where(literal(False))
    ids = parts[0] if len(parts) == 1 else parts[0].union(*parts[1:])
    ids = ids.subquery()
    query = select(Supporter.id).where(
        Supporter.id.in_(select(ids.c[0])), Supporter.state == SupporterState.SUBSCRIBED
    )
    acted = audience.get("acted")
    if acted is not None and mailing.case_id:
        # Narrowed to those who reported an action for the case, or to the others.

        actors = select(Action.supporter_id).where(
            Action.case_id == mailing.case_id, Action.supporter_id.is_not(None)
        )
        query = query.where(Supporter.id.in_(actors) if acted else Supporter.id.not_in(actors))
    return query


def _list_audience(list_ids, segment_ids):
    return supporters_audience(list_ids=tuple(list_ids), segment_ids=tuple(segment_ids))


def case_audience_select(case_id: int, exclude_mailing_id: int | None = None):
    """Everyone sent an earlier mailing of the case (DESIGN.md §2 rule 3), still subscribed."""
    earlier = select(Mailing.id).where(Mailing.case_id == case_id)
    if exclude_mailing_id:
        earlier = earlier.where(Mailing.id != exclude_mailing_id)
    return (
        select(Delivery.supporter_id)
        .join(Supporter, Supporter.id == Delivery.supporter_id)
        .where(
            Delivery.mailing_id.in_(earlier),
            Delivery.state == DeliveryState.SENT,
            Supporter.state == SupporterState.SUBSCRIBED,
        )
        .distinct()
    )


def audience_size(mailing: Mailing) -> int:
    if mailing.state not in (MailingState.DRAFT, MailingState.SCHEDULED):
        return mailing.total
    return db.session.scalar(select(func.count()).select_from(audience_select(mailing).subquery()))


def text_fallbacks(mailing: Mailing) -> dict[str, dict]:
    """Per language of the audience: how many, and whether the case has no text in
    it (those supporters read the main language, with a note), shown before sending."""
    from campaign.cases import texts as case_texts

    case = db.session.get(Case, mailing.case_id) if mailing.case_id else None
    if case is None or mailing.state not in ("draft", "scheduled"):
        return {}
    rows = db.session.execute(
        select(Supporter.language, func.count())
        .where(Supporter.id.in_(audience_select(mailing)))
        .group_by(Supporter.language)
    )
    counts: dict[str, int] = {}
    for language, count in rows:
        code = (language or "en").lower().split("-")[0]
        counts[code] = counts.get(code, 0) + count
    return case_texts.fallback_counts(case, counts)


# -- approval and sending ------------------------------------------------------------


# What approval covers, part by part; the page and the refusal name the parts changed.
APPROVAL_PARTS = {
    "message": "the subject or text",
    "case": "the UA (its text, people or update)",
    "letters": "the model letters",
    "officials": "the officials to write to",
    "audience": "the audience (lists, their members, segments)",
}


def approval_fingerprint(mailing: Mailing) -> dict[str, str]:
    """A SHA-256 per part of everything that decides what is sent and to whom.

    The audience part covers its definition: the lists' membership (count, sum
    of ids and latest addition, one aggregate per list in SQL: about 45 ms for
    a list of 100,000 on SQLite), the segments' filters and the case/everyone flags. It does
    not cover supporters joining, leaving or changing their own details: those
    change a segment's or "everyone"'s result without any staff edit, and the
    send re-reads the audience anyway (and asks for its size to be confirmed).
    """
    from campaign.cases.models import Target
    from campaign.letters.models import LetterTemplate
    from campaign.supporters.models import ListMember

    case = db.session.get(Case, mailing.case_id) if mailing.case_id else None
    update_row = db.session.get(CaseUpdate, mailing.update_id) if mailing.update_id else None
    audience = mailing.audience or {}
    parts: dict[str, object] = {
        "message": [
            mailing.kind,
            mailing.subject,
            mailing.body,
            mailing.case_id,
            mailing.update_id,
        ],
        "case": None,
        "letters": [],
        "officials": [],
    }
    if case is not None:
        from campaign.cases.services import CASE_FIELDS

        parts["case"] = {
            "fields": [getattr(case, field) for field in CASE_FIELDS],
            "status": case.status,
            "label": case.label,
            "people": [_person(p) for p in case.people],
            "update": update_row
            and [update_row.kind, update_row.title, update_row.body, update_row.new_deadline],
            "deadlines": [u.new_deadline for u in case.updates],
        }
        parts["letters"] = db.session.execute(
            select(LetterTemplate.id, LetterTemplate.update_id, LetterTemplate.language,
                   LetterTemplate.subject, LetterTemplate.body, LetterTemplate.is_default)
            .where(LetterTemplate.case_id == case.id)
            .order_by(LetterTemplate.id)
        ).all()  # fmt: skip
        from campaign.cases.services import TARGET_FIELDS

        parts["officials"] = [
            [target.id, *(getattr(target, field, None) for field in TARGET_FIELDS)]
            for target in db.session.scalars(
                select(Target).where(Target.case_id == case.id).order_by(Target.id)
            )
        ]
    lists = audience.get("lists") or []
    members = db.session.execute(
        select(ListMember.list_id, func.count(), func.sum(ListMember.supporter_id),
               func.max(ListMember.added_at))
        .where(ListMember.list_id.in_(lists))
        .group_by(ListMember.list_id)
        .order_by(ListMember.list_id)
    ).all() if lists else []  # fmt: skip
    segments = audience.get("segments") or []
    filters = db.session.execute(
        select(Segment.id, Segment.filters).where(Segment.id.in_(segments)).order_by(Segment.id)
    ).all() if segments else []  # fmt: skip
    parts["audience"] = [sorted(audience.items()), members, filters]
    return {name: _digest(value) for name, value in parts.items()}


def _person(p) -> list:
    statuses = [[st.on, st.status, st.note] for st in p.statuses]
    return [p.id, p.spellings, p.consent_to_name, p.gender, p.pronoun, statuses]


def _digest(value) -> str:
    def plain(item):
        if isinstance(item, datetime):
            return item.isoformat()
        if hasattr(item, "isoformat"):
            return item.isoformat()
        if hasattr(item, "_mapping"):
            return list(item)
        return str(item)

    text = json.dumps(value, default=plain, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def approval_changes(mailing: Mailing) -> list[str]:
    """What changed since approval, in words ([] when the approval holds or there is none)."""
    approved = mailing.approval_fingerprint
    if mailing.approved_at is None:
        return []
    if not approved:  # approved before approvals were fingerprinted (0041)
        return ["approved before approvals recorded what they covered"]
    now = approval_fingerprint(mailing)
    return [words for part, words in APPROVAL_PARTS.items() if approved.get(part) != now.get(part)]


def pending_approval_changes(mailing: Mailing) -> list[str]:
    """What the mailing page reports: an approval matters only until the mailing
    starts; a sent mailing whose UA was edited later needs no approval again
    (and its page need not fingerprint a large audience on every view)."""
    if mailing.state not in (MailingState.DRAFT, MailingState.SCHEDULED):
        return []
    return approval_changes(mailing)


def approval_holds(mailing: Mailing) -> bool:
    return mailing.approved_at is not None and not approval_changes(mailing)


def approve(actor, mailing: Mailing) -> Mailing:
    """Approve a draft, or approve again a scheduled mailing that changed since."""
    if mailing.state not in (MailingState.DRAFT, MailingState.SCHEDULED):
        raise Conflict("Only a draft can be approved.")
    if mailing.state == "scheduled" and approval_holds(mailing):
        raise Conflict("This mailing is approved and scheduled already.")
    mailing.approved_at, mailing.approved_by_id = utcnow(), getattr(actor, "id", None)
    mailing.approval_fingerprint = approval_fingerprint(mailing)
    mailing.pause_reason = ""
    db.session.flush()
    record(actor, "mailing.approve", mailing, f"Approved mailing {mailing.id}: {mailing.subject}")
    return mailing


def _stale_message(changes: list[str]) -> str:
    return (
        f"Changed since its approval ({'; '.join(changes)}): a coordinator must "
        "check it and approve it again."
    )


def unapprove_if_stale(mailing: Mailing) -> list[str]:
    """Drop an approval that no longer matches the mailing (back to a draft that
    needs approval, saying why on its page); what changed, or [] if it holds."""
    changes = approval_changes(mailing)
    if changes:
        mailing.approved_at = mailing.approved_by_id = mailing.approval_fingerprint = None
        mailing.state, mailing.scheduled_at = "draft", None
        mailing.pause_reason = _stale_message(changes)[:500]
        db.session.flush()
        summary = f"Mailing {mailing.id} needs approval again: {'; '.join(changes)}"
        record(None, "mailing.unapproved", mailing, summary[:500])
    return changes


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
    claimed = db.session.execute(
        update(Mailing)
        .where(Mailing.id == mailing.id, Mailing.state == MailingState.SCHEDULED)
        .values(state=MailingState.SENDING)
        .execution_options(synchronize_session=False)
    ).rowcount
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
        raise Conflict(_stale_message(changes))
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
    ).where(
        ~exists().where(and_(Delivery.mailing_id == mailing.id, Delivery.supporter_id == ids.c[0]))
    )
    table = Delivery.__table__
    statement = insert(table).from_select(
        ["mailing_id", "supporter_id", "state", "attempts", "last_error", "updated_at"], rows
    )
    db.session.execute(statement)
    mailing.total = db.session.scalar(select(func.count()).where(Delivery.mailing_id == mailing.id))
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
    result = dict.fromkeys(DELIVERY_STATES, 0)
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


# -- previews and test sends -------------------------------------------------------


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
    if supporter is None:
        supporter = SimpleNamespace(
            id=0, email="supporter@example.org", first_name="Alex", last_name="Sample",
            city="", country=None,
        )  # fmt: skip
    return compose.Recipient(
        delivery_id=0,
        supporter_id=supporter.id,
        email=supporter.email,
        first_name=supporter.first_name,
        last_name=supporter.last_name,
        language=language,
        city=getattr(supporter, "city", ""),
        country=getattr(supporter, "country", None),
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


def test_send_allowed(address: str) -> bool:
    """Whether ``address`` may receive a test: an active staff account's address, or
    one on TEST_SEND_ALLOWED (whole addresses, or "@domain" for a whole domain).

    A test skips approval and the outbox, so it must not reach outside addresses:
    otherwise any campaigner could relay free text from MAIL_FROM to anyone.
    """
    from campaign.auth.models import User

    address = address.strip().lower()
    _local, _, domain = address.rpartition("@")
    allowed = {
        entry.strip().lower()
        for entry in current_app.config.get("TEST_SEND_ALLOWED", "").split(",")
        if entry.strip()
    }
    if address in allowed or f"@{domain}" in allowed:
        return True
    staff = select(User.id).where(func.lower(User.email) == address, User.active.is_(True))
    return db.session.scalar(staff) is not None


def test_send(actor, mailing: Mailing, address: str, language: str = "en") -> None:
    """Send one copy, "[TEST]" in the subject, to a staff address (not via the outbox)."""
    address = (address or "").strip()
    if not address or "@" not in address or len(address) > 320:
        raise ValidationError("Enter an email address.", "address")
    try:
        compose.clean_header(address, "address")
    except compose.HeaderInjection as error:
        raise ValidationError(str(error), "address") from error
    if not test_send_allowed(address):
        raise ValidationError(
            "Tests go only to staff addresses (an active staff account, or the "
            "TEST_SEND_ALLOWED setting).",
            "address",
        )
    test = compose.Content(**{**content(mailing).__dict__, "subject": f"[TEST] {mailing.subject}"})
    composer = compose.Composer(mailing.id, test, language, links_for(mailing.case_id))
    recipient = sample_recipient(language)
    recipient.email = address
    sender, to, raw = composer.build(recipient)
    relay = smtp.Relay.from_url(current_app.config["SMTP_URL"], current_app.config["SMTP_TIMEOUT"])
    connection = smtp.Connection(relay, 1)
    outcome = connection.send(current_app.config["MAIL_FROM"] and sender, to, raw)
    connection.close()
    if not outcome.ok:
        raise ValidationError(f"The mail server refused the test: {outcome.detail}", "address")
    record(actor, "mailing.test", mailing, f"Sent a test of mailing {mailing.id} to {address}")


def approved_mailings_by_list() -> dict[int, list[Mailing]]:
    """Mailings approved and not yet started, by the lists they go to (the list
    page says so: changing those lists' members voids their approval)."""
    found: dict[int, list[Mailing]] = {}
    pending = select(Mailing).where(
        Mailing.state.in_(("draft", "scheduled")), Mailing.approved_at.is_not(None)
    )
    for mailing in db.session.scalars(pending.order_by(Mailing.id)):
        for list_id in (mailing.audience or {}).get("lists", []):
            found.setdefault(list_id, []).append(mailing)
    return found
