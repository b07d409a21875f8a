"""System-wide rows: heartbeats of the worker and of beat."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from campaign.core.types import UTCDateTime, utcnow
from campaign.extensions import db


class Heartbeat(db.Model):  # type: ignore[name-defined]  # mypy cannot follow db.Model
    """Last sign of life of a background process, shown on the System page."""

    __tablename__ = "heartbeats"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    detail: Mapped[str] = mapped_column(String(200), default="")
