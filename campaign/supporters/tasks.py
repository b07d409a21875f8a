"""Celery tasks of the supporters domain: confirmation emails, imports, purge."""

from __future__ import annotations

import logging
import smtplib

from celery import shared_task
from flask import current_app, render_template
from flask_babel import gettext

from campaign.core.mail import send_email
from campaign.core.tasks import enqueue_after_commit, periodic
from campaign.extensions import db
from campaign.i18n import in_language
from campaign.supporters import imports
from campaign.supporters.imports import broker_unreachable
from campaign.supporters.models import ImportJob, ImportState, Supporter
from campaign.supporters.services import purge_unconfirmed as purge
from campaign.supporters.tokens import confirm_url, preferences_url

log = logging.getLogger(__name__)


@shared_task(
    name="supporters.send_confirmation",
    autoretry_for=(smtplib.SMTPException, OSError),
    retry_backoff=30,
    max_retries=5,
)
def send_confirmation(supporter_id: int) -> bool:
    """Email the double opt-in link to a supporter whose confirmation is open."""
    supporter = db.session.get(Supporter, supporter_id)
    if supporter is None or supporter.confirm_nonce is None:
        return False  # confirmed, unsubscribed or purged meanwhile
    context = {
        "supporter": supporter,
        "confirm_url": confirm_url(supporter),
        "preferences_url": preferences_url(supporter),
        "days": current_app.config["CONFIRM_MAX_AGE_DAYS"],
    }
    with in_language(supporter.language):
        subject = context["subject"] = gettext("Confirm your Urgent Action sign-up")
        text = render_template("emails/supporters/confirm.txt", **context)
        page = render_template("emails/supporters/confirm.html", **context)
    send_email(supporter.email, subject, text, page)
    return True


def send_confirmation_after_commit(supporter_id: int) -> None:
    """Queue the confirmation email once the sign-up commits; with Redis down,
    it goes from this process instead of getting lost."""
    enqueue_after_commit(send_confirmation, supporter_id, broker_down=send_confirmation)


def run_import_after_commit(job_id: int) -> None:
    """Queue the import once its job commits; with Redis down, the job says so."""
    enqueue_after_commit(run_import, job_id, broker_down=broker_unreachable)


@shared_task(name="supporters.run_import")
def run_import(job_id: int) -> None:
    job = db.session.get(ImportJob, job_id)
    if job is None or job.state in (ImportState.DONE, ImportState.NEW):
        return
    imports.execute(job)


@periodic
def purge_unconfirmed() -> None:
    removed = purge()
    if removed:
        log.info("purged %d unconfirmed sign-ups", removed)
