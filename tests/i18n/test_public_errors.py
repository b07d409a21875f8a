"""Errors on supporter pages speak the supporter's language and lead to no
staff login; the form macros and the country lists are translated too. Staff
error pages stay English."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest
from flask import render_template_string
from flask_babel import refresh

# Pages, headers and messages: nothing here depends on the SQL dialect.
pytestmark = pytest.mark.any_db


def _text(response) -> str:
    return response.get_data(as_text=True)


def _html_lang(page: str) -> str:
    return re.search(r'<html lang="([^"]+)"', page).group(1)


def test_a_missing_case_page_is_a_404_in_french(client, db):
    response = client.get("/ua/999999?lang=fr")
    assert response.status_code == 404
    page = _text(response)
    assert _html_lang(page) == "fr"
    assert "Page introuvable" in page and "Erreur 404" in page
    assert "/login" not in page and "Back to the start" not in page


def test_an_unknown_address_under_a_public_page_is_a_404_in_the_browser_language(client):
    response = client.get("/act/x/y/z", headers={"Accept-Language": "fr"})
    assert response.status_code == 404
    page = _text(response)
    assert _html_lang(page) == "fr" and "Page introuvable" in page
    assert "/login" not in page


def test_staff_errors_stay_english_with_the_way_to_the_login(client):
    response = client.get("/no-such-page?lang=fr", headers={"Accept-Language": "fr"})
    assert response.status_code == 404
    page = _text(response)
    assert "Not found" in page and "/login" in page and "Page introuvable" not in page


class TestRateLimited:
    @pytest.fixture
    def app_config(self, app_config):
        return {**app_config, "RATELIMIT_ENABLED": True, "SIGNUP_RATE_LIMIT": "2 per minute"}

    def test_too_many_sign_ups_is_a_429_in_french(self, client, monkeypatch):
        from campaign.supporters import tasks

        monkeypatch.setattr(tasks.send_confirmation, "apply_async", lambda *a, **k: None)
        # Refused forms cost nothing (issue #17): only accepted sign-ups count.
        bad = {"email": "not an address", "language": "fr"}
        assert [client.post("/join?lang=fr", data=bad).status_code for _ in range(3)] == [422] * 3

        def good(n):
            return {"email": f"p{n}@example.org", "language": "fr", "consent": "y"}

        codes = [client.post("/join?lang=fr", data=good(n)).status_code for n in range(3)]
        assert codes == [200, 200, 429]
        page = _text(client.post("/join?lang=fr", data=good(9)))
        assert _html_lang(page) == "fr"
        assert "Trop d’inscriptions depuis ici" in page and "Réessayez plus tard" in page
        assert "/login" not in page


class TestExpiredForm:
    @pytest.fixture
    def app_config(self, app_config):
        return {**app_config, "WTF_CSRF_ENABLED": True}  # as in production

    def test_a_sign_up_without_its_token_is_a_400_in_french(self, client):
        response = client.post("/join?lang=fr", data={"email": "a@example.org", "language": "fr"})
        assert response.status_code == 400
        page = _text(response)
        assert _html_lang(page) == "fr"
        assert "Le formulaire a expiré" in page and "/login" not in page


def test_the_form_macro_says_the_form_expired_in_the_page_language(app):
    form = SimpleNamespace(form_errors=[], errors={"csrf_token": ["The CSRF token has expired."]})
    template = '{% from "_macros.html" import form_errors %}{{ form_errors(form) }}'
    with app.test_request_context("/join?lang=fr"):
        assert "Le formulaire a expiré. Envoyez-le de nouveau." in render_template_string(
            template, form=form
        )
    with app.test_request_context("/supporters/new?lang=fr"):  # a staff page
        refresh()  # Flask-Babel keeps the locale in the app context the fixture holds
        assert "The form expired. Send it again." in render_template_string(template, form=form)


def test_the_sign_up_countries_are_named_and_sorted_in_the_page_language(client, login):
    page = _text(client.get("/join?lang=fr"))
    assert '<option value="DE">Allemagne</option>' in page
    assert "Germany" not in page
    # Sorted the French way: the accented É among the E's.
    assert page.index(">Égypte<") < page.index(">Espagne<") < page.index(">États-Unis<")
    assert '<option value="DE">Deutschland</option>' in _text(client.get("/join?lang=de"))
    assert ">Germany<" in _text(client.get("/join?lang=en"))
    # Only countries (no "Monde", "Union européenne" or "001").
    assert 'value="001"' not in page and 'value="EU"' not in page
    staff = _text(login("campaigner").get("/supporters/new?lang=fr"))
    assert '<option value="DE">Germany</option>' in staff


def test_a_pack_with_nothing_to_print_tells_the_supporter_in_their_language(
    client, case, make_supporter, before_deadline
):
    """The staff's reason ("write a letter and add targets first") is not shown."""
    from campaign.letters.services import action_token

    claire = make_supporter("claire@example.org", language="fr")
    response = client.get(f"/act/{action_token(case, claire)}/letters.pdf")  # no letters yet
    assert response.status_code == 404
    page = _text(response)
    assert "pas encore de lettre à imprimer pour cet appel" in page
    assert "write a letter" not in page and "nothing to print" not in page


def test_a_nul_character_on_a_public_form_is_refused_in_the_language(client):
    response = client.post("/join?lang=de", data={"email": "a\x00@example.org", "language": "de"})
    assert response.status_code == 400
    page = _text(response)
    assert _html_lang(page) == "de" and "NUL-Zeichen" in page and "/login" not in page
