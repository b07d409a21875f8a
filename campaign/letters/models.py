"""Letter templates (model letters per case, update and language) and recorded actions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from campaign.core.types import UTCDateTime, utcnow
from campaign.extensions import db

CHANNELS = {
    "letter": "Letter",
    "email": "Email",
    "fax": "Fax",
    "social": "Social media",
    "phone": "Phone call",
}
ACTION_SOURCES = ("email link", "public page", "staff", "api")


class LetterTemplate(db.Model):
    """A model letter written by staff: untrusted text with placeholders.

    One per case (or per update of the case) and language; ``is_default``
    marks the letter used when a supporter's language has none.
    """

    __tablename__ = "letter_templates"
    __table_args__ = (
        # NULL update_id means the case's own letters; NULLs do not collide in
        # a unique key, so the service checks that scope itself as well.
        UniqueConstraint("case_id", "update_id", "language"),
        Index("ix_letter_templates_case_id", "case_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    update_id: Mapped[int | None] = mapped_column(ForeignKey("case_updates.id", ondelete="CASCADE"))
    language: Mapped[str] = mapped_column(String(8))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    is_default: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    case = relationship("Case")
    update = relationship("CaseUpdate")

    def __repr__(self) -> str:
        return f"<LetterTemplate {self.id} case={self.case_id} {self.language}>"


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
        CheckConstraint("channel IN ('letter', 'email', 'fax', 'social', 'phone')", name="channel"),
        Index("ix_actions_case_id_created_at", "case_id", "created_at"),
        Index("ix_actions_supporter_id", "supporter_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    # Kept (as NULL) when a supporter is erased, so the case's count stands.
    supporter_id: Mapped[int | None] = mapped_column(
        ForeignKey("supporters.id", ondelete="SET NULL")
    )
    channel: Mapped[str] = mapped_column(String(10))
    country: Mapped[str | None] = mapped_column(String(2))
    # "email link", "public page", "staff", "api"
    source: Mapped[str] = mapped_column(String(20))
    # HMAC-SHA256 (hex) of the normalised address given on the public page.
    email_hash: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<Action {self.id} case={self.case_id} {self.channel}>"
