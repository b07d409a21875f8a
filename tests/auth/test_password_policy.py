"""The password policy: short, breached, guessable and personal passwords are refused."""

from __future__ import annotations

import pytest

from campaign.auth import passwords, services
from campaign.core.errors import ValidationError
from tests.conftest import PASSWORD

# Pages, headers and messages: nothing here depends on the SQL dialect.
pytestmark = pytest.mark.any_db


@pytest.mark.parametrize(
    ("password", "expected"),
    [
        ("short", "at least 12 characters"),
        ("password1234", "appears in lists of breached passwords"),
        ("P@ssw0rd1234", "too close to passwords that appear in lists of breached"),
        ("qwertyuiop123", "appears in lists of breached passwords"),
        ("iloveyou2024", "too close to passwords that appear in lists of breached"),
        ("letmein123456", "too close to passwords that appear in lists of breached"),
        ("aaaaaaaaaaaaaaaa", "too easy to guess"),
        ("abcdefghijklmnop", "too easy to guess"),
        ("zoryanna@example.org-1234", "too similar to your email address or name"),
        ("Kovalenko-zoryanna1", "too similar to your email address or name"),
        ("Zoryanna Kovalenko 2024!", "too similar to your email address or name"),
        ("x" * 1001, "at most 1000 characters"),
    ],
)
def test_weak_passwords_are_refused_with_the_reason(password, expected):
    message = passwords.problem(password, "zoryanna@example.org", "Zoryanna Kovalenko")
    assert message is not None and expected in message, message


@pytest.mark.parametrize(
    "password",
    [
        PASSWORD,  # the test users' password
        "a brand new passphrase",
        "Tr0ub4dor&3-maple-quarry",
        "y" * 10 + "Kq7#vLm2!pZ9wR4t" + "z" * 80,  # longer than zxcvbn reads
    ],
)
def test_strong_passwords_pass(password):
    assert passwords.problem(password, "zoryanna@example.org", "Zoryanna Kovalenko") is None


def test_generated_bootstrap_passwords_pass():
    import secrets

    for _ in range(50):  # what `flask bootstrap` generates
        assert passwords.problem(secrets.token_urlsafe(12), "admin@example.org") is None


def test_minimum_length_is_configurable(app):
    app.config["PASSWORD_MIN_LENGTH"] = 30
    assert "at least 30 characters" in passwords.problem(PASSWORD)
    app.config["PASSWORD_MIN_LENGTH"] = 12
    assert passwords.problem(PASSWORD) is None


def test_create_user_refuses_a_breached_password_and_creates_nothing(app, db):
    with pytest.raises(ValidationError) as refused:
        services.create_user(None, "new@example.org", "viewer", "password1234")
    assert refused.value.field == "password"
    assert "breached" in refused.value.message
    assert services.user_by_email("new@example.org") is None


def test_admin_form_shows_the_reason(login):
    admin = login("admin")
    response = admin.post(
        "/admin/users",
        data={"email": "new@example.org", "role": "viewer", "password": "password1234"},
    )
    assert response.status_code == 422
    assert "appears in lists of breached passwords" in response.get_data(as_text=True)
    assert services.user_by_email("new@example.org") is None


def test_account_page_refuses_a_weak_new_password(login, app):
    client = login("viewer", "v@example.org")
    response = client.post(
        "/account/password",
        data={"current": PASSWORD, "password": "iloveyou2024", "confirm": "iloveyou2024"},
    )
    assert response.status_code == 422
    assert "breached passwords" in response.get_data(as_text=True)
    # The old password still works: nothing was changed.
    fresh = app.test_client().post("/login", data={"email": "v@example.org", "password": PASSWORD})
    assert fresh.status_code == 302


def test_set_password_checks_against_the_users_name(app, db, make_user):
    user = make_user("viewer", "v@example.org")
    user.name = "Yarema Bondarenko"
    with pytest.raises(ValidationError, match="email address or name"):
        services.set_password(None, user, "bondarenko-yarema")


def test_cli_create_refuses_a_breached_password(app, monkeypatch):
    monkeypatch.setenv("CAMPAIGN_PASSWORD", "password1234")
    result = app.test_cli_runner().invoke(
        args=["users", "create", "cli@example.org", "--role", "viewer"]
    )
    assert result.exit_code == 1
    assert "breached passwords" in result.output
    assert services.user_by_email("cli@example.org") is None


def test_cli_bootstrap_generated_password_is_accepted(app):
    result = app.test_cli_runner().invoke(args=["bootstrap", "--no-demo"])
    assert result.exit_code == 0, result.output
    assert "Created admin admin@example.org" in result.output


def test_cli_password_reset_applies_the_policy(app, make_user, monkeypatch):
    user = make_user("viewer", "v@example.org")
    epoch = user.session_epoch
    monkeypatch.setenv("CAMPAIGN_PASSWORD", "letmein123456")
    refused = app.test_cli_runner().invoke(args=["users", "password", "v@example.org"])
    assert refused.exit_code == 1 and "breached passwords" in refused.output
    monkeypatch.setenv("CAMPAIGN_PASSWORD", "quiet river under old bridges")
    done = app.test_cli_runner().invoke(args=["users", "password", "v@example.org"])
    assert done.exit_code == 0, done.output
    app.extensions["sqlalchemy"].session.expire_all()
    assert services.get_user(user.id).session_epoch == epoch + 1
    assert services.authenticate("v@example.org", "quiet river under old bridges")


def test_cli_bootstrap_refuses_a_weak_admin_password(app, monkeypatch):
    monkeypatch.setenv("ADMIN_PASSWORD", "password1234")
    result = app.test_cli_runner().invoke(args=["bootstrap", "--no-demo"])
    assert result.exit_code == 1
    assert "ADMIN_PASSWORD: This password appears in lists of breached passwords" in result.output
    assert services.count_users() == 0
