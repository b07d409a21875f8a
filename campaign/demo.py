"""Demo data: UA 205/16 from the seed documents, the Emir-Usein Kuku case, supporters.

The texts follow ../shared/seeds/; dates before the seeds' own are marked as
approximations for demonstration in the case background.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import func, select

from campaign.cases import services as cases
from campaign.cases.models import Case, Person, UpdateKind
from campaign.core.errors import Conflict
from campaign.domains import DOMAINS, domain_module
from campaign.extensions import db
from campaign.outcomes import services as outcomes
from campaign.outcomes.models import Decision

PROSECUTOR = {
    "title": "Prosecutor General of the Russian Federation",
    "name": "Yury Chaika",
    "organisation": "Prosecutor General's Office",
    "address": "ul. B. Dmitrovka, d.15a\n125993 Moscow GSP-3\nRussian Federation",
    "fax": "+7 495 987 58 41",
    "salutation": "Dear Prosecutor General",
    "language": "ru",
}
EMBASSY_GB = {
    "title": "Ambassador",
    "organisation": "Embassy of the Russian Federation",
    "address": "6/7 Kensington Palace Gardens\nLondon W8 4QP\nUnited Kingdom",
    "salutation": "Your Excellency",
    "language": "en",
    "is_copy": True,
    "copy_country": "GB",
}

UPDATE_3 = (
    "Crimean Tatar leaders Ilmi Umerov and Akhtem Chiygoz, both sentenced to prison by the de"
    " facto authorities in Russian-occupied Crimea, were taken to an airport and flown to "
    "Turkey on 25 October. On 27 October they arrived in the Ukrainian capital, Kyiv.\n\n"
    "Amnesty International warmly welcomes the news of Ilmi Umerov and Akhtem Chyigoz’s "
    "release and recognises it as a positive step but is concerned about the conditions of "
    "their release, which remain unclear.\n\n"
    "No further action is requested from the UA network. Many thanks to all who sent appeals.\n\n"
    "This is the third update of UA 205/16. Further information: EUR 50/7271/2017"
)

KUKU_SUMMARY = (
    "On 25 June, the Russian Military Court of Appeals upheld the conviction and left in "
    "place the jail sentences of human rights defender Emir-Usein Kuku and his co-defendants."
    " The six men were arrested in 2016 and convicted in November 2019 under trumped-up "
    "terrorism-related charges. Muslim Aliyev was sentenced to 19 years in prison, Enver "
    "Bekirov to 18 years, Vadim Siruk and Emir-Usein Kuku to 12 years each, Refat Alimov to "
    "eight years and Arsen Dzhepparov to seven years."
)


def is_empty() -> bool:
    return not (
        db.session.scalar(select(func.count(Case.id)))
        or db.session.scalar(select(func.count(Person.id)))
    )


def _at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 10, 0, tzinfo=UTC)


def load(supporters: int = 300) -> str:
    if not is_empty():
        raise Conflict("The database already holds cases; demo data goes only into an empty one.")
    ua205 = _ua_205_16()
    kuku = _kuku_case()
    _draft()
    loaded = [
        f"{ua205.label} with {len(ua205.updates)} updates",
        f"{kuku.label} ({len(kuku.people)} people)",
    ]
    for domain in DOMAINS:
        module = domain_module(domain, "demo")
        if module is not None:
            loaded.append(module.load_demo(supporters=supporters))
    return "Demo data loaded: " + "; ".join(loaded) + "."


def _person(name: str, aliases=(), gender="male", pronoun="he/him"):
    return cases.save_person(
        None, None, {"name": name, "aliases": list(aliases), "gender": gender, "pronoun": pronoun}
    )


def _ua_205_16() -> Case:
    umerov = _person("Ilmi Umerov", ["Ильми Умеров"])
    chiygoz = _person("Akhtem Chiygoz", ["Akhtem Chyigoz", "Ахтем Чийгоз"])
    case = cases.create_case(
        None,
        {
            "title": "Crimean Tatar leader forcibly confined to psychiatric hospital",
            "country_code": "UA",
            "summary": (
                "Ilmi Umerov, deputy head of the Mejlis, the Crimean Tatar community's "
                "representative body, has been forcibly placed in a psychiatric institution "
                "“for examination” by the de facto authorities in Russian-occupied Crimea, as "
                "part of criminal proceedings against him for criticising the occupation."
            ),
            "recommended_actions": (
                "Release Ilmi Umerov immediately and unconditionally: he is a prisoner of "
                "conscience.\nDrop all charges against him, brought solely for the peaceful "
                "exercise of his right to freedom of expression.\nEnd the persecution of the "
                "Crimean Tatar community and the Mejlis."
            ),
            "background": (
                "The Crimean Tatar community and the Mejlis have been targets of political "
                "persecution by the Russian authorities since the beginning of the occupation "
                "of Crimea in February 2014. (Demo data: dates before October 2017 are "
                "approximate.)"
            ),
            "deadline": date(2016, 10, 6),
            "languages": ["ru", "en"],
            "themes": ["Prisoners of conscience", "Freedom of expression", "Crimea"],
        },
        number=205,
        year=2016,
    )
    cases.link_person(None, case, umerov)
    cases.save_target(None, case, None, PROSECUTOR)
    cases.save_target(None, case, None, EMBASSY_GB)
    cases.issue_case(None, case)
    case.issued_at = _at(date(2016, 8, 25))
    cases.add_person_status(
        None,
        umerov,
        on=date(2016, 8, 18),
        status="detained",
        note="placed in a psychiatric institution for examination",
        case=case,
    )
    cases.add_person_status(
        None, chiygoz, on=date(2015, 1, 29), status="detained", note="held in a detention centre"
    )
    first = cases.add_update(
        None,
        case,
        kind=UpdateKind.FURTHER_ACTION,
        title="Ilmi Umerov out of psychiatric hospital",
        body=(
            "Ilmi Umerov was discharged from the psychiatric institution in September 2016, "
            "but the criminal case against him continues. Please keep appealing."
        ),
        new_deadline=date(2016, 11, 15),
    )
    first.issued_at = _at(date(2016, 9, 21))
    cases.link_person(None, case, chiygoz)
    cases.add_person_status(
        None,
        chiygoz,
        on=date(2017, 9, 11),
        status="sentenced",
        note="sentenced to eight years in jail",
        case=case,
    )
    cases.add_person_status(
        None,
        umerov,
        on=date(2017, 9, 27),
        status="sentenced",
        note="sentenced to two years in jail",
        case=case,
    )
    second = cases.add_update(
        None,
        case,
        kind=UpdateKind.FURTHER_ACTION,
        title="Crimean Tatar leaders sentenced",
        body=(
            "Akhtem Chiygoz was sentenced to eight years in jail on 11 September after more "
            "than two years in detention; Ilmi Umerov was sentenced to two years on "
            "27 September following a sham trial. Both are prisoners of conscience."
        ),
        new_deadline=date(2017, 11, 8),
    )
    second.issued_at = _at(date(2017, 9, 29))
    third = cases.add_update(
        None,
        case,
        kind=UpdateKind.NO_FURTHER_ACTION,
        title="Crimean Tatar leaders released",
        body=UPDATE_3,
    )
    third.issued_at = _at(date(2017, 10, 30))
    closing = outcomes.close_case(
        None,
        case,
        decision=Decision.NO_FURTHER_ACTION,
        outcomes=[
            {"person_id": p.id, "outcome": "released", "on": date(2017, 10, 25),
             "note": "flown to Turkey and set free; arrived in Kyiv on 27 October"}
            for p in (umerov, chiygoz)
        ],
        text="No further action is requested from the UA network. Many thanks to all who "
        "sent appeals.",
    )  # fmt: skip
    closing.decided_at = _at(date(2017, 10, 30))
    return case


def _kuku_case() -> Case:
    names = [
        ("Emir-Usein Kuku", ["Emir Usein Kuku", "Эмир-Усеин Куку"], "12 years"),
        ("Muslim Aliyev", ["Muslim Aliev"], "19 years"),
        ("Enver Bekirov", [], "18 years"),
        ("Vadim Siruk", ["Vadym Siruk"], "12 years"),
        ("Refat Alimov", [], "eight years"),
        ("Arsen Dzhepparov", ["Arsen Djepparov"], "seven years"),
    ]
    case = cases.create_case(
        None,
        {
            "title": "Conviction of prisoners of conscience upheld",
            "country_code": "UA",
            "summary": KUKU_SUMMARY,
            "recommended_actions": (
                "Quash the convictions of Emir-Usein Kuku and his five co-defendants and release "
                "them immediately and unconditionally.\nPending their release, ensure they are "
                "held in humane conditions, with access to their families, lawyers and any "
                "medical care they need."
            ),
            "background": (
                "The prosecution of the six men has been politically motivated and emblematic of "
                "the persecution of members of the Crimean Tatar community and all dissenting "
                "voices in Crimea. (Demo data: the UA number is illustrative.)"
            ),
            "deadline": date(2030, 12, 31),
            "languages": ["ru", "en", "uk"],
            "themes": ["Human rights defenders", "Unfair trials", "Crimea"],
        },
        number=145,
        year=2019,
    )
    cases.save_target(None, case, None, PROSECUTOR | {"name": "Igor Krasnov"})
    cases.save_target(None, case, None, EMBASSY_GB)
    cases.issue_case(None, case)
    case.issued_at = _at(date(2019, 11, 20))
    for name, aliases, sentence in names:
        person = _person(name, aliases)
        cases.link_person(None, case, person)
        cases.add_person_status(
            None, person, on=date(2016, 2, 11), status="detained", note="arrested"
        )
        cases.add_person_status(
            None,
            person,
            on=date(2019, 11, 12),
            status="sentenced",
            note=f"sentenced to {sentence} in prison",
            case=case,
        )
    closing = outcomes.close_case(
        None,
        case,
        decision=Decision.CONTINUE,
        outcomes=[
            {"person_id": p.id, "outcome": "conviction_upheld", "on": date(2020, 6, 25),
             "note": "by the Russian Military Court of Appeals"}
            for p in case.people
        ],
        text="Despite this setback, please keep writing: the six men are prisoners of "
        "conscience and must be released.",
    )  # fmt: skip
    closing.decided_at = _at(date(2020, 6, 30))
    return case


def _draft() -> Case:
    return cases.create_case(
        None,
        {
            "title": "Journalist detained after reporting on protests",
            "summary": "A draft UA: add the person, targets and letters, then issue it.",
        },
    )
