"""The rules for supporters: normalising addresses, consent and state changes,
double opt-in, preferences, lists, segments, the mailable audience, export
and erasure.

Services take explicit arguments, validate, change rows, log and flush; the
caller's request or task commits. Every change of a supporter's state goes
through ``_set_state``, which writes the consent log.
"""

from __future__ import annotations

import csv
import io
import re
import secrets
from collections.abc import Iterable, Iterator
from datetime import timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from sqlalchemy import Select, delete, false, func, or_, select
from sqlalchemy.exc import IntegrityError

from campaign.audit.services import diff, record
from campaign.core.csvexport import csv_safe
from campaign.core.db import insert_ignore
from campaign.core.errors import Conflict, NotFound, ValidationError
from campaign.core.tokens import TokenRefused
from campaign.core.types import utcnow
from campaign.extensions import db
from campaign.supporters import segments as seg
from campaign.supporters import vocabulary as vocab
from campaign.supporters.models import (
    SUPPRESSIONS,
    Action,
    ConsentEvent,
    ListMember,
    Segment,
    Supporter,
    SupporterList,
    SupporterState,
    SuppressedAddress,
    email_key,
)
from campaign.supporters.signals import supporter_erasing
from campaign.supporters.tokens import address_digest, address_digests

PROFILE_FIELDS = ("first_name", "last_name", "language", "country", "city", "timezone", "interests")
# A later suppression never softens an earlier one (a bounce after a complaint).
_SEVERITY = {
    SupporterState.UNSUBSCRIBED: 1,
    SupporterState.BOUNCED: 2,
    SupporterState.COMPLAINED: 3,
    SupporterState.BLOCKED: 4,
}
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


# --- addresses ------------------------------------------------------------


def normalise_email(text: str | None) -> str:
    """Trimmed, validated, domain lower-cased and IDNA-encoded; ValidationError otherwise."""
    value = (text or "").strip()
    if not value:
        raise ValidationError("Enter an email address.", "email")
    try:
        info = validate_email(value, check_deliverability=False)
    except EmailNotValidError as error:
        raise ValidationError(f"This is not a valid email address: {error}", "email") from error
    return f"{info.local_part}@{info.ascii_domain}"


def is_erased(email: str) -> bool:
    """Whether the mailbox of ``email`` (normalised) was erased: matched on its key."""
    digests = address_digests(email)
    return (
        db.session.scalar(
            select(SuppressedAddress.digest).where(SuppressedAddress.digest.in_(digests)).limit(1)
        )
        is not None
    )


# --- profile --------------------------------------------------------------


def clean_text(value, limit: int = 100) -> str:
    return " ".join(_CONTROL.sub(" ", str(value or "")).split())[:limit]


def clean_profile(data: dict) -> dict:
    """The profile fields present in ``data``, validated and normalised."""
    clean = {}
    for field in ("first_name", "last_name", "city"):
        if field in data:
            clean[field] = clean_text(data[field])
    if "language" in data:
        try:
            clean["language"] = vocab.language(data["language"]) or "en"
        except KeyError:
            raise ValidationError("Choose a language by its ISO code, e.g. en.", "language")
    if "country" in data:
        try:
            clean["country"] = vocab.country(data["country"])
        except KeyError:
            raise ValidationError("Choose a country by its ISO code, e.g. GB.", "country")
    if "interests" in data:
        try:
            clean["interests"] = vocab.interests(data["interests"])
        except KeyError as error:
            raise ValidationError(f"Unknown interest “{error.args[0]}”.", "interests")
    if data.get("timezone"):
        clean["timezone"] = _timezone(data["timezone"])
    elif "country" in clean:
        clean["timezone"] = vocab.timezone_for(clean["country"])
    return clean


def _timezone(name: str) -> str:
    try:
        ZoneInfo(str(name))
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError("Give a time zone such as Europe/London.", "timezone")
    return str(name)


# --- lookups --------------------------------------------------------------


def get_supporter(supporter_id: int) -> Supporter:
    supporter = db.session.get(Supporter, supporter_id)
    if supporter is None:
        raise NotFound("No such supporter.")
    return supporter


def find_by_email(email: str) -> Supporter | None:
    try:
        email = normalise_email(email)
    except ValidationError:
        return None
    return db.session.scalar(select(Supporter).where(Supporter.email_key == email_key(email)))


def search(q: str = "", state: str | None = None, list_id: int | None = None) -> Select:
    query = select(Supporter)
    if "\x00" in q:
        # No stored text holds NUL; SQLite would end the LIKE pattern there, PostgreSQL refuse it.
        query = query.where(false())
    elif q.strip():
        pattern = "%" + q.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern += "%"
        query = query.where(
            or_(
                Supporter.email.ilike(pattern, escape="\\"),
                (Supporter.first_name + " " + Supporter.last_name).ilike(pattern, escape="\\"),
            )
        )
    if state:
        query = query.where(Supporter.state == state)
    if list_id and not 0 < list_id < 2**31:
        query = query.where(false())  # no such list, and too big for the driver
    elif list_id:
        members = select(ListMember.supporter_id).where(ListMember.list_id == list_id)
        query = query.where(Supporter.id.in_(members))
    return query.order_by(Supporter.id.desc())


# --- state and consent ----------------------------------------------------


def _set_state(
    supporter: Supporter,
    new_state: str,
    *,
    source: str,
    ip: str | None = None,
    detail: str = "",
    staff=None,
) -> ConsentEvent:
    event = ConsentEvent(
        supporter=supporter,
        old_state=supporter.state if supporter.id else None,
        new_state=new_state,
        source=source[:200],
        ip=ip,
        detail=detail[:500],
        staff_id=getattr(staff, "id", None),
        at=utcnow(),
    )
    supporter.state = new_state
    supporter.state_changed_at = event.at
    db.session.add(event)
    return event


def unsubscribe(supporter: Supporter, *, source: str, ip: str | None = None, staff=None) -> bool:
    """Stop all mail at once; idempotent (False when there was nothing to change)."""
    supporter.confirm_nonce = None  # an old confirmation link must not re-subscribe
    if supporter.state in _SEVERITY:
        db.session.flush()
        return False
    _set_state(supporter, SupporterState.UNSUBSCRIBED, source=source, ip=ip, staff=staff)
    db.session.flush()
    return True


def suppress(
    supporter: Supporter, state: str, *, source: str, detail: str = "", staff=None
) -> bool:
    """bounced / complained / blocked; idempotent, never softens a harsher state."""
    if state not in SUPPRESSIONS:
        raise ValidationError(f"Suppress as one of {', '.join(SUPPRESSIONS)}.", "state")
    supporter.confirm_nonce = None
    if _SEVERITY.get(supporter.state, 0) >= _SEVERITY[state]:
        db.session.flush()
        return False
    _set_state(supporter, state, source=source, detail=detail, staff=staff)
    db.session.flush()
    return True


def _resend_due(supporter: Supporter) -> bool:
    wait = timedelta(seconds=current_app.config["CONFIRM_RESEND_SECONDS"])
    return supporter.confirm_sent_at is None or utcnow() - supporter.confirm_sent_at >= wait


def open_confirmation(supporter: Supporter) -> bool:
    """Start (or renew) a double opt-in; False when throttled or not allowed.

    The caller sends the email (``tasks.send_confirmation``) after commit.
    """
    if supporter.state in (SupporterState.SUBSCRIBED, SupporterState.BLOCKED) or not _resend_due(
        supporter
    ):
        return False
    supporter.confirm_nonce = secrets.token_urlsafe(12)
    supporter.confirm_sent_at = utcnow()
    db.session.flush()
    return True


def sign_up(data: dict, *, ip: str | None, source: str = "sign-up form") -> Supporter | None:
    """The public form. Returns the supporter to send a confirmation to, or None.

    The caller answers the same way in every case, so the form never tells
    whether an address is known.
    """
    email = normalise_email(data.get("email"))
    profile = clean_profile({k: v for k, v in data.items() if k in PROFILE_FIELDS})
    supporter = db.session.scalar(select(Supporter).where(Supporter.email_key == email_key(email)))
    if supporter is None:
        supporter = Supporter(
            **{"interests": [], **profile}, email=email, state=SupporterState.PENDING
        )
        db.session.add(supporter)
        _set_state(supporter, SupporterState.PENDING, source=source, ip=ip)
        try:
            with db.session.begin_nested():
                db.session.flush()
        except IntegrityError:  # a concurrent sign-up of the same address won
            return None
        return supporter if open_confirmation(supporter) else None
    # Known address: never overwrite the profile on the word of an unconfirmed
    # form; a fresh confirmation (if due) lets the owner opt in again.
    return supporter if open_confirmation(supporter) else None


def confirm(supporter: Supporter, nonce: str | None, *, ip: str | None = None) -> bool:
    """Finish a double opt-in; True when it subscribed, False when already done.

    Refuses a link whose nonce is not the open one: a replayed link after an
    unsubscribe, or an older link after a newer one was sent.
    """
    if supporter.state == SupporterState.SUBSCRIBED and supporter.confirm_nonce is None:
        return False
    if not nonce or supporter.confirm_nonce != nonce or supporter.state == SupporterState.BLOCKED:
        raise TokenRefused("This confirmation link is no longer valid. Sign up again.")
    supporter.confirm_nonce = None
    _set_state(supporter, SupporterState.SUBSCRIBED, source="confirmation link", ip=ip)
    db.session.execute(
        delete(SuppressedAddress).where(
            SuppressedAddress.digest.in_(address_digests(supporter.email))
        )
    )
    db.session.flush()
    return True


def update_preferences(supporter: Supporter, data: dict, *, ip: str | None = None) -> dict:
    """Self-service: language and interests. Returns the changes."""
    clean = clean_profile({k: data[k] for k in ("language", "interests") if k in data})
    changes = diff(supporter, clean)
    for field, value in clean.items():
        setattr(supporter, field, value)
    db.session.flush()
    return changes


def create_supporter(actor, data: dict) -> Supporter:
    """Staff add someone: pending until they confirm (double opt-in)."""
    email = normalise_email(data.get("email"))
    if db.session.scalar(select(Supporter.id).where(Supporter.email_key == email_key(email))):
        raise Conflict("A supporter with this address exists already.", "email")
    profile = clean_profile({k: v for k, v in data.items() if k in PROFILE_FIELDS})
    supporter = Supporter(**{"interests": [], **profile}, email=email, state=SupporterState.PENDING)
    db.session.add(supporter)
    _set_state(
        supporter, SupporterState.PENDING, source="staff", staff=actor, detail="added by staff"
    )
    db.session.flush()
    open_confirmation(supporter)
    record(actor, "supporter.create", supporter, f"Added supporter #{supporter.id}")
    return supporter


def update_supporter(actor, supporter: Supporter, data: dict) -> Supporter:
    """Change the profile fields in ``data`` (a PATCH: the others stay)."""
    data = {k: v for k, v in data.items() if k in PROFILE_FIELDS}
    clean = clean_profile(data)
    if "timezone" in data and not data["timezone"]:
        # No zone given: the country's, as at sign-up.
        clean["timezone"] = vocab.timezone_for(clean.get("country", supporter.country))
    elif "timezone" not in data and supporter.timezone != vocab.timezone_for(supporter.country):
        clean.pop("timezone", None)  # a zone chosen on its own stays when the country changes
    changes = diff(supporter, clean)
    for field, value in clean.items():
        setattr(supporter, field, value)
    if changes:
        db.session.flush()
        record(actor, "supporter.update", supporter, f"Edited supporter #{supporter.id}", changes)
    return supporter


# --- lists ----------------------------------------------------------------


def get_list(list_id: int) -> SupporterList:
    found = db.session.get(SupporterList, list_id)
    if found is None:
        raise NotFound("No such list.")
    return found


def list_by_name(name: str) -> SupporterList | None:
    return db.session.scalar(select(SupporterList).where(SupporterList.name == name.strip()))


def all_lists() -> list[SupporterList]:
    return list(db.session.scalars(select(SupporterList).order_by(SupporterList.name)))


def list_sizes() -> dict[int, int]:
    rows = db.session.execute(select(ListMember.list_id, func.count()).group_by(ListMember.list_id))
    return dict(rows.all())


def save_list(actor, lst: SupporterList | None, name: str, description: str = "") -> SupporterList:
    name = clean_text(name, 120)
    if not name:
        raise ValidationError("Give the list a name.", "name")
    other = list_by_name(name)
    if other is not None and other is not lst:
        raise Conflict("A list with this name exists already.", "name")
    if lst is None:
        lst = SupporterList(name=name, created_by_id=getattr(actor, "id", None))
        db.session.add(lst)
    lst.name, lst.description = name, clean_text(description, 500)
    db.session.flush()
    record(actor, "list.save", lst, f"Saved list {name}")
    return lst


def delete_list(actor, lst: SupporterList) -> None:
    record(actor, "list.delete", lst, f"Deleted list {lst.name}")
    db.session.delete(lst)
    db.session.flush()


def add_to_list(actor, lst: SupporterList, supporter_ids: Iterable[int]) -> int:
    ids = sorted(set(supporter_ids))
    known = set(db.session.scalars(select(Supporter.id).where(Supporter.id.in_(ids))))
    if not known:
        return 0
    rows = [{"list_id": lst.id, "supporter_id": i, "added_at": utcnow()} for i in sorted(known)]
    # RETURNING counts the rows really added (psycopg reports rowcount -1 here).
    added = db.session.execute(
        insert_ignore(ListMember, rows, ["list_id", "supporter_id"]).returning(
            ListMember.supporter_id
        )
    ).all()
    record(actor, "list.add", lst, f"Added {len(added)} supporter(s) to {lst.name}")
    return len(added)


def remove_from_list(actor, lst: SupporterList, supporter_ids: Iterable[int]) -> int:
    result = db.session.execute(
        delete(ListMember).where(
            ListMember.list_id == lst.id, ListMember.supporter_id.in_(list(supporter_ids))
        )
    )
    record(actor, "list.remove", lst, f"Removed {result.rowcount} supporter(s) from {lst.name}")
    return result.rowcount


# --- segments -------------------------------------------------------------


def get_segment(segment_id: int) -> Segment:
    found = db.session.get(Segment, segment_id)
    if found is None:
        raise NotFound("No such segment.")
    return found


def all_segments() -> list[Segment]:
    return list(db.session.scalars(select(Segment).order_by(Segment.name)))


def save_segment(
    actor, segment: Segment | None, name: str, filters: dict, description: str = ""
) -> Segment:
    name = clean_text(name, 120)
    if not name:
        raise ValidationError("Give the segment a name.", "name")
    clean = seg.clean_filters(filters)
    other = db.session.scalar(select(Segment).where(Segment.name == name))
    if other is not None and other is not segment:
        raise Conflict("A segment with this name exists already.", "name")
    if segment is None:
        segment = Segment(name=name, created_by_id=getattr(actor, "id", None))
        db.session.add(segment)
    segment.name, segment.description, segment.filters = name, clean_text(description, 500), clean
    db.session.flush()
    record(actor, "segment.save", segment, f"Saved segment {name}", {"filters": [None, clean]})
    return segment


def delete_segment(actor, segment: Segment) -> None:
    record(actor, "segment.delete", segment, f"Deleted segment {segment.name}")
    db.session.delete(segment)
    db.session.flush()


def segment_select(filters: dict) -> Select:
    """Ids of the supporters a (cleaned) filter matches, in any state it allows."""
    return select(Supporter.id).where(*seg.conditions(filters))


def count(filters: dict) -> int:
    inner = segment_select(seg.clean_filters(filters)).subquery()
    return db.session.scalar(select(func.count()).select_from(inner))


def audience_select(*, list_ids: Iterable[int] = (), segment_ids: Iterable[int] = ()) -> Select:
    """Ids of supporters who may be mailed now (subscribed), in any list or segment given.

    The mailing pipeline uses this in an INSERT ... SELECT; suppressed
    supporters are excluded here and re-checked when a delivery is claimed.
    """
    parts = []
    list_ids, segment_ids = list(list_ids), list(segment_ids)
    if list_ids:
        members = select(ListMember.supporter_id).where(ListMember.list_id.in_(list_ids))
        parts.append(Supporter.id.in_(members))
    for segment in db.session.scalars(select(Segment).where(Segment.id.in_(segment_ids))):
        conditions = seg.conditions(seg.clean_filters(segment.filters))
        parts.append(db.and_(*conditions) if conditions else db.true())
    where = or_(*parts) if parts else false()
    return select(Supporter.id).where(Supporter.state == SupporterState.SUBSCRIBED, where)


# --- export and data rights -----------------------------------------------

EXPORT_COLUMNS = (
    "email",
    "first_name",
    "last_name",
    "language",
    "country",
    "city",
    "timezone",
    "interests",
    "state",
    "state_changed_at",
    "created_at",
)


def record_export(actor, label: str) -> None:
    record(actor, "supporters.export", "supporters", f"Exported {label} as CSV")
    db.session.flush()


def export_csv(query: Select) -> Iterator[str]:
    """CSV lines for the supporters a select() of ids names, read in chunks."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def take() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow(EXPORT_COLUMNS)
    yield take()
    ids = query.subquery()
    rows = select(Supporter).where(Supporter.id.in_(select(ids.c.id))).order_by(Supporter.id)
    for supporter in db.session.scalars(rows.execution_options(yield_per=1000)):
        writer.writerow([csv_safe(_export_value(supporter, c)) for c in EXPORT_COLUMNS])
        yield take()


def _export_value(supporter: Supporter, column: str):
    value = getattr(supporter, column)
    if column == "interests":
        return ";".join(value or [])
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def personal_data(actor, supporter: Supporter) -> dict:
    """Everything held about one supporter (the right of access), audited."""
    record(actor, "supporter.access", supporter, f"Exported data of supporter #{supporter.id}")
    lists = db.session.scalars(
        select(SupporterList.name)
        .join(ListMember, ListMember.list_id == SupporterList.id)
        .where(ListMember.supporter_id == supporter.id)
    )
    actions = db.session.scalars(select(Action).where(Action.supporter_id == supporter.id))
    return {
        "supporter": {
            "id": supporter.id,
            **{c: _export_value(supporter, c) for c in EXPORT_COLUMNS if c != "interests"},
            "interests": list(supporter.interests or []),
            "updated_at": supporter.updated_at.isoformat(),
        },
        "consent_log": [
            {
                "at": e.at.isoformat(),
                "old_state": e.old_state,
                "new_state": e.new_state,
                "source": e.source,
                "ip": e.ip,
                "detail": e.detail,
            }
            for e in supporter.consent_events
        ],
        "lists": list(lists),
        "actions": [
            {"case_id": a.case_id, "channel": a.channel, "at": a.created_at.isoformat()}
            for a in actions
        ],
    }


def erase(actor, supporter: Supporter) -> None:
    """Delete the person; keep anonymous counts and a keyed hash of the address.

    Actions keep their case and country (their supporter becomes NULL), so a
    case's count of appeals stands; the hash stops an old file from bringing
    the address back by import.
    """
    db.session.execute(
        insert_ignore(
            SuppressedAddress,
            {"digest": address_digest(supporter.email), "reason": "erased", "created_at": utcnow()},
            ["digest"],
        )
    )
    record(actor, "supporter.erase", supporter, f"Erased supporter #{supporter.id}")
    supporter_erasing.send(supporter.id)
    db.session.delete(supporter)
    db.session.flush()


def erased_count() -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(SuppressedAddress)
        .where(SuppressedAddress.reason == "erased")
    )


def purge_unconfirmed(days: int | None = None) -> int:
    """Delete sign-ups never confirmed within ``days`` (UNCONFIRMED_PURGE_DAYS)."""
    days = days if days is not None else current_app.config["UNCONFIRMED_PURGE_DAYS"]
    cutoff = utcnow() - timedelta(days=days)
    result = db.session.execute(
        delete(Supporter).where(
            Supporter.state == SupporterState.PENDING, Supporter.state_changed_at < cutoff
        )
    )
    return result.rowcount or 0
