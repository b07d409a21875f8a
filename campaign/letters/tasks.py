"""Celery tasks of the letters domain: asking a supporter to confirm a public-page action."""

from __future__ import annotations

import smtplib

from celery import shared_task
from flask_babel import gettext

from campaign.cases.models import Case
from campaign.core.mail import send_email
from campaign.core.tasks import enqueue_after_commit
from campaign.extensions import db
from campaign.i18n import in_language
from campaign.letters import services
from campaign.supporters.models import Action, Supporter, SupporterState


@shared_task(
    name="letters.send_action_claim",
    autoretry_for=(smtplib.SMTPException, OSError),
    retry_backoff=30,
    max_retries=5,
)
def send_action_claim(action_id: int, supporter_id: int) -> bool:
    """Email the supporter a signed link: "Was it you? Link this appeal to you"."""
    action = db.session.get(Action, action_id)
    supporter = db.session.get(Supporter, supporter_id)
    if action is None or supporter is None or action.supporter_id is not None:
        return False
    if supporter.state != SupporterState.SUBSCRIBED:
        return False  # left meanwhile: never mailed again
    case = db.session.get(Case, action.case_id)
    url = f"{services.base_url()}/ua/claim/{services.claim_token(action_id, supporter_id)}"
    with in_language(supporter.language):
        subject = gettext("Did you send an appeal for %(label)s?", label=case.label)
        text = "\n\n".join(
            [
                gettext(
                    "Someone reported an appeal for %(label)s on our website with your "
                    "email address.",
                    label=case.label,
                ),
                gettext("If it was you, confirm it here, and we will count it as yours:"),
                url,
                gettext("If it was not you, ignore this email: nothing changes."),
            ]
        )
    send_email(supporter.email, subject, text + "\n")
    return True


def send_action_claim_after_commit(action_id: int, supporter_id: int) -> None:
    enqueue_after_commit(send_action_claim, action_id, supporter_id, broker_down=send_action_claim)
