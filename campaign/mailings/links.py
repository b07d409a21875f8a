"""The two signed links of every message, built fast (once per batch: the keys and prefixes).

``campaign.core.tokens.make_token`` (itsdangerous) derives the signing key, builds
a signer and a JSON encoder, and pads and strips base64 on every call; with the
werkzeug URL build of the unsubscribe link that was over half the time of
building an appeal email. ``Signer`` makes byte for byte the same token from an
key derived once per purpose and one OpenSSL HMAC call per token, so every existing
reader (``read_token``, its purpose binding, its expiry) accepts it unchanged;
tests/mailings/test_links.py checks that both agree.
"""

from __future__ import annotations

import base64
import hmac
import json
import time

from campaign.core.tokens import _serializer, make_token

_COMPRESSIBLE = 64  # itsdangerous may zlib-compress longer payloads: leave those to it


def b64(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")


class Signer:
    """``make_token(purpose, payload)``, with the key derived once."""

    def __init__(self, purpose: str):
        self.purpose = purpose
        signer = _serializer(purpose).make_signer()
        self._key = signer.derive_key()
        self._digest = signer.digest_method().name  # "sha1": hmac.digest is one C call
        self._sep = signer.sep if isinstance(signer.sep, bytes) else signer.sep.encode()
        self._stamp = (0, b"")  # (second, its encoding): replaced whole, so thread-safe

    def dumps(self, payload) -> str:
        return self.sign_json(json.dumps(payload, ensure_ascii=False, separators=(",", ":")))

    def sign_json(self, data: str) -> str:
        """The token of a payload already in itsdangerous's compact JSON."""
        if len(data) >= _COMPRESSIBLE:
            return make_token(self.purpose, json.loads(data))
        now = int(time.time())
        second, stamp = self._stamp
        if second != now:
            stamp = b64(now.to_bytes(8, "big").lstrip(b"\0"))
            self._stamp = (now, stamp)
        value = b64(data.encode()) + self._sep + stamp
        signature = hmac.digest(self._key, value, self._digest)
        return (value + self._sep + b64(signature)).decode("ascii")


def action_links(case_id: int):
    """supporter → its "I sent my appeal" link, as letters.services.action_url makes it."""
    from campaign.letters.services import ACTION_PURPOSE, base_url

    signer, prefix = Signer(ACTION_PURPOSE), f"{base_url()}/act/"

    def action_url(supporter) -> str:
        return prefix + signer.sign_json(f'{{"c":{int(case_id)},"s":{int(supporter.id)}}}')

    return action_url
