"""Received case-sheet documents, kept with the case they became.

An upload is stored first as a *pending* document (``case_id`` NULL) so the review
page and the save can refer to it by id without a second upload; saving attaches
it to the case (and to the update it became). Pending documents older than a day
are purged by a periodic job (``casesheets.tasks``).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import JSON, Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from campaign.core.types import UTCDateTime, utcnow
from campaign.extensions import db

if TYPE_CHECKING:
    from campaign.auth.models import User
    from campaign.cases.models import Case, CaseUpdate

# What the download serves, by reader format: never the browser's claim at upload.
CONTENT_TYPES = {
    "text": "text/plain",
    "pasted": "text/plain; charset=utf-8",
    "html": "text/html",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "pdf": "application/pdf",
}


class CaseDocument(db.Model):
    __tablename__ = "case_documents"
    __table_args__ = (Index("ix_case_documents_pending", "case_id", "uploaded_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int | None] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), index=True
    )
    update_id: Mapped[int | None] = mapped_column(
        ForeignKey("case_updates.id", ondelete="SET NULL")
    )
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    format: Mapped[str] = mapped_column(String(10))  # the reader's: text, html, docx, pdf, pasted
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    # The original, in the database in chunks (core.storage): every machine reads it.
    file_id: Mapped[int | None] = mapped_column(ForeignKey("stored_files.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(Text, deferred=True)
    # The reader's remarks ("read as Windows-1252", "page 3 skipped"), shown at review.
    read_warnings: Mapped[list] = mapped_column(JSON, default=list)
    # The date the sheet says it was issued, as reviewed: dates in it are read against it.
    issued_on: Mapped[date | None] = mapped_column(Date)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    case: Mapped[Case | None] = relationship()
    update: Mapped[CaseUpdate | None] = relationship()
    uploaded_by: Mapped[User | None] = relationship()

    @property
    def is_pending(self) -> bool:
        return self.case_id is None

    def __repr__(self) -> str:
        return f"<CaseDocument {self.id} {self.filename!r} case={self.case_id}>"
