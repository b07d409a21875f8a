"""IDOR: a nested id that belongs to another case is refused (404), never shown or changed."""

from __future__ import annotations

from datetime import date

import pytest

# Pages, headers and messages: nothing here depends on the SQL dialect.
pytestmark = pytest.mark.any_db


@pytest.fixture
def two_cases(app, db):
    """Case A and case B, each with a target, a letter, a person and a reply with a file."""
    from campaign.cases import services as cases
    from campaign.letters import services as letters
    from campaign.outcomes import services as outcomes

    made = {}
    for key in ("a", "b"):
        data = {"title": f"Case {key}", "summary": "S", "recommended_actions": "R"}
        case = cases.create_case(None, {**data, "languages": ["en"]})
        person = cases.save_person(None, None, {"name": f"Person {key}"})
        cases.link_person(None, case, person)
        target = cases.save_target(None, case, None, {"name": f"Target {key}"})
        cases.issue_case(None, case)
        letter = letters.save_letter(
            None, case, None, {"language": "en", "subject": f"Subject {key}", "body": "Body"}
        )
        reply = outcomes.log_reply(
            None, case, received_on=date.today(), sender=f"Authority {key}", text="T",
            filename="reply.txt", content_type="text/plain", data=f"secret {key}".encode(),
        )  # fmt: skip
        made[key] = {"case": case.id, "person": person.id, "target": target.id,
                     "letter": letter.id, "reply": reply.id}  # fmt: skip
    db.session.commit()
    return made


def snapshot(db) -> dict:
    from campaign.cases.models import Case, CasePerson, Target
    from campaign.letters.models import LetterTemplate

    db.session.expire_all()
    return {
        "targets": sorted((t.id, t.case_id, t.name) for t in db.session.query(Target)),
        "letters": sorted((x.id, x.case_id, x.subject) for x in db.session.query(LetterTemplate)),
        "links": sorted((x.case_id, x.person_id) for x in db.session.query(CasePerson)),
        "cases": sorted((c.id, c.title) for c in db.session.query(Case)),
    }


# (method, path) with {a} = case A's id and {b*} = B's children.
STAFF = [
    ("GET", "/cases/{a}/targets/{b_target}/edit"),
    ("POST", "/cases/{a}/targets/{b_target}/edit"),
    ("POST", "/cases/{a}/targets/{b_target}/delete"),
    ("GET", "/cases/{a}/letters/{b_letter}"),
    ("GET", "/cases/{a}/letters/{b_letter}/edit"),
    ("POST", "/cases/{a}/letters/{b_letter}/edit"),
    ("POST", "/cases/{a}/letters/{b_letter}/delete"),
    ("GET", "/cases/{a}/replies/{b_reply}/file"),
    ("POST", "/cases/{a}/people/{b_person}/remove"),
]
API = [
    ("PATCH", "/api/v1/cases/{a}/targets/{b_target}", {"name": "Changed"}),
    ("DELETE", "/api/v1/cases/{a}/targets/{b_target}", None),
    ("GET", "/api/v1/cases/{a}/letters/{b_letter}", None),
    ("PATCH", "/api/v1/cases/{a}/letters/{b_letter}", {"subject": "Changed"}),
    ("DELETE", "/api/v1/cases/{a}/letters/{b_letter}", None),
    ("DELETE", "/api/v1/cases/{a}/people/{b_person}", None),
]
FORM = {"name": "Changed", "subject": "Changed", "body": "Changed", "language": "en"}


def ids(made) -> dict:
    return {"a": made["a"]["case"], **{f"b_{k}": v for k, v in made["b"].items()}}


@pytest.mark.parametrize(("method", "path"), STAFF)
def test_staff_routes_refuse_another_cases_child(login, db, two_cases, method, path):
    before = snapshot(db)
    client = login("admin")
    response = client.open(path.format(**ids(two_cases)), method=method, data=FORM)
    assert response.status_code == 404
    body = response.get_data(as_text=True)
    assert "Target b" not in body and "Subject b" not in body and "secret b" not in body
    assert snapshot(db) == before


@pytest.mark.parametrize(("method", "path", "payload"), API)
def test_api_refuses_another_cases_child(api_client, db, two_cases, method, path, payload):
    before = snapshot(db)
    client, headers = api_client("admin")
    response = client.open(
        path.format(**ids(two_cases)), method=method, json=payload, headers=headers
    )
    assert response.status_code == 404
    assert "Target b" not in response.get_data(as_text=True)
    assert "Subject b" not in response.get_data(as_text=True)
    assert snapshot(db) == before


def test_the_same_routes_work_with_the_right_case(login, api_client, db, two_cases):
    """The refusals above come from the ownership check, not from broken routes."""
    b = two_cases["b"]
    client = login("admin")
    assert client.get(f"/cases/{b['case']}/letters/{b['letter']}").status_code == 200
    assert client.get(f"/cases/{b['case']}/targets/{b['target']}/edit").status_code == 200
    file = client.get(f"/cases/{b['case']}/replies/{b['reply']}/file")
    assert file.status_code == 200 and file.data == b"secret b"
    api, headers = api_client("admin")
    got = api.get(f"/api/v1/cases/{b['case']}/letters/{b['letter']}", headers=headers)
    assert got.status_code == 200 and got.json["subject"] == "Subject b"
