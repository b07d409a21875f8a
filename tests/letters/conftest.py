"""A UA with targets, people and letters in English and Russian, and supporters."""

from __future__ import annotations

from datetime import date

import pytest

EN_BODY = """{{ salutation }},

I am writing to you about {{ people }}, who are at risk ({{ case_label }}).

I urge you to release them immediately and unconditionally.

Yours sincerely,

{{ supporter_name }}
{{ city }}{% if country %}, {{ country }}{% endif %}
{{ date }}"""

RU_BODY = """{{ salutation }}!

Я пишу Вам по поводу {{ people }} ({{ case_label }}).

Призываю Вас немедленно и безоговорочно освободить их.

С уважением,

{{ supporter_name }}
{{ city }}{% if country %}, {{ country }}{% endif %}
{{ date }}"""


@pytest.fixture
def case(app, db):
    from campaign.cases import services as cases

    case = cases.create_case(
        None,
        {
            "title": "Crimean Tatar leaders sentenced",
            "summary": "Akhtem Chiygoz was sentenced to eight years.",
            "recommended_actions": "- Release them immediately\n- Quash the convictions",
            "deadline": date(2019, 9, 27),
            "languages": ["en", "ru"],
            "country_code": "UA",
        },
        number=205,
        year=2016,
    )
    # Akhtem Chiygoz's Cyrillic spelling is on file: Russian letters use it.
    for name, aliases in (("Akhtem Chiygoz", ["Chyigoz", "Ахтем Чийгоз"]), ("Ilmi Umerov", [])):
        person = cases.save_person(None, None, {"name": name, "aliases": aliases})
        cases.link_person(None, case, person)
    cases.save_target(
        None,
        case,
        None,
        {
            "title": "Prosecutor General",
            "name": "Yury Chaika",
            "organisation": "Prosecutor General's Office",
            "address": "ul. B. Dmitrovka, d.15a\n125993 Moscow GSP-3\nRussian Federation",
            "email": "prosecutor@example.ru",
            "salutation": "Dear Prosecutor General",
            "salutations": {"ru": "Уважаемый господин Генеральный прокурор"},
            "language": "ru",
        },
    )
    for country, city in (("GB", "London"), ("DE", "Berlin")):
        cases.save_target(
            None,
            case,
            None,
            {
                "title": "Ambassador",
                "organisation": "Embassy of the Russian Federation",
                "address": f"1 Embassy Road\n{city}",
                "email": f"embassy-{country.lower()}@example.org",
                "salutation": "Your Excellency",
                "is_copy": True,
                "copy_country": country,
            },
        )
    cases.issue_case(None, case, today=date(2016, 9, 1))
    db.session.commit()
    return case


@pytest.fixture
def letters(case, db):
    from campaign.letters import services

    english = services.save_letter(
        None,
        case,
        None,
        {
            "language": "en",
            "subject": "Release {{ people }} ({{ case_label }})",
            "body": EN_BODY,
            "is_default": True,
        },
    )
    russian = services.save_letter(
        None,
        case,
        None,
        {"language": "ru", "subject": "Освободите {{ people }}", "body": RU_BODY},
    )
    db.session.commit()
    return {"en": english, "ru": russian}


@pytest.fixture
def make_supporter(app, db):
    from campaign.supporters.models import Supporter

    def make(email="jane@example.org", **fields):
        values = {
            "first_name": "Jane",
            "last_name": "Smith",
            "city": "Manchester",
            "country": "GB",
            "language": "en",
            "state": "subscribed",
            **fields,
        }
        supporter = Supporter(email=email, **values)
        db.session.add(supporter)
        db.session.commit()
        return supporter

    return make
