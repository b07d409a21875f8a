"""Supporters, the consent log, lists, segments, import jobs, erased addresses,
and the actions supporters take for cases (table ``actions``)."""

from __future__ import annotations

from contextlib import suppress
from datetime import datetime
from enum import StrEnum

import idna
from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from campaign.core.types import StrEnumColumn, UTCDateTime, one_of, utcnow
from campaign.extensions import db


class SupporterState(StrEnum):
    """pending → subscribed → unsubscribed; bounced, complained, blocked suppress."""

    PENDING = "pending"
    SUBSCRIBED = "subscribed"
    UNSUBSCRIBED = "unsubscribed"
    BOUNCED = "bounced"
    COMPLAINED = "complained"
    BLOCKED = "blocked"


class ImportState(StrEnum):
    NEW = "new"
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class Channel(StrEnum):
    """How a supporter acted for a case."""

    LETTER = "letter"
    EMAIL = "email"
    FAX = "fax"
    SOCIAL = "social"
    PHONE = "phone"


STATES = tuple(SupporterState)
SUPPRESSIONS = (SupporterState.BOUNCED, SupporterState.COMPLAINED, SupporterState.BLOCKED)
SUPPRESSED = (SupporterState.UNSUBSCRIBED, *SUPPRESSIONS)
IMPORT_STATES = tuple(ImportState)
# The labels are translated where they are shown.
CHANNELS = {
    Channel.LETTER: "Letter",
    Channel.EMAIL: "Email",
    Channel.FAX: "Fax",
    Channel.SOCIAL: "Social media",
    Channel.PHONE: "Phone call",
}
ACTION_SOURCES = ("email link", "public page", "staff", "api")
MERGE_POLICIES = {"update": "Update fields from the file", "keep": "Keep existing data"}


def email_key(address: str) -> str:
    """The identity of a mailbox (DESIGN.md rule 5): the whole address
    case-folded, its domain in IDNA (ASCII) form. Mailbox providers treat
    the local part without regard to case, so "Ann.Person@EXAMPLE.org" and
    "ann.person@example.org" are one supporter."""
    local, at, domain = address.strip().rpartition("@")
    if at and not domain.isascii():
        # An invalid domain stays as it is: normalise_email refuses such an address.
        with suppress(idna.IDNAError):
            domain = idna.encode(domain, uts46=True).decode("ascii")
    return f"{local}{at}{domain}".casefold()


def _key_default(context) -> str:
    return email_key(context.get_current_parameters()["email"])


class Supporter(db.Model):
    __tablename__ = "supporters"
    __table_args__ = (
        CheckConstraint(one_of("state", SupporterState), name="state"),
        Index("ix_supporters_state_language", "state", "language"),
        Index("ix_supporters_state_country", "state", "country"),
        # Segments by "state since date" and the purge of stale sign-ups.
        Index("ix_supporters_state_state_changed_at", "state", "state_changed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # As first given (trimmed, domain lower-cased and IDNA-encoded: see
    # services.normalise_email): the address mail goes to and staff see.
    email: Mapped[str] = mapped_column(String(320))
    # Who the supporter is: email_key(email), set with the address (by the
    # validator below, or for a Core insert by the default).
    email_key: Mapped[str] = mapped_column(String(320), unique=True, default=_key_default)
    first_name: Mapped[str] = mapped_column(String(100), default="")
    last_name: Mapped[str] = mapped_column(String(100), default="")
    language: Mapped[str] = mapped_column(String(8), default="en")
    country: Mapped[str | None] = mapped_column(String(2))
    city: Mapped[str] = mapped_column(String(100), default="")
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    interests: Mapped[list] = mapped_column(JSON, default=list)
    state: Mapped[SupporterState] = mapped_column(
        StrEnumColumn(SupporterState, 12), default=SupporterState.PENDING
    )
    state_changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    # The open double opt-in: a confirmation link is good only while its nonce
    # is the current one, so an old link cannot re-subscribe after unsubscribing.
    confirm_nonce: Mapped[str | None] = mapped_column(String(24))
    confirm_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # "<file digest>:<row number>" of the import row that last set the fields:
    # re-running a file then recognises its own earlier writes (a no-op).
    import_ref: Mapped[str | None] = mapped_column(String(40))

    consent_events: Mapped[list[ConsentEvent]] = relationship(
        back_populates="supporter", order_by="ConsentEvent.id", cascade="all, delete-orphan"
    )

    @validates("email")
    def _set_key(self, _name: str, value: str) -> str:
        self.email_key = email_key(value)
        return value

    @property
    def name(self) -> str:
        return " ".join(p for p in (self.first_name, self.last_name) if p)

    @property
    def is_suppressed(self) -> bool:
        return self.state in SUPPRESSED

    def __repr__(self) -> str:
        return f"<Supporter {self.id} {self.state}>"


class ConsentEvent(db.Model):
    """One change of a supporter's subscription state: when, what, how, from where."""

    __tablename__ = "consent_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    supporter_id: Mapped[int] = mapped_column(
        ForeignKey("supporters.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    old_state: Mapped[str | None] = mapped_column(String(12))
    new_state: Mapped[str] = mapped_column(String(12))
    # e.g. "sign-up form", "import of members.csv", "staff", "one-click unsubscribe", "bounce"
    source: Mapped[str] = mapped_column(String(200))
    ip: Mapped[str | None] = mapped_column(String(45))
    detail: Mapped[str] = mapped_column(String(500), default="")
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    supporter: Mapped[Supporter] = relationship(back_populates="consent_events")

    def __repr__(self) -> str:
        return f"<ConsentEvent {self.id} {self.old_state}→{self.new_state}>"


class SupporterList(db.Model):
    """A static list: supporters are put on it by staff or by an import."""

    __tablename__ = "supporter_lists"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    description: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    def __repr__(self) -> str:
        return f"<SupporterList {self.id} {self.name!r}>"


class ListMember(db.Model):
    __tablename__ = "list_members"

    list_id: Mapped[int] = mapped_column(
        ForeignKey("supporter_lists.id", ondelete="CASCADE"), primary_key=True
    )
    supporter_id: Mapped[int] = mapped_column(
        ForeignKey("supporters.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Segment(db.Model):
    """A saved filter (see segments.py for the keys of ``filters``)."""

    __tablename__ = "segments"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    description: Mapped[str] = mapped_column(String(500), default="")
    filters: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    def __repr__(self) -> str:
        return f"<Segment {self.id} {self.name!r}>"


class ImportJob(db.Model):
    """One upload of a supporter file, its options, progress and outcome."""

    __tablename__ = "import_jobs"
    __table_args__ = (
        CheckConstraint(one_of("state", ImportState), name="state"),
        CheckConstraint("policy IN ('update', 'keep')", name="policy"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    filename: Mapped[str] = mapped_column(String(255))
    # A file on this machine (the command line), or "" for an upload, which is
    # kept in the database (file_id) until the job is done: any worker reads it.
    path: Mapped[str] = mapped_column(String(500))
    file_id: Mapped[int | None] = mapped_column(ForeignKey("stored_files.id", ondelete="SET NULL"))
    # The rejected rows (row, column, reason, value), in the database too.
    report_id: Mapped[int | None] = mapped_column(
        ForeignKey("stored_files.id", ondelete="SET NULL")
    )
    headers: Mapped[list] = mapped_column(JSON, default=list)  # the file's column names
    size: Mapped[int] = mapped_column(Integer, default=0)
    encoding: Mapped[str | None] = mapped_column(String(20))  # chosen by staff, else detected
    delimiter: Mapped[str | None] = mapped_column(String(1))
    mapping: Mapped[dict] = mapped_column(JSON, default=dict)  # field → column header
    consent_source: Mapped[str] = mapped_column(String(200))
    list_id: Mapped[int | None] = mapped_column(
        ForeignKey("supporter_lists.id", ondelete="SET NULL")
    )
    policy: Mapped[str] = mapped_column(String(10), default="keep")
    dry_run: Mapped[bool] = mapped_column(default=True)
    state: Mapped[ImportState] = mapped_column(
        StrEnumColumn(ImportState, 10), default=ImportState.NEW
    )
    bytes_done: Mapped[int] = mapped_column(Integer, default=0)
    rows: Mapped[int] = mapped_column(Integer, default=0)
    created: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    duplicates: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str] = mapped_column(String(500), default="")
    warnings: Mapped[list] = mapped_column(JSON, default=list)
    preview: Mapped[list] = mapped_column(JSON, default=list)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def percent(self) -> int:
        if self.state == ImportState.DONE:
            return 100
        return min(99, int(100 * self.bytes_done / self.size)) if self.size else 0

    def __repr__(self) -> str:
        return f"<ImportJob {self.id} {self.filename!r} {self.state}>"


class SuppressedAddress(db.Model):
    """A keyed hash of an erased address: no personal data, yet an old file
    cannot bring the person back.

    The digest is of the mailbox's ``email_key`` (``tokens.address_digest``).
    Rows kept before 2026-12-07 hold the digest of the address lower-cased, and
    a digest cannot be recomputed, so no migration rewrites them; the checks
    try both forms (``tokens.address_digests``). For an address whose local part
    is ASCII (nearly all) the two are one and the same digest, so an old row
    refuses every variant, as a new one does. For a local part that
    lower-cases otherwise than it case-folds ("ß", "ς", ligatures) an old row
    refuses the address as erased and its lower-case form, not the other case
    variants ("WEISS@" for "Weiß@"); a new erasure refuses them all.
    """

    __tablename__ = "suppressed_addresses"

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    reason: Mapped[str] = mapped_column(String(20), default="erased")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<SuppressedAddress {self.digest[:8]} {self.reason}>"


class Action(db.Model):
    """A supporter did something for a case; one per supporter × case × channel.

    Reports from the public page are not tied to a supporter (anyone can type
    any address there); a keyed hash of the address makes them idempotent
    without storing an address nobody consented to keep.
    """

    __tablename__ = "actions"
    __table_args__ = (
        UniqueConstraint("case_id", "supporter_id", "channel"),
        UniqueConstraint("case_id", "email_hash", "channel"),
        CheckConstraint(one_of("channel", Channel), name="channel"),
        Index("ix_actions_case_id_created_at", "case_id", "created_at"),
        Index("ix_actions_supporter_id", "supporter_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    # Kept (as NULL) when a supporter is erased, so the case's count stands.
    supporter_id: Mapped[int | None] = mapped_column(
        ForeignKey("supporters.id", ondelete="SET NULL")
    )
    channel: Mapped[Channel] = mapped_column(StrEnumColumn(Channel, 10))
    country: Mapped[str | None] = mapped_column(String(2))
    # "email link", "public page", "staff", "api"
    source: Mapped[str] = mapped_column(String(20))
    # HMAC-SHA256 (hex) of the normalised address given on the public page.
    email_hash: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<Action {self.id} case={self.case_id} {self.channel}>"
