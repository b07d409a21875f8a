"""Open redirects: a ``next`` parameter only ever leads to a path on this site."""

from __future__ import annotations

import time
from urllib.parse import urlsplit

import pyotp
import pytest

from tests.conftest import PASSWORD

# Pages, headers and messages: nothing here depends on the SQL dialect.
pytestmark = pytest.mark.any_db

HOSTILE_NEXT = [
    "https://evil.example/",
    "//evil.example/",
    "///evil.example/",
    "/\\evil.example/",
    "\\\\evil.example",
    "http:evil.example",
    "javascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    " //evil.example",
    "/%2F%2Fevil.example",
    "\t//evil.example",
    "/\r\nLocation: https://evil.example",
    "https:/\\evil.example",
]


def assert_local(response, expected: str | None = None) -> None:
    """The redirect stays on this site (a browser resolves it to a path of ours)."""
    assert response.status_code == 302
    location = response.headers["Location"]
    parts = urlsplit(location)
    assert not parts.scheme and not parts.netloc, location
    assert location.startswith("/") and not location.startswith(("//", "/\\")), location
    assert not any(ord(c) < 33 or c == "\\" for c in location), location
    if expected is not None:
        assert location == expected


@pytest.mark.parametrize("target", HOSTILE_NEXT)
def test_login_next_never_leaves_the_site(app, make_user, target):
    make_user("viewer", "v@example.org")
    client = app.test_client()
    response = client.post(
        "/login",
        query_string={"next": target},
        data={"email": "v@example.org", "password": PASSWORD},
    )
    assert_local(response)
    if target != "/%2F%2Fevil.example":  # a local path, harmless: the browser stays here
        assert response.headers["Location"] == "/"


def test_login_next_keeps_a_local_path(app, make_user):
    make_user("viewer", "v@example.org")
    client = app.test_client()
    response = client.post(
        "/login?next=/cases/%3Fq%3Dx", data={"email": "v@example.org", "password": PASSWORD}
    )
    assert_local(response, "/cases/?q=x")


@pytest.mark.parametrize("target", HOSTILE_NEXT[:6])
def test_next_is_checked_again_after_the_second_factor(app, db, make_user, target):
    from campaign.auth import twofactor

    user = make_user("admin", "a@example.org")
    secret = pyotp.random_base32()
    twofactor.enable(user, user, secret, pyotp.TOTP(secret).now())
    db.session.commit()
    client = app.test_client()
    first = client.post(
        "/login", query_string={"next": target},
        data={"email": "a@example.org", "password": PASSWORD},
    )  # fmt: skip
    assert first.headers["Location"] == "/login/verify"
    # A code of the next time step: the one used to enrol cannot be replayed.
    code = pyotp.TOTP(secret).at(time.time() + 30)
    response = client.post("/login/verify", data={"code": code})
    assert_local(response, "/")


def test_a_protected_page_sends_to_login_with_a_local_next(app):
    response = app.test_client().get("/cases/?q=1")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")
    assert "//" not in response.headers["Location"]
