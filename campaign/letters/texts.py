"""Every supporter-facing string of the appeal block, print pack and public page.

Kept in one table per language so that a translator (or Flask-Babel, later)
finds them in one place; a language without a string falls back to English.
Dates are spelt by Babel in the letter's language.
"""

from __future__ import annotations

from datetime import date

from babel import Locale, UnknownLocaleError
from babel.dates import format_date

EN = {
    "what_happened": "What happened",
    "what_to_ask": "What to ask for",
    "your_letter": "Your letter",
    "write_to": "Write to",
    "copy_to": "Send a copy to",
    "subject": "Subject",
    "salutation": "Salutation",
    "write_email": "Write an email",
    "email_shortened": (
        "The letter was shortened to fit the email link: copy the full text from above."
    ),
    "print_letters": "Print your letters (PDF)",
    "sent_appeal": "I sent my appeal",
    "deadline_before": "Please send appeals before {date}.",
    "deadline_passed": (
        "The deadline was {date}: please check with the office before sending appeals."
    ),
    "salutation_fallback": "Dear Sir or Madam",
    "signature": "Signature",
    "name": "Name",
    "city": "Town or city",
    "closed": "No further action is requested. Many thanks to all who sent appeals.",
    "outcome": "Outcome",
    "people": "People at risk",
    "took_action": "I took action",
    "took_action_intro": "Tell us what you did: every appeal counts.",
    "email_label": "Your email address",
    "channel_label": "How did you send your appeal?",
    "country_label": "Your country (optional)",
    "sign_up_label": "Send me Urgent Actions by email (we will ask you to confirm)",
    "first_name_label": "First name (optional)",
    "last_name_label": "Last name (optional)",
    "send": "Send",
    "thanks": "Thank you! Your action has been counted.",
    "thanks_sign_up": "If you asked for Urgent Actions, check your inbox to confirm.",
    "confirm_title": "Did you send your appeal?",
    "confirm_intro": "Tap the button to tell us you sent your appeal for {label}.",
    "confirm_button": "Yes, I sent my appeal",
    "recorded": "Thank you! We have counted your appeal for {label}.",
    "languages": "Also in",
    "channel.letter": "Letter",
    "channel.email": "Email",
    "channel.fax": "Fax",
    "channel.social": "Social media",
    "channel.phone": "Phone call",
}

RU = {
    "what_happened": "Что случилось",
    "what_to_ask": "О чём просить",
    "your_letter": "Ваше письмо",
    "write_to": "Кому писать",
    "copy_to": "Копию направьте",
    "subject": "Тема",
    "salutation": "Обращение",
    "write_email": "Написать письмо по электронной почте",
    "email_shortened": (
        "Письмо сокращено, чтобы поместиться в ссылку: скопируйте полный текст выше."
    ),
    "print_letters": "Распечатать письма (PDF)",
    "sent_appeal": "Я отправил(а) обращение",
    "deadline_before": "Пожалуйста, отправьте обращения до {date}.",
    "deadline_passed": "Срок истёк {date}: прежде чем отправлять обращения, уточните в офисе.",
    "salutation_fallback": "Уважаемые дамы и господа",
    "signature": "Подпись",
    "name": "Имя",
    "city": "Город",
    "closed": ("Дальнейших действий не требуется. Большое спасибо всем, кто отправил обращения."),
    "outcome": "Итог",
    "people": "Люди в опасности",
    "took_action": "Я принял(а) участие",
    "took_action_intro": "Расскажите, что вы сделали: каждое обращение важно.",
    "email_label": "Ваш адрес электронной почты",
    "channel_label": "Как вы отправили обращение?",
    "country_label": "Ваша страна (необязательно)",
    "sign_up_label": "Присылайте мне срочные акции по почте (мы попросим подтвердить)",
    "first_name_label": "Имя (необязательно)",
    "last_name_label": "Фамилия (необязательно)",
    "send": "Отправить",
    "thanks": "Спасибо! Ваше действие учтено.",
    "thanks_sign_up": "Если вы подписались на срочные акции, подтвердите адрес в письме.",
    "confirm_title": "Вы отправили обращение?",
    "confirm_intro": "Нажмите кнопку, чтобы сообщить, что вы отправили обращение по {label}.",
    "confirm_button": "Да, я отправил(а) обращение",
    "recorded": "Спасибо! Мы учли ваше обращение по {label}.",
    "languages": "На других языках",
    "channel.letter": "Письмо",
    "channel.email": "Электронная почта",
    "channel.fax": "Факс",
    "channel.social": "Социальные сети",
    "channel.phone": "Телефонный звонок",
}

FR = {
    "what_happened": "Ce qui s’est passé",
    "what_to_ask": "Ce qu’il faut demander",
    "your_letter": "Votre lettre",
    "write_to": "Écrire à",
    "copy_to": "Copie à",
    "subject": "Objet",
    "write_email": "Écrire un e-mail",
    "print_letters": "Imprimer vos lettres (PDF)",
    "sent_appeal": "J’ai envoyé mon appel",
    "deadline_before": "Veuillez envoyer vos appels avant le {date}.",
    "deadline_passed": (
        "La date limite était le {date} : vérifiez auprès du bureau avant d’envoyer vos appels."
    ),
    "salutation_fallback": "Madame, Monsieur",
    "signature": "Signature",
    "name": "Nom",
    "city": "Ville",
    "salutation": "Formule d’appel",
    "email_shortened": (
        "La lettre a été raccourcie pour tenir dans le lien : copiez le texte complet ci-dessus."
    ),
    "closed": (
        "Aucune action complémentaire n’est requise. "
        "Merci à toutes celles et ceux qui ont envoyé des appels."
    ),
    "outcome": "Issue",
    "channel.email": "E-mail",
    "channel.fax": "Fax",
    "channel.social": "Réseaux sociaux",
}

ES = {
    "what_happened": "Qué ha pasado",
    "what_to_ask": "Qué pedir",
    "your_letter": "Tu carta",
    "write_to": "Escribe a",
    "copy_to": "Envía copia a",
    "subject": "Asunto",
    "write_email": "Escribir un correo",
    "print_letters": "Imprimir tus cartas (PDF)",
    "sent_appeal": "He enviado mi llamamiento",
    "deadline_before": "Envía tus llamamientos antes del {date}.",
    "deadline_passed": (
        "El plazo terminó el {date}: consulta con la oficina antes de enviar llamamientos."
    ),
    "salutation_fallback": "Señora, señor",
    "signature": "Firma",
    "name": "Nombre",
    "city": "Ciudad",
    "salutation": "Saludo",
    "email_shortened": (
        "La carta se ha acortado para caber en el enlace: copia el texto completo de arriba."
    ),
    "closed": (
        "No se solicitan más acciones. "
        "Muchas gracias a todas las personas que enviaron llamamientos."
    ),
    "outcome": "Resultado",
    "channel.email": "Correo electrónico",
    "channel.fax": "Fax",
    "channel.social": "Redes sociales",
}

STRINGS = {"en": EN, "ru": RU, "fr": FR, "es": ES}
# Languages written right to left: the print pack and pages set dir="rtl".
RTL = {"ar", "fa", "he", "ur", "yi"}
# Babel locale per language where the bare code is not what the office uses
# (the organisation writes dates the British way: 27 September 2019).
LOCALES = {"en": "en_GB"}


def strings(language: str | None) -> dict:
    """All strings for ``language``, English where it has none."""
    return {**EN, **STRINGS.get((language or "en").lower(), {})}


def text(key: str, language: str | None, **values) -> str:
    result = strings(language)[key].format(**values)
    # A date that ends in an abbreviation ("2019 г.") ends the sentence too.
    return result[:-1] if result.endswith("..") else result


def locale(language: str | None) -> Locale:
    code = LOCALES.get(language or "en", language or "en")
    try:
        return Locale.parse(code)
    except (UnknownLocaleError, ValueError):
        return Locale.parse("en_GB")


def long_date(day: date, language: str | None) -> str:
    """27 September 2019 · 27 сентября 2019 г. · ٢٧ سبتمبر ٢٠١٩"""
    return format_date(day, format="long", locale=locale(language))


def direction(language: str | None) -> str:
    return "rtl" if (language or "").lower() in RTL else "ltr"
