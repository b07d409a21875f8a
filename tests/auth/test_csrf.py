"""With CSRF on, every state-changing staff form refuses a request without a token."""

import pytest

from tests.auth.test_route_matrix import concrete, routes
from tests.conftest import PASSWORD, csrf

# Pages, headers and messages: nothing here depends on the SQL dialect.
pytestmark = pytest.mark.any_db

# RFC 8058: mail clients POST the one-click unsubscribe without cookies or a
# token; its signed URL is its protection (tests/supporters cover it).
CSRF_EXEMPT = {"supporters.unsubscribe"}


@pytest.fixture
def app_config(app_config):
    return {**app_config, "WTF_CSRF_ENABLED": True}


def test_every_staff_form_needs_a_csrf_token(app, make_user, db):
    from campaign.cases import services

    case = services.create_case(None, {"title": "T"})
    person = services.save_person(None, None, {"name": "P"})
    target = services.save_target(None, case, None, {"name": "X"})
    db.session.commit()
    make_user("admin", "a@example.org")
    client = app.test_client()
    login = client.post(
        "/login",
        data={"email": "a@example.org", "password": PASSWORD, "csrf_token": csrf(client, "/login")},
    )
    assert login.status_code == 302
    sample = {
        "case_id": case.id,
        "person_id": person.id,
        "target_id": target.id,
        "user_id": 1,
        "token_id": 1,
        "key": "x",
        "letter_id": 1,
        "token": "x",
    }
    checked = 0
    for rule, method, _handler in routes(app):
        if method != "POST" or rule.rule.startswith("/api/") or rule.endpoint == "auth.login":
            continue
        response = client.post(concrete(rule, sample), data={"title": "changed", "name": "changed"})
        if rule.endpoint in CSRF_EXEMPT:
            continue
        assert response.status_code == 400, f"{rule.rule} accepted a POST without CSRF token"
        checked += 1
    assert checked > 10
    db.session.expire_all()
    assert case.title == "T" and person.name == "P" and target.name == "X"


def test_login_without_token_is_refused(app, make_user):
    make_user("viewer", "v@example.org")
    response = app.test_client().post(
        "/login", data={"email": "v@example.org", "password": PASSWORD}
    )
    assert response.status_code == 400
    assert "Form expired" in response.get_data(as_text=True)
