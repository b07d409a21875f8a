"""Signed links for supporters: confirm a sign-up, manage preferences, unsubscribe.

Each token carries the supporter's id and a short keyed digest of their
address, signed for one purpose (campaign.core.tokens). A token for one
supporter cannot name another, and a token survives neither an erasure nor a
reused id, because the digest would no longer match. URLs are built from
BASE_URL, not from a request, because Celery workers build them too.
"""

from __future__ import annotations

import hashlib
import hmac

from flask import current_app

from campaign.core.tokens import TokenRefused, fast_signer, make_token, read_token
from campaign.extensions import db
from campaign.supporters.models import Supporter, email_key

CONFIRM = "supporter-confirm"
PREFERENCES = "supporter-preferences"
UNSUBSCRIBE = "supporter-unsubscribe"


def address_digest(email: str, length: int = 64) -> str:
    """A keyed hash (HMAC-SHA256 with the secret key) of a mailbox's identity,
    ``models.email_key``: the one key of DESIGN.md rule 5, so an erased address
    comes back neither as "Ann@" for "ann@" nor as "STRASSE@" for "Straße@",
    nor with its domain in Unicode instead of IDNA form."""
    return hmac_digest(_digest_key(), email_key(email), length)


def address_digests(email: str) -> list[str]:
    """Every digest an erasure of ``email`` (normalised) may be stored under:
    its key's, and the whole address lower-cased, as erasures were kept until
    2026-12-07 (``models.SuppressedAddress`` says why those rows stay). The
    two are the same digest unless the local part lower-cases otherwise than it
    case-folds ("ß", "ς", ligatures): one digest for nearly every address."""
    key, mailbox = _digest_key(), email_key(email)
    digests = [hmac_digest(key, mailbox)]
    if email.lower() != mailbox:
        digests.append(hmac_digest(key, email.lower()))
    return digests


def hmac_digest(key: bytes, text: str, length: int = 64) -> str:
    # hmac.digest: one call into OpenSSL, several times cheaper than hmac.new().
    return hmac.digest(key, text.encode(), hashlib.sha256).hex()[:length]


def _digest_key() -> bytes:
    return (current_app.config["SUPPRESSION_KEY"] or current_app.config["SECRET_KEY"]).encode()


def _digest(key: bytes, email: str, length: int) -> str:
    # The links' digest stays the lower-cased address: links in mail already
    # sent must keep working, and it only binds a link to its supporter's row.
    return hmac_digest(key, email.lower(), length)


def _payload(supporter: Supporter, *extra, key: bytes | None = None) -> list:
    """What every supporter token carries: ``[id, "digest of the address", *extra]``."""
    return [supporter.id, _digest(key or _digest_key(), supporter.email, 12), *extra]


def confirm_token(supporter: Supporter) -> str:
    return make_token(CONFIRM, _payload(supporter, supporter.confirm_nonce))


def preferences_token(supporter: Supporter) -> str:
    return make_token(PREFERENCES, _payload(supporter))


def unsubscribe_token(supporter: Supporter) -> str:
    return make_token(UNSUBSCRIBE, _payload(supporter))


def _absolute(endpoint: str, **values) -> str:
    # Built without a request (in workers): BASE_URL decides host and scheme.
    path = current_app.url_map.bind("localhost").build(endpoint, values)
    return current_app.config["BASE_URL"].rstrip("/") + path


def confirm_url(supporter: Supporter) -> str:
    return _absolute("supporters.confirm", token=confirm_token(supporter))


def preferences_url(supporter: Supporter) -> str:
    return _absolute("supporters.preferences", token=preferences_token(supporter))


def unsubscribe_url(supporter: Supporter) -> str:
    return _absolute("supporters.unsubscribe", token=unsubscribe_token(supporter))


def unsubscribe_urls():
    """supporter → ``unsubscribe_url(supporter)``, fast: for the many links of a mailing.

    The URL prefix is built once, the digest key read once and the token signed
    with a key derived once (campaign.core.tokens.fast_signer); the links are
    the same, byte for byte, as ``unsubscribe_url`` makes them one by one.
    """
    marker = "TOKEN"
    prefix = _absolute("supporters.unsubscribe", token=marker).rpartition(marker)[0]
    signer, key = fast_signer(UNSUBSCRIBE), _digest_key()

    def unsubscribe_url(supporter) -> str:
        return prefix + signer.dumps(_payload(supporter, key=key))

    return unsubscribe_url


def supporter_for(purpose: str, token: str, max_age: int | None = None) -> tuple[Supporter, list]:
    """The supporter a token speaks for, and any extra payload; TokenRefused otherwise."""
    payload = read_token(purpose, token, max_age=max_age)
    if not isinstance(payload, list) or len(payload) < 2 or not isinstance(payload[0], int):
        raise TokenRefused("This link is not valid. Check that it was copied whole.")
    supporter = db.session.get(Supporter, payload[0])
    if supporter is None or not hmac.compare_digest(
        address_digest(supporter.email, 12), str(payload[1])
    ):
        raise TokenRefused("This link is no longer valid: the subscription it was for is gone.")
    return supporter, payload[2:]
