"""Mailings, their outbox (one Delivery per mailing × supporter) and bounces."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from campaign.core.types import StrEnumColumn, UTCDateTime, one_of, utcnow
from campaign.extensions import db
from campaign.mailings.compose import message_id


class MailingKind(StrEnum):
    APPEAL = "appeal"
    UPDATE = "update"
    OUTCOME = "outcome"
    REMINDER = "reminder"
    FREE = "free"


KINDS = {
    MailingKind.APPEAL: "Appeal",
    MailingKind.UPDATE: "Update",
    MailingKind.OUTCOME: "Outcome notice",
    MailingKind.REMINDER: "Reminder",
    MailingKind.FREE: "Free-form",
}


class MailingState(StrEnum):
    """draft → scheduled → sending → sent, with paused and cancelled (DESIGN.md §2)."""

    DRAFT = "draft"
    SCHEDULED = "scheduled"
    SENDING = "sending"
    PAUSED = "paused"
    SENT = "sent"
    CANCELLED = "cancelled"


class DeliveryState(StrEnum):
    """queued → sending → sent, or failed, bounced, suppressed."""

    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    BOUNCED = "bounced"
    SUPPRESSED = "suppressed"


class BounceKind(StrEnum):
    HARD = "hard"
    SOFT = "soft"
    COMPLAINT = "complaint"


# The tuples of values, as the forms, metrics and older code read them.
STATES = tuple(MailingState)
DELIVERY_STATES = tuple(DeliveryState)
FINAL_DELIVERY_STATES = (
    DeliveryState.SENT,
    DeliveryState.FAILED,
    DeliveryState.BOUNCED,
    DeliveryState.SUPPRESSED,
)
# Mailings that have started and not ended (the sweeper, metrics, dashboard).
IN_FLIGHT = (MailingState.SCHEDULED, MailingState.SENDING, MailingState.PAUSED)
BOUNCE_KINDS = tuple(BounceKind)


class Mailing(db.Model):  # type: ignore[name-defined]  # mypy cannot follow db.Model
    __tablename__ = "mailings"
    __table_args__ = (
        CheckConstraint(one_of("state", MailingState), name="state"),
        CheckConstraint(one_of("kind", MailingKind), name="kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[MailingKind] = mapped_column(
        StrEnumColumn(MailingKind, 10), default=MailingKind.FREE
    )
    case_id: Mapped[int | None] = mapped_column(
        ForeignKey("cases.id", ondelete="SET NULL"), index=True
    )
    update_id: Mapped[int | None] = mapped_column(
        ForeignKey("case_updates.id", ondelete="SET NULL")
    )
    subject: Mapped[str] = mapped_column(String(300))
    # Free-form text (the whole body for "free"; an introduction otherwise).
    body: Mapped[str] = mapped_column(Text, default="")
    # {"lists": [ids], "segments": [ids], "case": bool}
    audience: Mapped[dict] = mapped_column(JSON, default=dict)
    state: Mapped[MailingState] = mapped_column(
        StrEnumColumn(MailingState, 10), default=MailingState.DRAFT, index=True
    )
    scheduled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # What the approval covered, a SHA-256 per part (approval.approval_fingerprint):
    # any difference later means the approval no longer holds.
    approval_fingerprint: Mapped[dict | None] = mapped_column(JSON)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Deliveries materialised when the mailing started.
    total: Mapped[int] = mapped_column(Integer, default=0)
    # Failures in a row across batches; at the configured limit the mailing pauses itself.
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    # Why the mailing paused (by staff, or by itself after repeated failures).
    pause_reason: Mapped[str] = mapped_column(String(500), default="")
    # When the sweeper last enqueued tasks for a stalled mailing (it waits between wakes).
    woken_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Paused by itself for temporary failures: when the sweeper probes the relay next
    # (NULL: the pause waits for staff), and how many probes failed (the backoff).
    resume_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resume_probes: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    @property
    def kind_label(self) -> str:
        return KINDS.get(self.kind, self.kind)

    def __repr__(self) -> str:
        return f"<Mailing {self.id} {self.kind} {self.state}>"


class Delivery(db.Model):  # type: ignore[name-defined]
    """One supporter's copy of one mailing: the outbox row (DESIGN.md §2 rule 1)."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("mailing_id", "supporter_id"),
        CheckConstraint(one_of("state", DeliveryState), name="state"),
        # The claim query: a mailing's queued rows in id order, read from the index
        # in that order up to the claim's limit (with due_at in the index instead,
        # every claim sorted all the queued rows: 20,000 for 500).
        Index("ix_deliveries_mailing_id_state_id", "mailing_id", "state", "id"),
        Index("ix_deliveries_supporter_id", "supporter_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    mailing_id: Mapped[int] = mapped_column(ForeignKey("mailings.id", ondelete="CASCADE"))
    # NULL once the supporter is erased: the mailing's counts stay whole.
    supporter_id: Mapped[int | None] = mapped_column(
        ForeignKey("supporters.id", ondelete="SET NULL")
    )
    state: Mapped[DeliveryState] = mapped_column(
        StrEnumColumn(DeliveryState, 10), default=DeliveryState.QUEUED
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(String(500), default="")
    # Not before this time (retry backoff); NULL means at once.
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A claim holds the row until this time; after it the sweeper re-queues it.
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The batch (OutboxHolder) that claimed it: when that batch stops beating, the
    # sweeper re-queues the row at once, before the lease runs out.
    holder: Mapped[str | None] = mapped_column(String(32))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    mailing: Mapped[Mailing] = relationship()

    @property
    def message_id(self) -> str:
        return message_id(self.mailing_id, self.id)

    def __repr__(self) -> str:
        return f"<Delivery {self.id} m={self.mailing_id} s={self.supporter_id} {self.state}>"


class OutboxHolder(db.Model):  # type: ignore[name-defined]
    """A running batch (one task in one worker process), beating every second."""

    __tablename__ = "outbox_holders"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    mailing_id: Mapped[int] = mapped_column(
        ForeignKey("mailings.id", ondelete="CASCADE"), index=True
    )
    host: Mapped[str] = mapped_column(String(100), default="")
    pid: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    beat_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Bounce(db.Model):  # type: ignore[name-defined]
    """A delivery status notification or complaint, tied to its delivery and supporter."""

    __tablename__ = "bounces"
    __table_args__ = (CheckConstraint(one_of("kind", BounceKind), name="kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int | None] = mapped_column(
        ForeignKey("deliveries.id", ondelete="SET NULL"), index=True
    )
    mailing_id: Mapped[int | None] = mapped_column(
        ForeignKey("mailings.id", ondelete="SET NULL"), index=True
    )
    supporter_id: Mapped[int | None] = mapped_column(
        ForeignKey("supporters.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[BounceKind] = mapped_column(StrEnumColumn(BounceKind, 10))
    status: Mapped[str] = mapped_column(String(20), default="")  # e.g. 5.1.1
    diagnostic: Mapped[str] = mapped_column(String(500), default="")
    recipient: Mapped[str] = mapped_column(String(320), default="")
    # "smtp" or "imap" intake, or "smtp-reply" when the relay refused at send time.
    source: Mapped[str] = mapped_column(String(20), default="smtp")
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<Bounce {self.id} {self.kind} {self.status}>"


class BounceScore(db.Model):  # type: ignore[name-defined]
    """Mailman-style soft bounce score per supporter (one point per bouncing day)."""

    __tablename__ = "bounce_scores"

    supporter_id: Mapped[int] = mapped_column(
        ForeignKey("supporters.id", ondelete="CASCADE"), primary_key=True
    )
    score: Mapped[float] = mapped_column(default=0.0)
    last_bounce_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<BounceScore {self.supporter_id} {self.score}>"
