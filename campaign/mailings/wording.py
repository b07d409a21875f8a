"""The few words of an email around the staff-written text, per supporter language."""

from __future__ import annotations

# The few words of the email around staff-written text, per supporter language.
WORDS = {
    "en": {
        "dear": "Dear {name},",
        "friend": "Dear friend,",
        "act": "I sent my appeal",
        "targets": "Please write to",
        "actions": "What to do",
        "deadline": "Please act before {date}.",
        "why": "You receive this because you joined the Urgent Action network.",
        "unsubscribe": "Unsubscribe",
    },
    "fr": {
        "dear": "Bonjour {name},",
        "friend": "Bonjour,",
        "act": "J'ai envoyé mon appel",
        "targets": "Écrivez à",
        "actions": "Ce que vous pouvez faire",
        "deadline": "Merci d'agir avant le {date}.",
        "why": "Vous recevez ce message parce que vous avez rejoint le réseau Actions urgentes.",
        "unsubscribe": "Se désabonner",
    },
    "es": {
        "dear": "Hola, {name}:",
        "friend": "Hola:",
        "act": "He enviado mi llamamiento",
        "targets": "Escriba a",
        "actions": "Qué hacer",
        "deadline": "Actúe antes del {date}.",
        "why": "Recibe este mensaje porque se unió a la red de Acciones Urgentes.",
        "unsubscribe": "Darse de baja",
    },
    "de": {
        "dear": "Liebe/r {name},",
        "friend": "Liebe Unterstützerin, lieber Unterstützer,",
        "act": "Ich habe meinen Appell geschickt",
        "targets": "Bitte schreiben Sie an",
        "actions": "Was Sie tun können",
        "deadline": "Bitte handeln Sie vor dem {date}.",
        "why": "Sie erhalten diese E-Mail, weil Sie dem Urgent-Action-Netzwerk beigetreten sind.",
        "unsubscribe": "Abmelden",
    },
}


def words(language: str) -> dict:
    return WORDS.get((language or "en")[:2], WORDS["en"])
