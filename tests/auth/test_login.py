import pytest
from sqlalchemy import select

from campaign.auth import services
from campaign.auth.models import User
from tests.conftest import PASSWORD

# Pages, headers and messages: nothing here depends on the SQL dialect.
pytestmark = pytest.mark.any_db


def test_login_and_logout(app, make_user):
    make_user("campaigner", "c@example.org")
    client = app.test_client()
    response = client.post("/login", data={"email": " C@Example.org ", "password": PASSWORD})
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert client.get("/cases/").status_code == 200
    assert client.post("/logout").status_code == 302
    assert client.get("/cases/").status_code == 302


def test_wrong_password_is_refused_with_a_clear_page(app, make_user):
    make_user("viewer", "v@example.org")
    response = app.test_client().post("/login", data={"email": "v@example.org", "password": "nope"})
    assert response.status_code == 401
    assert "Wrong email or password." in response.get_data(as_text=True)
    unknown = app.test_client().post("/login", data={"email": "x@example.org", "password": "nope"})
    assert "Wrong email or password." in unknown.get_data(as_text=True)


def test_next_parameter_cannot_redirect_elsewhere(app, make_user):
    make_user("viewer", "v@example.org")
    for target, expected in [
        ("/people/", "/people/"),
        ("https://evil.example/", "/"),
        ("//evil.example/", "/"),
        ("/\\evil.example", "/"),
    ]:
        response = app.test_client().post(
            f"/login?next={target}", data={"email": "v@example.org", "password": PASSWORD}
        )
        assert response.headers["Location"] == expected, target


def test_password_change_ends_other_sessions(app, make_user, db):
    make_user("viewer", "v@example.org")
    first, second = app.test_client(), app.test_client()
    for client in (first, second):
        client.post("/login", data={"email": "v@example.org", "password": PASSWORD})
    response = first.post(
        "/account/password",
        data={
            "current": PASSWORD,
            "password": "a brand new passphrase",
            "confirm": "a brand new passphrase",
        },
    )
    assert response.status_code == 302
    assert first.get("/cases/").status_code == 200
    assert second.get("/cases/").status_code == 302


def test_password_policy(app, make_user):
    import pytest

    from campaign.core.errors import ValidationError

    for weak in ("short", "aaaaaaaaaaaaaaaa", "myname@example.org-1234"):
        with pytest.raises(ValidationError):
            services.create_user(None, "myname@example.org", "viewer", weak)


def test_passwords_are_hashed_with_argon2(app, make_user, db):
    user = make_user("viewer")
    stored = db.session.scalar(select(User.password_hash).where(User.id == user.id))
    assert stored.startswith("$argon2id$") and PASSWORD not in stored


def test_production_hashes_with_rfc_9106_and_old_hashes_are_remade_at_login(
    app, make_user, db, monkeypatch, tmp_path
):
    """The suite hashes with argon2's cheapest parameters (tests/conftest.py); the
    setting's default is RFC 9106's low-memory profile, and a hash made under
    other parameters is re-made under the current ones at its owner's login."""
    from argon2 import PasswordHasher, profiles

    from campaign import config

    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path))
    assert config.from_environment()["PASSWORD_HASH_PROFILE"] == "RFC_9106_LOW_MEMORY"
    user = make_user("viewer", "v@example.org")
    assert (
        PasswordHasher.from_parameters(profiles.CHEAPEST).check_needs_rehash(user.password_hash)
        is False
    )
    app.config["PASSWORD_HASH_PROFILE"] = "RFC_9106_LOW_MEMORY"
    services.authenticate("v@example.org", PASSWORD)
    stored = db.session.scalar(select(User.password_hash).where(User.id == user.id))
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    # The old hash's password still works, now against the new hash.
    assert services.authenticate("v@example.org", PASSWORD).id == user.id


def test_an_unknown_hash_profile_stops_the_start(tmp_path):
    from campaign import create_app
    from tests.conftest import make_config

    config = make_config(f"sqlite:///{tmp_path}/x.sqlite3", tmp_path)
    with pytest.raises(ValueError, match="PASSWORD_HASH_PROFILE: no argon2 profile named 'FAST'"):
        create_app({**config, "PASSWORD_HASH_PROFILE": "FAST"})


def test_the_unknown_address_hash_costs_what_a_real_one_does():
    """The hash an unknown address is checked against has the profile's
    parameters (so verifying it costs as much as a real one) and matches nothing."""
    from argon2 import extract_parameters, profiles

    for profile in ("RFC_9106_LOW_MEMORY", "CHEAPEST"):
        hasher, dummy = services._hasher_for(profile)
        assert extract_parameters(dummy) == getattr(profiles, profile)
        assert not hasher.check_needs_rehash(dummy)
    from argon2.exceptions import VerifyMismatchError

    hasher, dummy = services._hasher_for("CHEAPEST")
    for password in ("", PASSWORD, dummy):
        with pytest.raises(VerifyMismatchError):
            hasher.verify(dummy, password)


def test_deactivated_user_is_logged_out_and_cannot_log_in(app, make_user, login, db):
    client = login("viewer", "v@example.org")
    admin = login("admin", "a@example.org")
    user = services.user_by_email("v@example.org")
    response = admin.post(f"/admin/users/{user.id}", data={"name": "", "role": "viewer"})
    assert response.status_code == 302
    assert client.get("/cases/").status_code == 302
    refused = app.test_client().post(
        "/login", data={"email": "v@example.org", "password": PASSWORD}
    )
    assert refused.status_code == 401


def test_session_cookie_flags(app, make_user):
    make_user("viewer", "v@example.org")
    response = app.test_client().post(
        "/login", data={"email": "v@example.org", "password": PASSWORD}
    )
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_secure_cookie_under_https(monkeypatch, tmp_path):
    from campaign import config

    monkeypatch.setenv("BASE_URL", "https://ua.example.org")
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path))
    settings = config.from_environment()
    assert settings["SESSION_COOKIE_SECURE"] and settings["REMEMBER_COOKIE_SECURE"]
