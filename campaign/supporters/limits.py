"""Sign-up limits: accepted sign-ups counted per address and per network.

A street stall or an office signs many people up from one connection, so the
network allowance is a setting (``SIGNUP_RATE_LIMIT``) and only *accepted*
sign-ups count (a typo or a refused form costs nothing). One address is
limited on its own (``SIGNUP_ADDRESS_RATE_LIMIT``) so a flood of confirmation
emails cannot be aimed at one mailbox. /join and the sign-up box of the public
"I took action" form share these counters.

The counters live in Flask-Limiter's storage (Redis, with its in-memory
fallback), through the ``limits`` library it is built on.
"""

from __future__ import annotations

import hashlib
import ipaddress

from flask import current_app
from limits import parse_many

from campaign.extensions import limiter


def _network(ip: str | None) -> str:
    """An IPv4 address counts alone; an IPv6 host, which may use a whole /64, by its /64."""
    try:
        address = ipaddress.ip_address(ip or "")
    except ValueError:
        return "unknown"
    if address.version == 6:
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def _address_key(email_key: str) -> str:
    # The counter key names no address in clear (Redis is not where addresses live);
    # letter case never makes another mailbox (DESIGN.md §2 rule 5).
    secret = current_app.config["SECRET_KEY"].encode()
    digest = hashlib.sha256(secret + b"signup:" + email_key.casefold().encode())
    return digest.hexdigest()[:32]


def _checks(email_key: str | None, ip: str | None):
    config = current_app.config
    for item in parse_many(config["SIGNUP_RATE_LIMIT"]):
        yield item, ("signup-network", _network(ip))
    if email_key:
        for item in parse_many(config["SIGNUP_ADDRESS_RATE_LIMIT"]):
            yield item, ("signup-address", _address_key(email_key))


def _enabled() -> bool:
    return bool(current_app.config["RATELIMIT_ENABLED"])


def allowed(email_key: str | None, ip: str | None) -> bool:
    """Whether one more sign-up from this address and network is within the limits."""
    if not _enabled():
        return True
    strategy = limiter.limiter
    return all(strategy.test(item, *keys) for item, keys in _checks(email_key, ip))


def count(email_key: str | None, ip: str | None) -> None:
    """Count an accepted sign-up."""
    if not _enabled():
        return
    strategy = limiter.limiter
    for item, keys in _checks(email_key, ip):
        strategy.hit(item, *keys)
