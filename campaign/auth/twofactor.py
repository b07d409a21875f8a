"""Two-factor authentication for staff: TOTP apps and one-time recovery codes.

Admins and coordinators must use it (``TOTP_REQUIRED_ROLES``); others may.
A TOTP code is accepted once: the time step of the last accepted code is
stored and older or equal steps are refused, so a code seen over a
shoulder or in a log cannot be replayed.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

import pyotp
import segno
from flask import current_app

from campaign.audit.services import record
from campaign.auth.models import RecoveryCode, User
from campaign.core.errors import ValidationError
from campaign.core.types import utcnow
from campaign.extensions import db

RECOVERY_CODES = 10
ISSUER = "Urgent Actions"


def required_for(user: User) -> bool:
    return user.role in current_app.config["TOTP_REQUIRED_ROLES"]


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(user: User, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=ISSUER)


def qr_svg(uri: str) -> str:
    """The enrolment QR code as inline SVG markup (no script, no request)."""
    return segno.make(uri, error="m").svg_inline(scale=5, dark="#111", light="#fff")


def _hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def _normalise(code: str) -> str:
    return "".join(ch for ch in (code or "") if ch.isalnum()).lower()


def _accept_totp(user: User, secret: str, code: str, at: float | None = None) -> bool:
    """True for a valid code of the current step (±1) newer than the last accepted."""
    code = _normalise(code)
    if not (code.isdigit() and len(code) == 6):
        return False
    totp = pyotp.TOTP(secret)
    now = time.time() if at is None else at
    step = int(now // totp.interval)
    for candidate in (step - 1, step, step + 1):
        if candidate > user.totp_last_step and hmac.compare_digest(
            totp.at(candidate * totp.interval), code
        ):
            user.totp_last_step = candidate
            return True
    return False


def enable(actor, user: User, secret: str, code: str) -> list[str]:
    """Turn 2FA on after the user proved the app works; returns recovery codes once."""
    if not _accept_totp(user, secret, code):
        raise ValidationError("That code is not right. Check the time on your phone.", "code")
    user.totp_secret = secret
    user.totp_enabled_at = utcnow()
    codes = _new_recovery_codes(user)
    record(actor, "user.2fa_enable", user, f"Two-factor authentication on for {user.email}")
    return codes


def _new_recovery_codes(user: User) -> list[str]:
    user.recovery_codes.clear()
    plain = [f"{secrets.token_hex(3)}-{secrets.token_hex(3)}" for _ in range(RECOVERY_CODES)]
    user.recovery_codes.extend(RecoveryCode(code_hash=_hash(_normalise(c))) for c in plain)
    db.session.flush()
    return plain


def verify(user: User, code: str) -> bool:
    """A TOTP code or an unused recovery code (which is then used up)."""
    if user.totp_secret and _accept_totp(user, user.totp_secret, code):
        return True
    digest = _hash(_normalise(code))
    for recovery in user.recovery_codes:
        if recovery.used_at is None and hmac.compare_digest(recovery.code_hash, digest):
            recovery.used_at = utcnow()
            record(None, "user.2fa_recovery", user, f"Recovery code used by {user.email}")
            return True
    return False


def remaining_recovery_codes(user: User) -> int:
    """Unused recovery codes: the set-up page mentions them only once some exist."""
    return sum(1 for r in user.recovery_codes if r.used_at is None)


def reset(actor, user: User) -> None:
    """Admins turn 2FA off for someone who lost their phone; they enrol again."""
    user.totp_secret = None
    user.totp_enabled_at = None
    user.recovery_codes.clear()
    user.session_epoch += 1
    from campaign.auth.services import end_sessions  # services imports this module

    end_sessions(user, "two-factor reset")
    record(actor, "user.2fa_reset", user, f"Two-factor authentication reset for {user.email}")
