"""Emails speak the supporter's language: the confirmation email, and the words
around staff text in appeal, update, outcome and reminder mailings (greeting,
dates, footer). A language without a catalogue gets English."""

from __future__ import annotations

import re

import pytest

from campaign.mailings import services
from campaign.mailings.wording import words

# Pages, headers and messages: nothing here depends on the SQL dialect.
pytestmark = pytest.mark.any_db

CONFIRMATION = {
    "fr": ("Confirmez votre inscription aux Actions urgentes", "Oui, je m'inscris",
           "Le lien est valable 7 jours."),
    "es": ("Confirma tu inscripción en Acciones Urgentes", "Sí, inscribirme",
           "El enlace es válido durante 7 días."),
    "ru": ("Подтвердите подписку на срочные акции", "Да, подписаться", "Ссылка действует 7 дн."),
    "de": ("Bestätigen Sie Ihre Anmeldung für Urgent Actions", "Ja, ich melde mich an",
           "Der Link ist 7 Tage lang gültig."),
    "en": ("Confirm your Urgent Action sign-up", "Yes, sign me up", "The link works for 7 days."),
}  # fmt: skip


@pytest.mark.parametrize("language", CONFIRMATION)
def test_the_confirmation_email_in_the_supporters_language(
    app, db, inbox, make_supporter, language
):
    from campaign.supporters.tasks import send_confirmation

    supporter_id = make_supporter(language=language, state="pending", confirm_nonce="n1").id
    db.session.commit()  # the task has a session of its own
    assert send_confirmation(supporter_id)
    [message] = inbox.messages()
    subject, button, validity = CONFIRMATION[language]
    assert message["Subject"] == subject
    text = message.get_body(("plain",)).get_content()
    page = message.get_body(("html",)).get_content()
    assert button in text and validity in text
    assert f'<html lang="{language}" dir="ltr">' in page


def test_a_german_confirmation_is_german_text_marked_german(app, db, inbox, make_supporter):
    """The lang attribute names the language the text is really in."""
    from campaign.supporters.tasks import send_confirmation

    supporter_id = make_supporter(language="de", state="pending", confirm_nonce="n").id
    db.session.commit()
    send_confirmation(supporter_id)
    [message] = inbox.messages()
    page = message.get_body(("html",)).get_content()
    text = message.get_body(("plain",)).get_content()
    assert '<html lang="de" dir="ltr">' in page
    for part in (page, text):
        assert "Bitte bestätigen Sie" in part and "Please confirm" not in part
        assert "If you did not sign up" not in part


def test_an_arabic_confirmation_is_right_to_left(app, db, inbox, make_supporter):
    from campaign.supporters.tasks import send_confirmation

    supporter_id = make_supporter(language="ar", state="pending", confirm_nonce="n").id
    db.session.commit()
    send_confirmation(supporter_id)
    [message] = inbox.messages()
    assert message["Subject"] == "أكّد اشتراكك في التحركات العاجلة"
    assert '<html lang="ar" dir="rtl">' in message.get_body(("html",)).get_content()


# --- mailings ----------------------------------------------------------------------

FRAME = {
    "fr": ("Bonjour Boris,", "parce que vous avez rejoint le réseau Actions urgentes",
           "Se désabonner ou modifier vos préférences"),
    "es": ("Hola, Boris:", "porque te uniste a la red de Acciones Urgentes",
           "Darte de baja o cambiar tus preferencias"),
    "ru": ("Здравствуйте, Boris!", "потому что присоединились к сети срочных акций",
           "Отписаться или изменить настройки"),
}  # fmt: skip
DEADLINE = {
    "fr": "Veuillez envoyer vos appels avant le 27 septembre 2019.",
    "es": "Envía tus llamamientos antes del 27 de septiembre de 2019.",
    "ru": "Пожалуйста, отправьте обращения до 27 сентября 2019\u202fг.",
}


def _mailing(user, case, kind, **extra):
    mailing = services.create_mailing(
        user, kind=kind, subject="Subject", body="Staff text.", case_id=case.id, everyone=True,
        **extra,
    )  # fmt: skip
    return mailing


def _preview(mailing, language, make_supporter):
    boris = make_supporter(f"boris-{language}-{mailing.id}@example.org", first_name="Boris",
                           language=language, country="DE")  # fmt: skip
    return services.preview(mailing, language, boris)


@pytest.fixture
def coordinator(make_user):
    return make_user("coordinator", "coord@example.org")


@pytest.mark.parametrize("language", FRAME)
@pytest.mark.parametrize("kind", ["appeal", "reminder", "outcome"])
def test_every_email_kind_has_its_frame_in_the_language(
    db, case, letters_, make_supporter, coordinator, kind, language
):
    shown = _preview(_mailing(coordinator, case, kind), language, make_supporter)
    for part in ("text", "html"):
        for phrase in FRAME[language]:
            assert phrase in shown[part], (part, phrase)
        assert "Dear Boris" not in shown[part] and "You receive this" not in shown[part]
    assert f'lang="{language}"' in shown["html"]


@pytest.mark.parametrize("language", FRAME)
def test_deadline_and_update_label_are_spelt_in_the_language(
    db, case, letters_, make_supporter, coordinator, language, before_deadline
):
    from campaign.cases import services as cases

    update = cases.add_update(None, case, kind="further_action", title="News", body="Moved.")
    db.session.commit()
    # An appeal before the deadline carries the appeal block and its deadline...
    shown = _preview(_mailing(coordinator, case, "appeal"), language, make_supporter)
    assert DEADLINE[language] in shown["text"]
    assert DEADLINE[language].split(" 27 ")[1] in shown["html"]
    # ...an outcome notice never does (docs/MESSAGES.md).
    shown = _preview(_mailing(coordinator, case, "outcome"), language, make_supporter)
    assert "2019" not in shown["text"]
    shown = _preview(
        _mailing(coordinator, case, "update", update_id=update.id), language, make_supporter
    )
    label = {"fr": "Mise à jour nº 1 de l’UA 205/16", "es": "Actualización n.º 1 de la UA 205/16",
             "ru": "Обновление № 1 к UA 205/16"}[language]  # fmt: skip
    assert label in shown["html"] and label.upper() in shown["text"]


def test_english_keeps_its_own_words(
    db, case, letters_, make_supporter, coordinator, before_deadline
):
    from campaign.cases import services as cases

    update = cases.add_update(None, case, kind="further_action", title="News", body="Moved.")
    db.session.commit()
    shown = _preview(_mailing(coordinator, case, "appeal"), "en", make_supporter)
    assert (
        "Dear Boris," in shown["text"]
        and "Please send appeals before 27 September 2019." in shown["text"]
    )
    shown = _preview(
        _mailing(coordinator, case, "update", update_id=update.id), "en", make_supporter
    )
    assert "first update of UA 205/16" in shown["html"]


@pytest.mark.parametrize("language", ["xx", "it", "", None])
def test_a_language_without_a_catalogue_falls_back_to_english(app, language):
    with app.app_context():
        w = words(language)
    assert w.language == "en"
    assert w["dear"].format(name="Ana") == "Dear Ana,"
    assert w["why"] == "You receive this because you joined the Urgent Action network."


def test_words_keep_format_fields_and_spell_dates(app):
    from datetime import date

    with app.app_context():
        ru, de, ar = words("ru-RU"), words("de"), words("ar")
    assert ru["dear"].format(name="Борис") == "Здравствуйте, Борис!"
    assert ru["friend"] == "Здравствуйте!"
    assert ru.deadline_on(date(2019, 9, 27)) == "Пожалуйста, действуйте до 27 сентября 2019\u202fг."
    assert de["dear"].format(name="Jan") == "Liebe/r Jan,"
    assert ar.direction == "rtl" and ru.direction == "ltr"


@pytest.mark.parametrize(
    ("language", "brand", "footer"),
    [
        ("fr", "Action urgente", "parce que vous avez rejoint le réseau Actions urgentes"),
        ("de", "Urgent Action", "weil Sie dem Urgent-Action-Netzwerk beigetreten sind"),
    ],
)
def test_the_email_header_names_the_network_in_the_language(
    db, case, letters_, make_supporter, coordinator, language, brand, footer
):
    shown = _preview(_mailing(coordinator, case, "appeal"), language, make_supporter)
    # (the CSS is inlined: the cell has a style attribute too)
    assert re.search(rf'<td class="brand"[^>]*>{brand}</td>', shown["html"])
    assert f'<html lang="{language}"' in shown["html"] and footer in shown["html"]
    assert "You receive this" not in shown["html"]
