"""Letter templates: model letters per case, update and language."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from campaign.core.types import UTCDateTime, utcnow
from campaign.extensions import db


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
