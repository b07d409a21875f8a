"""Signed, purpose-bound tokens for links in emails (itsdangerous).

A token is bound to one purpose (its salt) and carries the ids it speaks for,
so a token made to unsubscribe supporter 7 cannot confirm supporter 8 or
record an action. Expiry is checked on reading.
"""

from __future__ import annotations

import base64
import hmac
import json
import time
import zlib
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


class FastSigner:
    """``make_token(purpose, payload)`` byte for byte, for the many links of a mailing.

    ``make_token`` derives the signing key, builds a signer and a JSON encoder,
    and pads and strips base64 on every call. This derives the key once and
    signs with one OpenSSL HMAC call, so every reader (``read_token``, its
    purpose binding, its expiry) accepts the token unchanged. A payload that
    itsdangerous would zlib-compress (when that saves at least 2 bytes) is left
    to itsdangerous. Thread-safe.
    """

    def __init__(self, purpose: str):
        serializer = _serializer(purpose)
        signer = serializer.make_signer()
        self.purpose = purpose
        self._json = serializer.serializer  # itsdangerous's compact JSON: the same bytes
        self._json_kwargs = serializer.serializer_kwargs
        self._key = signer.derive_key()
        self._digest = signer.digest_method().name  # "sha1": hmac.digest is one C call
        self._sep = signer.sep if isinstance(signer.sep, bytes) else signer.sep.encode()
        self._stamp = (0, b"")  # (second, its encoding): replaced whole

    def dumps(self, payload) -> str:
        """The token of ``payload``, as ``make_token(purpose, payload)`` makes it."""
        return self.sign(self._json.dumps(payload, **self._json_kwargs))

    def sign(self, payload_json: str | bytes) -> str:
        """The token of a payload already in itsdangerous's compact JSON, as ``dumps`` writes it."""
        data = payload_json.encode() if isinstance(payload_json, str) else payload_json
        if _compressed_length(data) < len(data) - 1:
            # itsdangerous sends this one compressed ("." and zlib): let it.
            return make_token(self.purpose, json.loads(data))
        now = int(time.time())
        second, stamp = self._stamp
        if second != now:
            stamp = _b64(now.to_bytes(8, "big").lstrip(b"\0"))
            self._stamp = (now, stamp)
        value = _b64(data) + self._sep + stamp
        signature = hmac.digest(self._key, value, self._digest)
        return (value + self._sep + _b64(signature)).decode("ascii")


def fast_signer(purpose: str) -> FastSigner:
    """A signer for many tokens of one purpose: see ``FastSigner``."""
    return FastSigner(purpose)


# Up to this many bytes a deflate stream of zlib's smallest window and memory
# (wbits 9, memLevel 1) is as long as ``zlib.compress``'s (32 KB window): every
# earlier byte is within reach, every hash chain shorter than level 6's 128
# steps, and the 127-symbol buffer ends no block early. zlib.compress allocates
# and clears ~256 KB a call (~30 µs, two links a message); this costs ~2 µs.
# tests/mailings/test_links.py compares the two lengths on random payloads.
SMALL_DEFLATE_BYTES = 100


def _compressed_length(data: bytes) -> int:
    """``len(zlib.compress(data))``, which itsdangerous compares to decide on compression."""
    if len(data) > SMALL_DEFLATE_BYTES:
        return len(zlib.compress(data))
    compressor = zlib.compressobj(6, zlib.DEFLATED, 9, 1)
    return len(compressor.compress(data)) + len(compressor.flush())


def _b64(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")


def read_token(purpose: str, token: str, max_age: int | None = None):
    """The payload, or TokenRefused with a message fit for the supporter."""
    try:
        return _serializer(purpose).loads(token or "", max_age=max_age)
    except SignatureExpired as error:
        raise TokenRefused("This link has expired.") from error
    except BadSignature as error:
        raise TokenRefused("This link is not valid. Check that it was copied whole.") from error
