"""Periodic jobs of the case lifecycle, run on every beat tick."""

from __future__ import annotations

from campaign.core.tasks import periodic
from campaign.outcomes import lifecycle


@periodic
def start_due_outcome_notices() -> None:
    lifecycle.start_due_notices()


@periodic
def send_deadline_reminders() -> None:
    lifecycle.send_due_reminders()
