"""The staff letters editor: placeholders, previews, save-time refusals, API."""

import pytest
from sqlalchemy import func, select

from campaign.letters.models import LetterTemplate
from tests.letters.conftest import EN_BODY, RU_BODY

# Pages, headers and messages: nothing here depends on the SQL dialect.
pytestmark = pytest.mark.any_db


def letters_count(db) -> int:
    return db.session.scalar(select(func.count()).select_from(LetterTemplate))


def test_staff_write_letters_in_two_languages_and_see_previews(app, case, db, login):
    client = login("campaigner")
    page = client.get(f"/cases/{case.id}/letters/new")
    assert page.status_code == 200 and "{{ salutation }}" in page.get_data(as_text=True)
    preview = client.post(
        f"/cases/{case.id}/letters/new",
        data={
            "language": "ru",
            "subject": "Освободите {{ people }}",
            "body": RU_BODY,
            "action": "preview",
        },
    )
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200
    assert "Анна Иванова" in html and "Освободите Ахтем Чийгоз и Ilmi Umerov" in html
    assert html.count('class="card letter-preview"') == 3  # one per target
    assert letters_count(db) == 0, "a preview saves nothing"
    for language, subject, body, salutations in (
        ("ru", "Освободите {{ people }}", RU_BODY,
         ("Уважаемый господин Генеральный прокурор", "Уважаемые дамы и господа")),
        ("en", "Release {{ people }}", EN_BODY, ("Dear Prosecutor General", "Your Excellency")),
    ):  # fmt: skip
        saved = client.post(
            f"/cases/{case.id}/letters/new",
            data={"language": language, "subject": subject, "body": body, "action": "save"},
        )
        assert saved.status_code == 302
        shown = client.get(saved.headers["Location"]).get_data(as_text=True)
        # Each target addressed in the letter's language (its own salutation, else the standard).
        assert all(salutation in shown for salutation in salutations)
    assert letters_count(db) == 2
    listing = client.get(f"/cases/{case.id}/letters/").get_data(as_text=True)
    assert "Russian" in listing and "English" in listing
    staff_case = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert f"/cases/{case.id}/letters/" in staff_case and f"/ua/{case.id}" in staff_case


def test_a_broken_template_is_refused_with_its_line_and_nothing_saved(app, case, db, login):
    client = login("campaigner")
    for action in ("save", "preview"):
        response = client.post(
            f"/cases/{case.id}/letters/new",
            data={
                "language": "en",
                "subject": "S",
                "body": "Hello\n\n{{ name }}",
                "action": action,
            },
        )
        assert response.status_code == 422
        html = response.get_data(as_text=True)
        assert "Line 3: unknown placeholder {{ name }}" in html
        assert 'id="body-error"' in html
    assert letters_count(db) == 0


def test_viewers_read_and_cannot_write(app, case, letters, db, login):
    client = login("viewer")
    letter = letters["en"]
    assert client.get(f"/cases/{case.id}/letters/{letter.id}").status_code == 200
    assert client.get(f"/cases/{case.id}/letters/new").status_code == 403
    assert client.post(f"/cases/{case.id}/letters/{letter.id}/delete").status_code == 403


def test_the_letters_api(app, case, api_client, db):
    client, headers = api_client("campaigner")
    url = f"/api/v1/cases/{case.id}/letters"
    bad = client.post(
        url, json={"language": "en", "subject": "S", "body": "{{ x.__class__ }}"}, headers=headers
    )
    assert bad.status_code == 422 and bad.json["field"] == "body"
    assert bad.json["message"].startswith("Line 1:")
    made = client.post(
        url, json={"language": "en", "subject": "S", "body": EN_BODY}, headers=headers
    )
    assert made.status_code == 201
    letter_id = made.json["id"]
    patched = client.patch(f"{url}/{letter_id}", json={"subject": "New"}, headers=headers)
    assert patched.status_code == 200, patched.json
    assert patched.json["subject"] == "New"
    assert [x["id"] for x in client.get(url, headers=headers).json] == [letter_id]
    assert client.delete(f"{url}/{letter_id}", headers=headers).status_code == 204
    assert letters_count(db) == 0
