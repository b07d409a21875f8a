"""Supporters and the consent log that proves every change of their state."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from campaign.core.types import UTCDateTime, utcnow
from campaign.extensions import db

# pending → subscribed → unsubscribed; bounced, complained, blocked suppress.
STATES = ("pending", "subscribed", "unsubscribed", "bounced", "complained", "blocked")
SUPPRESSED = ("unsubscribed", "bounced", "complained", "blocked")


class Supporter(db.Model):
    __tablename__ = "supporters"
    __table_args__ = (
        CheckConstraint(
            "state IN ('pending', 'subscribed', 'unsubscribed', 'bounced', 'complained', "
            "'blocked')",
            name="state",
        ),
        Index("ix_supporters_state_language", "state", "language"),
        Index("ix_supporters_state_country", "state", "country"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Normalised: trimmed, domain lower-cased and IDNA-encoded (see services).
    email: Mapped[str] = mapped_column(String(320), unique=True)
    first_name: Mapped[str] = mapped_column(String(100), default="")
    last_name: Mapped[str] = mapped_column(String(100), default="")
    language: Mapped[str] = mapped_column(String(8), default="en")
    country: Mapped[str | None] = mapped_column(String(2))
    city: Mapped[str] = mapped_column(String(100), default="")
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    interests: Mapped[list] = mapped_column(JSON, default=list)
    state: Mapped[str] = mapped_column(String(12), default="pending")
    state_changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    consent_events: Mapped[list[ConsentEvent]] = relationship(
        back_populates="supporter", order_by="ConsentEvent.id", cascade="all, delete-orphan"
    )

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
