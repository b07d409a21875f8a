"""Demo supporters: a few hundred people in six languages, with lists and a
consent log. Deterministic (seeded), no network."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from campaign.extensions import db
from campaign.supporters import services
from campaign.supporters.models import ConsentEvent, Supporter, SupporterState
from campaign.supporters.vocabulary import INTERESTS, timezone_for

PEOPLE = {
    "en": (["Alice", "Tom", "Grace", "Oliver", "Amelia", "Priya"], ["Smith", "Jones", "Okafor"]),
    "fr": (["Élodie", "François", "Chloé", "Théo", "Aminata"], ["Lefèvre", "Dubois", "Diallo"]),
    "es": (["José", "Lucía", "Íñigo", "María", "Camila"], ["García", "Muñoz", "Peña"]),
    "ru": (["Анна", "Дмитрий", "Ольга", "Сергей"], ["Иванова", "Петров", "Смирнова"]),
    "uk": (["Олена", "Тарас", "Ірина", "Богдан"], ["Шевченко", "Коваль", "Бойко"]),
    "ar": (["فاطمة", "أحمد", "ليلى", "يوسف"], ["الحسن", "منصور", "حداد"]),
}
PLACES = {
    "en": [("GB", "London"), ("GB", "Leeds"), ("IE", "Dublin"), ("US", "Chicago")],
    "fr": [("FR", "Lyon"), ("BE", "Liège"), ("CA", "Montréal"), ("SN", "Dakar")],
    "es": [("ES", "Sevilla"), ("MX", "Ciudad de México"), ("AR", "Córdoba")],
    "ru": [("RU", "Москва"), ("KZ", "Алматы"), ("LV", "Rīga")],
    "uk": [("UA", "Київ"), ("UA", "Львів"), ("PL", "Kraków")],
    "ar": [("EG", "القاهرة"), ("LB", "بيروت"), ("MA", "الدار البيضاء")],
}
# Mostly subscribed, as a living network is; a few of every other state.
STATE_WEIGHTS = {
    SupporterState.SUBSCRIBED: 80,
    SupporterState.PENDING: 6,
    SupporterState.UNSUBSCRIBED: 9,
    SupporterState.BOUNCED: 3,
    SupporterState.COMPLAINED: 2,
}
START = datetime(2024, 1, 8, 9, 0, tzinfo=UTC)


def _person(rng: random.Random, n: int) -> tuple[Supporter, str]:
    language = rng.choices(list(PEOPLE), weights=[40, 15, 15, 10, 10, 10])[0]
    firsts, lasts = PEOPLE[language]
    country, city = rng.choice(PLACES[language])
    joined = START + timedelta(days=rng.randrange(600), minutes=rng.randrange(600))
    supporter = Supporter(
        email=f"supporter{n:04d}@example.org",
        first_name=rng.choice(firsts),
        last_name=rng.choice(lasts),
        language=language,
        country=country,
        city=city,
        timezone=timezone_for(country),
        interests=sorted(rng.sample(list(INTERESTS), rng.randrange(4))),
        state=SupporterState.PENDING,
        created_at=joined,
        state_changed_at=joined,
    )
    return supporter, rng.choices(list(STATE_WEIGHTS), weights=list(STATE_WEIGHTS.values()))[0]


def _history(supporter: Supporter, final: SupporterState, rng: random.Random) -> None:
    at = supporter.created_at
    steps = [(None, SupporterState.PENDING, "sign-up form")]
    if final != SupporterState.PENDING:
        steps.append((SupporterState.PENDING, SupporterState.SUBSCRIBED, "confirmation link"))
    if final not in (SupporterState.PENDING, SupporterState.SUBSCRIBED):
        steps.append((SupporterState.SUBSCRIBED, final, final))
    for old, new, what in steps:
        event = ConsentEvent(
            supporter=supporter, at=at, old_state=old, new_state=new, source="demo", detail=what
        )
        db.session.add(event)
        supporter.state, supporter.state_changed_at = new, at
        at += timedelta(hours=rng.randrange(1, 2000))
    if final == SupporterState.PENDING:
        supporter.state_changed_at = datetime.now(UTC)  # not purged as stale at once


def load_demo(supporters: int = 300) -> str:
    rng = random.Random(205)
    people = []
    for n in range(1, supporters + 1):
        supporter, final = _person(rng, n)
        db.session.add(supporter)
        _history(supporter, final, rng)
        people.append(supporter)
    db.session.flush()
    lists = {
        "Crimea responders": [s.id for s in people if s.language in ("ru", "uk")],
        "Death penalty network": [s.id for s in people if "death-penalty" in s.interests],
        "London group": [s.id for s in people if s.city == "London"],
    }
    for name, ids in lists.items():
        services.add_to_list(None, services.save_list(None, None, name), ids)
    services.save_segment(
        None, None, "French speakers", {"languages": ["fr"]}, "Everyone who reads French"
    )
    services.save_segment(
        None,
        None,
        "Europe, Russian or Ukrainian",
        {"languages": ["ru", "uk"], "interests": ["europe"]},
    )
    return f"{supporters} supporters in 6 languages, {len(lists)} lists, 2 segments"
