"""The personal links of every message, built fast: prepared once per composer.

Each domain builds its own links and owns its token's payload:
``campaign.supporters.tokens.unsubscribe_urls`` and
``campaign.letters.services.action_urls`` sign with a key derived once
(``campaign.core.tokens.fast_signer``) and make byte for byte the links their
one-at-a-time builders make (tests/mailings/test_links.py). Here they are only
put together per recipient.
"""

from __future__ import annotations

from campaign.cases.models import Case
from campaign.extensions import db
from campaign.letters.services import action_urls
from campaign.supporters.tokens import unsubscribe_urls


def personal_links(case_id: int | None):
    """recipient → its personal links (built without a request; BASE_URL decides)."""
    unsubscribe = unsubscribe_urls()
    row = db.session.get(Case, case_id) if case_id else None
    action = action_urls(row.id) if row is not None else None

    def links(recipient) -> dict:
        return {
            "unsubscribe_url": unsubscribe(recipient),
            "action_url": action(recipient) if action is not None else "",
        }

    return links
