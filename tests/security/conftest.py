"""A world where every staff- and supporter-entered field holds a hostile payload.

Each field gets its own marker in front of the same payload, so a test can tell
which field a page shows and whether it was escaped.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

PAYLOAD = "<script>alert(1)</script><img src=x onerror=alert(1)>\"'"
# What Jinja's autoescape makes of the start of the payload.
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;"
RAW_SIGNS = ("<script>alert(1)", "<img src=x onerror", "onerror=alert(1)>")


def hostile(marker: str) -> str:
    return f"M{marker}{PAYLOAD}"


def escaped(marker: str) -> str:
    return f"M{marker}{ESCAPED}"


@pytest.fixture
def hostile_world(app, db):
    """Everything staff and supporters type, each field a payload; ids by name."""
    from campaign.cases import services as cases
    from campaign.letters import services as letters
    from campaign.mailings import services as mailings
    from campaign.outcomes import services as outcomes
    from campaign.supporters import services as supporters

    case = cases.create_case(
        None,
        {
            "title": hostile("case_title"),
            "summary": hostile("case_summary"),
            "background": hostile("case_background"),
            "recommended_actions": hostile("case_actions"),
            "languages": ["en"],
            "country_code": "UA",
            "deadline": date.today() + timedelta(days=30),
        },
    )
    person = cases.save_person(
        None, None, {"name": hostile("person_name"), "aliases": [hostile("person_alias")]}
    )
    cases.link_person(None, case, person)
    target = cases.save_target(
        None,
        case,
        None,
        {
            field: hostile(f"target_{field}")
            for field in ("name", "title", "organisation", "address", "salutation")
        },
    )
    cases.issue_case(None, case)
    update = cases.add_update(
        None, case, kind="further_action", body=hostile("update_body"), title=""
    )
    letter = letters.save_letter(
        None,
        case,
        None,
        {
            "language": "en",
            "subject": hostile("letter_subject"),
            "body": hostile("letter_body") + "\n\n{{ supporter_name }} {{ city }}",
            "is_default": True,
        },
    )
    supporter = supporters.create_supporter(
        None,
        {
            "email": "ann@example.org",
            "first_name": hostile("supporter_first"),
            "last_name": hostile("supporter_last"),
            "city": hostile("supporter_city"),
            "language": "en",
        },
    )
    lst = supporters.save_list(None, None, hostile("list_name")[:100], hostile("list_desc"))
    segment = supporters.save_segment(
        None, None, hostile("segment_name")[:120], {"languages": ["en"]}, hostile("segment_desc")
    )
    mailing = mailings.create_mailing(
        None, kind="free", subject=hostile("mailing_subject"), body=hostile("mailing_body"),
        everyone=True,
    )  # fmt: skip
    reply = outcomes.log_reply(
        None, case, received_on=date.today(), sender=hostile("reply_sender"),
        text=hostile("reply_text"),
    )  # fmt: skip
    db.session.commit()
    return {
        "case": case.id,
        "person": person.id,
        "target": target.id,
        "update": update.id,
        "letter": letter.id,
        "supporter": supporter.id,
        "list": lst.id,
        "segment": segment.id,
        "mailing": mailing.id,
        "reply": reply.id,
    }
