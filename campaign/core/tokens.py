"""Signed, purpose-bound tokens for links in emails (itsdangerous).

A token is bound to one purpose (its salt) and carries the ids it speaks for,
so a token made to unsubscribe supporter 7 cannot confirm supporter 8 or
record an action. Expiry is checked on reading.
"""

from __future__ import annotations

from functools import lru_cache

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from campaign.core.errors import ServiceError


class TokenRefused(ServiceError):
    status = 400


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    return _cached_serializer(current_app.config["SECRET_KEY"], purpose)


@lru_cache(maxsize=64)
def _cached_serializer(secret: str, purpose: str) -> URLSafeTimedSerializer:
    # Built once per key and purpose: deriving the signing key per link was a
    # measurable share of building each appeal email.
    return URLSafeTimedSerializer(secret, salt=f"campaign.{purpose}")


def make_token(purpose: str, payload) -> str:
    return _serializer(purpose).dumps(payload)


def read_token(purpose: str, token: str, max_age: int | None = None):
    """The payload, or TokenRefused with a message fit for the supporter."""
    try:
        return _serializer(purpose).loads(token or "", max_age=max_age)
    except SignatureExpired as error:
        raise TokenRefused("This link has expired.") from error
    except BadSignature as error:
        raise TokenRefused("This link is not valid. Check that it was copied whole.") from error
