"""Staff accounts: creation, passwords, login throttling, API tokens."""

from __future__ import annotations

import base64
import functools
import hashlib
import secrets
from datetime import timedelta

from argon2 import Parameters, PasswordHasher, Type, profiles
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from sqlalchemy import delete, func, select, update

from campaign.audit.services import record
from campaign.auth import passwords, throttle, twofactor
from campaign.auth.models import ApiToken, StaffSession, User
from campaign.core.errors import Conflict, ServiceError, ValidationError
from campaign.core.roles import ROLES
from campaign.core.types import utcnow
from campaign.extensions import db


@functools.cache
def _hasher_for(profile: str) -> tuple[PasswordHasher, str]:
    """The hasher of an argon2 profile, and a dummy hash with its parameters:
    verified against when the account does not exist, so that a login for an
    unknown address costs as long as one for a known address. The dummy is a
    random salt and digest in argon2's encoding, not a hash of anything: no
    password matches it, and making it costs nothing at start (a real hash with
    the production profile took 0.15-0.2 s of CPU in every web and worker process)."""
    parameters = getattr(profiles, profile, None)
    if not isinstance(parameters, Parameters):
        raise ValueError(f"PASSWORD_HASH_PROFILE: no argon2 profile named {profile!r}")
    hasher = PasswordHasher.from_parameters(parameters)
    return hasher, _encoded(parameters, secrets.token_bytes(parameters.hash_len))


def _encoded(parameters: Parameters, digest: bytes) -> str:
    """``digest`` as an argon2 hash string of ``parameters`` (PHC format) with a random salt."""

    def b64(raw: bytes) -> str:
        return base64.b64encode(raw).decode().rstrip("=")

    variant = {Type.ID: "argon2id", Type.I: "argon2i", Type.D: "argon2d"}[parameters.type]
    return (
        f"${variant}$v={parameters.version}$m={parameters.memory_cost},"
        f"t={parameters.time_cost},p={parameters.parallelism}"
        f"${b64(secrets.token_bytes(parameters.salt_len))}${b64(digest)}"
    )


def check_hash_profile(profile: str) -> None:
    """Raise ValueError, naming the setting, unless ``profile`` is an argon2 profile."""
    _hasher_for(profile)


def _hasher() -> PasswordHasher:
    return _hasher_for(current_app.config["PASSWORD_HASH_PROFILE"])[0]


class LoginRefused(ServiceError):
    status = 401


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def check_password_policy(password: str, email: str = "", name: str = "") -> None:
    """Refuse short, breached, guessable and personal passwords (auth/passwords.py)."""
    passwords.check(password, email, name)


def get_user(user_id: int) -> User | None:
    return db.session.get(User, user_id)


def user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == normalise_email(email)))


def list_users() -> list[User]:
    return list(db.session.scalars(select(User).order_by(User.email)))


def count_users() -> int:
    return db.session.scalar(select(func.count(User.id)))


def create_user(actor, email: str, role: str, password: str, name: str = "") -> User:
    email = normalise_email(email)
    if "@" not in email or len(email) > 254:
        raise ValidationError("Enter a valid email address.", "email")
    if role not in ROLES:
        raise ValidationError(f"Role must be one of: {', '.join(ROLES)}.", "role")
    if user_by_email(email):
        raise Conflict("A staff account with this email already exists.", "email")
    check_password_policy(password, email, name)
    user = User(email=email, role=role, name=name.strip(), password_hash=_hasher().hash(password))
    db.session.add(user)
    db.session.flush()
    record(actor, "user.create", user, f"Created {email} as {role}")
    return user


def update_user(actor, user: User, *, role: str, name: str, active: bool) -> User:
    if role not in ROLES:
        raise ValidationError(f"Role must be one of: {', '.join(ROLES)}.", "role")
    if user.id == getattr(actor, "id", None) and (role != user.role or not active):
        raise ValidationError("You cannot change your own role or deactivate yourself.", "role")
    changes = {
        k: [getattr(user, k), v]
        for k, v in {"role": role, "name": name.strip(), "active": active}.items()
        if getattr(user, k) != v
    }
    if not changes:
        return user
    user.role, user.name, user.active = role, name.strip(), active
    if "active" in changes or "role" in changes:
        user.session_epoch += 1  # a pending two-factor step is void too
        end_sessions(user, "role change" if "role" in changes else "deactivated")
    record(actor, "user.update", user, f"Updated {user.email}", changes)
    return user


def set_password(actor, user: User, password: str) -> None:
    check_password_policy(password, user.email, user.name)
    user.password_hash = _hasher().hash(password)
    user.session_epoch += 1  # a pending two-factor step is void too
    end_sessions(user, "password change")  # the view starts a new one for its own
    throttle.succeeded([throttle.account_key(user.email)])
    record(actor, "user.password", user, f"Password changed for {user.email}")


def change_own_password(user: User, current: str, new: str) -> None:
    if not _verify(user.password_hash, current):
        raise ValidationError("This is not your current password.", "current")
    set_password(user, user, new)


class Throttled(LoginRefused):
    status = 429


def _throttle_check(keys: list[str], now) -> None:
    wait = throttle.wait_seconds(keys, now)
    if wait:
        # The same words, and no password check, for known and unknown addresses.
        raise Throttled(f"Too many failed attempts. Wait {wait} seconds and try again.")


def authenticate(
    email: str, password: str, *, ip: str | None = None, device: str | None = None
) -> User:
    """Return the user, or raise LoginRefused with a message fit to show.

    ``device`` is the id from the browser's device cookie for this address
    (throttle.device_for): such a browser is throttled on its own key only.
    """
    now = utcnow()
    keys = throttle.keys_for(email, ip, device)
    _throttle_check(keys, now)
    user = user_by_email(email)
    # Always one password hash, so that known and unknown addresses take as long.
    if not _verify(user.password_hash if user else _dummy_hash(), password) or user is None:
        throttle.failed(keys, now, ip)
        raise LoginRefused("Wrong email or password.")
    if not user.active:
        raise LoginRefused("This account is deactivated. Ask an admin.")
    if not user.has_2fa:
        throttle.succeeded(keys)
        user.last_login_at = now
    if _hasher().check_needs_rehash(user.password_hash):
        user.password_hash = _hasher().hash(password)
    return user


def second_factor(
    user: User, code: str, *, ip: str | None = None, device: str | None = None
) -> None:
    """Check the second factor after the password; failures count towards the backoff."""
    now = utcnow()
    keys = throttle.keys_for(user.email, ip, device)
    _throttle_check(keys, now)
    if not twofactor.verify(user, code):
        throttle.failed(keys, now, ip)
        raise LoginRefused("That code is not right, or it was used already.")
    throttle.succeeded(keys)
    user.last_login_at = now


def _dummy_hash() -> str:
    return _hasher_for(current_app.config["PASSWORD_HASH_PROFILE"])[1]


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


# --- sessions ---------------------------------------------------------------

# last_seen_at is written at most this often, so that reads do not write on every
# request; the idle lifetime is exact to within this.
_TOUCH = timedelta(seconds=60)


def start_session(user: User) -> str:
    """A new server-side session for ``user``; its token goes into the cookie."""
    now = utcnow()
    # Long-ended sessions of this user are of no further use.
    db.session.execute(
        delete(StaffSession).where(
            StaffSession.user_id == user.id, StaffSession.ended_at < now - timedelta(days=30)
        )
    )
    plain = secrets.token_urlsafe(32)
    db.session.add(StaffSession(user_id=user.id, token_hash=_token_hash(plain),
                                created_at=now, last_seen_at=now))  # fmt: skip
    db.session.flush()
    user.session_token = plain
    return plain


def end_session(token: str | None, reason: str = "logout") -> None:
    if token:
        db.session.execute(
            update(StaffSession)
            .where(StaffSession.token_hash == _token_hash(token), StaffSession.ended_at.is_(None))
            .values(ended_at=utcnow(), end_reason=reason)
        )


def end_sessions(user: User, reason: str) -> int:
    """End every session of ``user``; how many were open."""
    result = db.session.execute(
        update(StaffSession)
        .where(StaffSession.user_id == user.id, StaffSession.ended_at.is_(None))
        .values(ended_at=utcnow(), end_reason=reason)
    )
    return result.rowcount


def sign_out_everywhere(actor, user: User) -> int:
    count = end_sessions(user, "signed out by an admin")
    user.session_epoch += 1
    record(actor, "user.sign_out_everywhere", user,
           f"Signed {user.email} out everywhere ({count} sessions)")  # fmt: skip
    return count


def open_sessions(user: User) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(StaffSession)
        .where(StaffSession.user_id == user.id, StaffSession.ended_at.is_(None))
    )


def load_session_user(token: str) -> User | None:
    """Flask-Login's user loader: the session's user while the session lives."""
    if not token or len(token) > 100:
        return None
    row = db.session.scalar(
        select(StaffSession).where(StaffSession.token_hash == _token_hash(token))
    )
    if row is None or row.ended_at is not None:
        return None
    now = utcnow()
    idle = timedelta(minutes=current_app.config["SESSION_IDLE_MINUTES"])
    lifetime = timedelta(hours=current_app.config["SESSION_MAX_HOURS"])
    if now - row.last_seen_at > idle or now - row.created_at > lifetime:
        row.ended_at, row.end_reason = now, "expired"
        return None
    user = row.user
    if not user.active:
        return None
    if now - row.last_seen_at > _TOUCH:
        row.last_seen_at = now
    user.session_token = token
    return user


# --- API tokens -----------------------------------------------------------


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(actor, user: User, name: str) -> tuple[ApiToken, str]:
    """Create a token; the plain token is returned once and never stored."""
    name = (name or "").strip()
    if not name:
        raise ValidationError("Give the token a name, e.g. what script uses it.", "name")
    plain = "ua_" + secrets.token_urlsafe(32)
    token = ApiToken(user=user, name=name[:100], token_hash=_token_hash(plain), prefix=plain[:10])
    db.session.add(token)
    db.session.flush()
    record(actor, "token.create", token, f"API token '{token.name}' for {user.email}")
    return token, plain


def revoke_token(actor, token: ApiToken) -> None:
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        record(actor, "token.revoke", token, f"Revoked API token '{token.name}'")


def tokens_of(user: User) -> list[ApiToken]:
    return list(
        db.session.scalars(
            select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id.desc())
        )
    )


def user_for_token(plain: str | None) -> User | None:
    if not plain:
        return None
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == _token_hash(plain)))
    if token is None or token.revoked_at is not None or not token.user.active:
        return None
    now = utcnow()
    # Coarse, so that reads through the API do not write on every request.
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=5):
        token.last_used_at = now
    return token.user
