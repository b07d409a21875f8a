"""RFC 8058 one-click unsubscribe: POST without cookies or CSRF token, 200, idempotent."""

import pytest

from campaign.supporters.tokens import unsubscribe_url
from tests.supporters.conftest import path_of

# Pages, headers and messages: nothing here depends on the SQL dialect.
pytestmark = pytest.mark.any_db


@pytest.fixture
def app_config(app_config):
    return {**app_config, "WTF_CSRF_ENABLED": True}  # as in production


def test_one_click_post_unsubscribes_at_once_without_cookie_or_csrf(app, db, make_supporter):
    supporter = make_supporter()
    url = path_of(unsubscribe_url(supporter))
    client = app.test_client(use_cookies=False)
    response = client.post(
        url,
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    assert "Location" not in response.headers
    assert "Set-Cookie" not in response.headers
    db.session.refresh(supporter)
    assert supporter.state == "unsubscribed"
    again = client.post(url, data={"List-Unsubscribe": "One-Click"})
    assert again.status_code == 200
    db.session.refresh(supporter)
    assert [e.new_state for e in supporter.consent_events] == ["subscribed", "unsubscribed"]
    assert supporter.consent_events[-1].source == "one-click unsubscribe"


def test_get_only_asks(app, db, make_supporter):
    supporter = make_supporter()
    response = app.test_client().get(path_of(unsubscribe_url(supporter)))
    assert response.status_code == 200
    assert "Stop all Urgent Action emails to" in response.get_data(as_text=True)
    db.session.refresh(supporter)
    assert supporter.state == "subscribed"


def test_a_forged_token_changes_nothing(app, db, make_supporter):
    supporter = make_supporter()
    url = path_of(unsubscribe_url(supporter))
    response = app.test_client().post(url[:-3] + "xyz", data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 400
    db.session.refresh(supporter)
    assert supporter.state == "subscribed"


def test_other_public_forms_still_need_csrf(app, db, make_supporter):
    from campaign.supporters.tokens import preferences_url

    supporter = make_supporter()
    response = app.test_client().post(path_of(preferences_url(supporter)), data={"language": "fr"})
    assert response.status_code == 400
    db.session.refresh(supporter)
    assert supporter.language == "en"
