"""Supporter pages speak the supporter's language: the explicit choice, then the
supporter a signed link names, then the browser, then English; staff pages stay
English; Arabic pages are right to left."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import select

from campaign.supporters.models import Supporter
from campaign.supporters.tokens import confirm_token, preferences_token, unsubscribe_token

# Pages, headers and messages: nothing here depends on the SQL dialect.
pytestmark = pytest.mark.any_db

SIGNUP = {
    "en": "Join the Urgent Action network",
    "fr": "Rejoignez le réseau Actions urgentes",
    "es": "Únete a la red de Acciones Urgentes",
    "ru": "Присоединяйтесь к сети срочных акций",
    "ar": "انضم إلى شبكة التحركات العاجلة",
}


def _html_lang(page: str) -> tuple[str, str]:
    match = re.search(r'<html lang="([^"]+)" dir="([^"]+)"', page)
    return match.group(1), match.group(2)


def _text(response) -> str:
    return response.get_data(as_text=True)


@pytest.mark.parametrize("language", ["en", "fr", "es", "ru", "ar"])
def test_the_sign_up_page_in_each_language(client, language):
    page = _text(client.get(f"/join?lang={language}"))
    assert SIGNUP[language] in page
    assert _html_lang(page) == (language, "rtl" if language == "ar" else "ltr")


def test_sign_up_labels_interests_and_errors_are_translated(client):
    page = _text(client.get("/join?lang=fr"))
    assert "Prénom" in page and "Peine de mort" in page and "Ce qui vous tient" in page
    refused = client.post("/join?lang=ru", data={"email": "not an address", "language": "ru"})
    assert refused.status_code == 422
    page = _text(refused)
    assert "Введите правильный адрес электронной почты" in page
    assert "Отметьте поле, чтобы согласиться" in page
    assert "Смертная казнь" in page


def test_the_language_chosen_in_the_form_wins_over_the_address(client, db, eager, inbox):
    response = client.post(
        "/join?lang=fr",
        data={"email": "boris@example.org", "language": "ru", "consent": "y"},
        headers={"Accept-Language": "es"},
    )
    assert response.status_code == 200
    assert "Проверьте почту" in _text(response)
    assert db.session.scalar(select(Supporter)).language == "ru"
    [message] = inbox.messages()
    assert message["Subject"] == "Подтвердите подписку на срочные акции"


def test_the_browser_language_then_english(client):
    assert SIGNUP["es"] in _text(client.get("/join", headers={"Accept-Language": "es-MX,en;q=0.5"}))
    assert SIGNUP["ru"] in _text(client.get("/join", headers={"Accept-Language": "it, ru;q=0.8"}))
    # Unknown everywhere: English.
    page = _text(client.get("/join?lang=xx", headers={"Accept-Language": "tlh, ja"}))
    assert SIGNUP["en"] in page and _html_lang(page) == ("en", "ltr")


def test_the_supporter_named_by_a_link_comes_after_an_explicit_choice(client, make_supporter):
    boris = make_supporter("boris@example.org", language="ru")
    url = f"/preferences/{preferences_token(boris)}"
    # The supporter beats the browser...
    page = _text(client.get(url, headers={"Accept-Language": "fr"}))
    assert "Ваши настройки" in page and _html_lang(page)[0] == "ru"
    # ...and ?lang= beats the supporter.
    assert "Tus preferencias" in _text(client.get(url + "?lang=es"))


def test_a_refused_link_speaks_the_browser_language(client):
    response = client.get("/preferences/not-a-token", headers={"Accept-Language": "es"})
    assert response.status_code == 400
    page = _text(response)
    assert "Este enlace no funciona" in page
    assert "Este enlace no es válido. Comprueba que se copió entero." in page


def test_staff_pages_stay_english(app):
    from campaign.i18n import select_locale

    with app.test_request_context("/login", headers={"Accept-Language": "ru"}):
        assert select_locale() == "en_GB"
    with app.test_request_context("/supporters/?lang=fr"):
        assert select_locale() == "en_GB"
    with app.test_request_context("/join", headers={"Accept-Language": "ru"}):
        assert select_locale() == "ru"


PREFERENCES = {
    "fr": ("Vos préférences", "Enregistrer", "Se désabonner de tous les e-mails"),
    "es": ("Tus preferencias", "Guardar", "Darse de baja de todos los correos"),
    "ru": ("Ваши настройки", "Сохранить", "Отписаться от всех писем"),
}


SAVED = {
    "fr": "Vos préférences sont enregistrées.",
    "es": "Tus preferencias se han guardado.",
    "ru": "Настройки сохранены.",
}


@pytest.mark.parametrize("language", PREFERENCES)
def test_preferences_and_saving_them(client, make_supporter, db, language):
    supporter = make_supporter(language=language)
    url = f"/preferences/{preferences_token(supporter)}"
    page = _text(client.get(url))
    for phrase in PREFERENCES[language]:
        assert phrase in page
    saved = client.post(url, data={"language": language, "interests": ["africa"]})
    assert saved.status_code == 302
    page = _text(client.get(url))
    assert SAVED[language] in page


def test_saving_a_new_language_answers_in_it(client, make_supporter):
    supporter = make_supporter(language="fr")
    url = f"/preferences/{preferences_token(supporter)}"
    client.post(url, data={"language": "ru", "interests": []})
    assert "Настройки сохранены." in _text(client.get(url))


UNSUBSCRIBE = {
    "fr": ("Arrêter tous les e-mails Actions urgentes vers", "Modifier vos préférences",
           "Vous êtes désabonné·e"),
    "es": ("¿Dejar de enviar correos de Acciones Urgentes a", "Cambiar tus preferencias",
           "Te has dado de baja"),
    "ru": ("Прекратить все письма о срочных акциях на", "Изменить настройки", "Вы отписаны"),
}  # fmt: skip


@pytest.mark.parametrize("language", UNSUBSCRIBE)
def test_unsubscribe_asks_offers_preferences_and_confirms(client, make_supporter, language):
    supporter = make_supporter(language=language)
    url = f"/unsubscribe/{unsubscribe_token(supporter)}"
    question, preferences, done = UNSUBSCRIBE[language]
    page = _text(client.get(url))
    assert question in page and supporter.email in page
    link = re.search(r'href="(/preferences/[^"]+)"', page).group(1)
    assert preferences in page and client.get(link).status_code == 200
    assert done in _text(client.post(url))


CONFIRM = {
    "fr": ("Oui, je m'inscris", "Vous êtes inscrit·e"),
    "es": ("Sí, inscribirme", "Ya estás inscrito/a"),
    "ru": ("Да, подписаться", "Вы подписаны"),
}


@pytest.mark.parametrize("language", CONFIRM)
def test_confirmation_pages(client, make_supporter, db, language):
    supporter = make_supporter(language=language, state="pending", confirm_nonce="n1")
    url = f"/join/confirm/{confirm_token(supporter)}"
    ask, done = CONFIRM[language]
    page = _text(client.get(url))
    assert ask in page
    assert done in _text(client.post(url))


def test_pages_escape_what_they_show(client, make_supporter):
    supporter = make_supporter("o'brien+<b>@example.org", language="ru")
    page = _text(client.get(f"/unsubscribe/{unsubscribe_token(supporter)}"))
    assert "<b>@example.org" not in page and "&lt;b&gt;@example.org" in page


# --- the public case page and the "I sent my appeal" pages -------------------------

CASE_PAGE = {
    "fr": ("J'ai agi", "Comment avez-vous envoyé votre appel ?", "Appel téléphonique",
           "Personnes en danger"),
    "es": ("He actuado", "¿Cómo enviaste tu llamamiento?", "Llamada telefónica",
           "Personas en peligro"),
    "ru": ("Я принял(а) участие", "Как вы отправили обращение?", "Телефонный звонок",
           "Люди в опасности"),
}  # fmt: skip


@pytest.mark.parametrize("language", CASE_PAGE)
def test_the_public_case_page_in_each_language(client, case, letters_, language):
    page = _text(client.get(f"/ua/{case.id}?lang={language}"))
    for phrase in CASE_PAGE[language]:
        assert phrase in page
    assert _html_lang(page)[0] == language
    assert "I took action" not in page


def test_the_case_page_thanks_in_the_page_language(client, case, letters_):
    response = client.post(
        f"/ua/{case.id}/actions?lang=es", data={"email": "ana@example.org", "channel": "email"}
    )
    assert response.status_code == 302
    assert "¡Gracias! Hemos contado tu acción." in _text(client.get(response.headers["Location"]))


def test_the_act_pages_speak_the_supporters_language(
    client, case, letters_, make_supporter, before_deadline
):
    from campaign.letters.services import action_token

    boris = make_supporter("boris@example.org", first_name="Борис", language="ru", country="DE")
    token = action_token(case, boris)
    page = _text(client.get(f"/act/{token}", headers={"Accept-Language": "en"}))
    assert "Вы отправили обращение?" in page and "Да, я отправил(а) обращение" in page
    done = _text(client.post(f"/act/{token}", data={"channel": "email"}))
    assert f"Спасибо! Мы учли ваше обращение по {case.label}." in done
    refused = client.get("/act/broken", headers={"Accept-Language": "fr"})
    assert "Ce lien ne peut pas être utilisé" in _text(refused)


def test_a_closed_case_shows_each_persons_outcome(client, case, letters_, db):
    from campaign.outcomes.services import close_case

    chiygoz, umerov = sorted(case.people, key=lambda p: p.name)
    close_case(
        None,
        case,
        decision="no_further_action",
        outcomes=[
            {
                "person_id": chiygoz.id,
                "outcome": "released",
                "on": date(2017, 10, 25),
                "note": "Flown to Ankara",
            },
            {
                "person_id": umerov.id,
                "outcome": "conviction_upheld",
                "on": date(2017, 10, 20),
                "note": "",
            },
        ],
        text="Both men were released and flown to Turkey.",
        today=date(2017, 10, 27),
    )
    db.session.commit()
    page = _text(client.get(f"/ua/{case.id}?lang=ru"))
    assert "Что стало с каждым" in page
    assert "Akhtem Chiygoz</bdi></strong>: Освобождён(а)" in page
    assert "Ilmi Umerov</bdi></strong>: Приговор оставлен в силе" in page
    assert "25 октября 2017" in page and "Flown to Ankara" in page
    assert "Both men were released" in page
    english = _text(client.get(f"/ua/{case.id}?lang=en"))
    assert "Akhtem Chiygoz</bdi></strong>: Released" in english and "25 October 2017" in english

    # Someone who did not consent to be named is not named with their outcome.
    umerov.consent_to_name = False
    db.session.commit()
    page = _text(client.get(f"/ua/{case.id}?lang=fr"))
    assert "Akhtem Chiygoz</bdi></strong>: Libéré·e" in page and "Ilmi Umerov" not in page
