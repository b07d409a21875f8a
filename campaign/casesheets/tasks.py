"""Periodic housekeeping of case-sheet imports: pending uploads nobody saved."""

from __future__ import annotations

from campaign.casesheets import services
from campaign.core.tasks import periodic


@periodic
def purge_pending_documents() -> None:
    """Uploads left unreviewed for a day are dropped: they were never part of a case."""
    services.purge_pending()
