"""Roles and the decorators with which every route declares who may use it.

Every view function carries ``required_role`` (``None`` for public routes);
tests/auth/test_route_matrix.py walks the URL map and fails on any route that
declares nothing, so a new route cannot forget its guard.

They live in core because every domain's views use them; the one thing they
need from auth, the user an API token names, auth hands over with
:func:`token_user_loader` (as it hands Flask-Login the session's user).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import abort, current_app, g, redirect, request, url_for
from flask_login import current_user

ROLES = ("viewer", "campaigner", "coordinator", "admin")
ROLE_LABELS = {
    "viewer": "Viewer (read only)",
    "campaigner": "Campaigner (drafts UAs, letters, updates)",
    "coordinator": "Coordinator (issues, sends, closes)",
    "admin": "Admin (users and settings)",
}


def token_user_loader(app, loader: Callable[[str | None], object | None]) -> None:
    """Register how a bearer token (or None) becomes a staff user (or None)."""
    app.extensions["token_user_loader"] = loader


def rank(role: str | None) -> int:
    return ROLES.index(role) if role in ROLES else -1


def has_role(user, role: str) -> bool:
    return bool(user and getattr(user, "is_active", False) and rank(user.role) >= rank(role))


def requires(role: str):
    """Staff pages: a login, and at least ``role``."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}")

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
            if not has_role(current_user, role):
                abort(403)
            return view(*args, **kwargs)

        wrapped.required_role = role  # type: ignore[attr-defined]
        return wrapped

    return decorator


def api_requires(role: str):
    """API endpoints: a bearer token of a staff member with at least ``role``.

    The API never accepts the session cookie: it is exempt from CSRF, so a
    cookie must not be enough to act through it.
    """
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}")

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            user = current_app.extensions["token_user_loader"](bearer_token())
            if user is None:
                abort(401)
            if not has_role(user, role):
                abort(403)
            g.api_user = user
            return view(*args, **kwargs)

        wrapped.required_role = role  # type: ignore[attr-defined]
        return wrapped

    return decorator


def public(view):
    """Mark a route as deliberately open to everybody."""
    view.required_role = None
    return view


def bearer_token() -> str | None:
    """The token of an ``Authorization: Bearer`` header, or None."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()
