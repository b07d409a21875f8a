"""A UA's text in several languages: set by staff (page and API) or the case-sheet
import, read by each supporter in their language or, with a note, in the main one."""

from __future__ import annotations

import pytest

from campaign.cases import texts as case_texts
from campaign.core.errors import ValidationError
from campaign.letters.appeal import appeal_block

RUSSIAN = {
    "title": "Лидерам крымских татар грозит заключение",
    "summary": "Ахтем Чийгоз приговорён к восьми годам.",
    "recommended_actions": "Освободите их.\nСнимите все обвинения.",
    "background": "",
    "closing_text": "Оба освобождены.",
}


def test_a_reader_gets_their_language_else_the_main_one_with_a_note(db, case):
    case_texts.set_case_text(None, case, "ru", RUSSIAN)
    russian = case_texts.content(case, "ru")
    assert (russian.language, russian.title, russian.fallback) == ("ru", RUSSIAN["title"], False)
    german = case_texts.content(case, "de")
    assert (german.language, german.title, german.fallback) == ("en", case.title, True)
    english = case_texts.content(case, "en")
    assert english.fallback is False and english.title == case.title
    block = appeal_block(case, language="ru")
    assert block.title == RUSSIAN["title"]
    assert block.recommended_actions == ["Освободите их.", "Снимите все обвинения."]


def test_setting_text_is_checked_and_an_empty_title_removes_it(db, case):
    with pytest.raises(ValidationError) as refused:
        case_texts.set_case_text(None, case, "en", RUSSIAN)
    assert refused.value.field == "language"  # the main language is edited on the case
    with pytest.raises(ValidationError):
        case_texts.set_case_text(None, case, "xx", RUSSIAN)
    with pytest.raises(ValidationError) as refused:
        case_texts.set_case_text(None, case, "ru", {**RUSSIAN, "title": ""})
    assert refused.value.field == "title"
    with pytest.raises(ValidationError):
        case_texts.set_case_text(None, case, "ru", {"nonsense": "x"})
    assert case_texts.translations(case) == {}
    case_texts.set_case_text(None, case, "ru", RUSSIAN)
    assert set(case_texts.translations(case)) == {"ru"}
    case_texts.set_case_text(None, case, "ru", {})
    assert case_texts.translations(case) == {}


def test_staff_write_the_russian_text_on_a_small_page(db, case, login):
    client = login("campaigner")
    page = client.get(f"/cases/{case.id}/letters/")
    assert f"/cases/{case.id}/texts/ru" in page.get_data(as_text=True)  # an appeal language
    saved = client.post(f"/cases/{case.id}/texts/ru", data=RUSSIAN)
    assert saved.status_code == 302
    assert case_texts.translations(case)["ru"].title == RUSSIAN["title"]
    assert RUSSIAN["title"] in client.get(f"/cases/{case.id}/letters/").get_data(as_text=True)


def test_the_api_sets_and_lists_texts_per_language(db, case, api_client):
    client, auth = api_client("campaigner")
    url = f"/api/v1/cases/{case.id}/texts"
    put = client.put(f"{url}/ru", json=RUSSIAN, headers=auth)
    assert put.status_code == 200 and put.json["language"] == "ru"
    listed = client.get(url, headers=auth)
    assert [row["title"] for row in listed.json] == [RUSSIAN["title"]]
    refused = client.put(f"{url}/en", json=RUSSIAN, headers=auth)
    assert refused.status_code == 422
    assert client.delete(f"{url}/ru", headers=auth).status_code == 204
    assert client.get(url, headers=auth).json == []


def test_before_sending_staff_see_who_gets_the_main_language(
    db, case, make_supporter, login, make_user
):
    from campaign.mailings import audience, services

    for index, language in enumerate(("ru", "ru", "de", "en")):
        make_supporter(f"s{index}@example.org", language=language)
    case_texts.set_case_text(None, case, "ru", RUSSIAN)
    mailing = services.create_mailing(
        None, kind="appeal", subject="Act", case_id=case.id, everyone=True
    )
    assert audience.text_fallbacks(mailing) == {
        "de": {"count": 1, "fallback": True},
        "en": {"count": 1, "fallback": False},
        "ru": {"count": 2, "fallback": False},
    }
    client = login("coordinator", "coord@example.org")
    services.approve(make_user("coordinator", "other@example.org"), mailing)
    db.session.commit()
    page = client.get(f"/mailings/{mailing.id}").get_data(as_text=True)
    assert 'id="text-fallbacks"' in page and "no translation" in page


def test_a_target_salutation_per_language(db, case):
    from campaign.cases import services as cases
    from campaign.letters.services import save_letter

    save_letter(None, case, None, {"language": "uk", "subject": "Звільніть їх",
                                   "body": "{{ salutation }},\n\nЗвільніть їх."})  # fmt: skip
    target = case.targets[0]
    uk = {"uk": "Шановний пане Генеральний прокуроре"}
    cases.save_target(None, case, target, {"salutations": {**uk, "fr": " "}})
    assert target.salutations == uk  # an empty one is dropped
    assert "Шановний пане" in appeal_block(case, language="uk", blank=True).entries[0].letter.body
    with pytest.raises(ValidationError):
        cases.save_target(None, case, target, {"salutations": {"xx": "Hi"}})
