"""Actions: what supporters report having done for a case."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from campaign.core.types import UTCDateTime, utcnow
from campaign.extensions import db

CHANNELS = {
    "letter": "Letter",
    "email": "Email",
    "fax": "Fax",
    "social": "Social media",
    "phone": "Phone call",
}


class Action(db.Model):
    """A supporter did something for a case; one per supporter × case × channel."""

    __tablename__ = "actions"
    __table_args__ = (
        UniqueConstraint("case_id", "supporter_id", "channel"),
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
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<Action {self.id} case={self.case_id} {self.channel}>"
