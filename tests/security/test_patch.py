"""Every PATCH of the API changes only the fields sent (issue #16 item 6).

Each PATCH operation of /api/v1/openapi.json is listed below with one new value
for each field its request body accepts; a PATCH of that one field must leave
every other field as it was, nullable ones and lists included. A PATCH operation
or a field added to the API without a line here fails
``test_every_patch_operation_and_field_is_covered``.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from campaign.cases import services as cases
from campaign.core.types import utcnow
from campaign.supporters import services as supporters
from campaign.supporters.vocabulary import INTERESTS

SOON = date.today() + timedelta(days=9)
LATER = date.today() + timedelta(days=20)


def _case(client, headers) -> int:
    created = client.post(
        "/api/v1/cases",
        json={
            "title": "Before", "number": 205, "year": 2016, "index_reference": "EUR 50/7271/2017",
            "country_code": "UA", "summary": "Kept summary", "background": "Kept background",
            "recommended_actions": "Kept actions", "deadline": SOON.isoformat(),
            "embargo_until": "2030-01-02T09:00:00+00:00", "languages": ["en", "ru"],
            "text_language": "en", "themes": ["detention"],
        },
        headers=headers,
    )  # fmt: skip
    assert created.status_code == 201, created.get_json()
    return created.get_json()["id"]


def _issued_case() -> object:
    case = cases.create_case(None, {"title": "T", "summary": "S", "recommended_actions": "A"})
    cases.issue_case(None, case)
    return case


def setup_case(client, headers, db):
    url = f"/api/v1/cases/{_case(client, headers)}"
    return url, lambda: client.get(url, headers=headers).get_json()


def setup_target(client, headers, db):
    case_id = _case(client, headers)
    created = client.post(
        f"/api/v1/cases/{case_id}/targets",
        json={
            "name": "Ivan Ivanov", "title": "Prosecutor", "organisation": "Office",
            "address": "1 Street\nCity", "email": "p@example.org", "fax": "+7 1", "phone": "+7 2",
            "social": "@p", "salutation": "Dear Prosecutor", "salutations": {"ru": "Уважаемый"},
            "language": "ru", "is_copy": True, "copy_country": "GB",
        },
        headers=headers,
    )  # fmt: skip
    assert created.status_code == 201, created.get_json()
    target_id = created.get_json()["id"]

    def read():
        targets = client.get(f"/api/v1/cases/{case_id}/targets", headers=headers).get_json()
        return next(t for t in targets if t["id"] == target_id)

    return f"/api/v1/cases/{case_id}/targets/{target_id}", read


def _created(client, headers, collection: str, body: dict):
    """POST ``body`` to ``collection``: the new resource's URL and a reader of it."""
    created = client.post(collection, json=body, headers=headers)
    assert created.status_code == 201, created.get_json()
    url = f"{collection}/{created.get_json()['id']}"
    return url, lambda: client.get(url, headers=headers).get_json()


def setup_person(client, headers, db):
    return _created(
        client, headers, "/api/v1/people",
        {"name": "Akhtem Chiygoz", "aliases": ["Chyigoz"], "gender": "male",
         "pronoun": "he", "consent_to_name": True, "notes": "Kept notes"},
    )  # fmt: skip


def setup_letter(client, headers, db):
    case = _issued_case()
    first = cases.add_update(None, case, kind="further_action", body="News")
    second = cases.add_update(None, case, kind="further_action", body="More news")
    db.session.commit()
    setup_letter.updates = (first.id, second.id)
    return _created(
        client, headers, f"/api/v1/cases/{case.id}/letters",
        {"update_id": first.id, "language": "en", "subject": "Kept subject",
         "body": "Dear {{ salutation }}, kept body.", "is_default": True},
    )  # fmt: skip


def setup_supporter(client, headers, db):
    # Created by a service: POST would send a confirmation (no relay in this test).
    # A time zone chosen on its own (not the country's) stays when the country changes.
    supporter = supporters.create_supporter(
        None,
        {"email": "ann@example.org", "first_name": "Ann", "last_name": "Person",
         "language": "fr", "country": "FR", "city": "Lyon", "timezone": "America/Martinique",
         "interests": [next(iter(INTERESTS))]},
    )  # fmt: skip
    db.session.commit()
    url = f"/api/v1/supporters/{supporter.id}"
    return url, lambda: client.get(url, headers=headers).get_json()


def setup_segment(client, headers, db):
    return _created(
        client, headers, "/api/v1/segments",
        {"name": "French", "description": "Kept description", "filters": {"languages": ["fr"]}},
    )  # fmt: skip


def setup_notice(client, headers, db):
    case = _issued_case()
    person = cases.save_person(None, None, {"name": "Ilmi Umerov"})
    cases.link_person(None, case, person)
    db.session.commit()
    at = (utcnow() + timedelta(days=2)).replace(microsecond=0)
    closed = client.post(
        f"/api/v1/cases/{case.id}/close",
        json={"outcomes": [{"person_id": person.id, "outcome": "released", "on": "2017-10-25"}],
              "reason": "a test", "notice": {"timing": "org_time", "send_at": at.isoformat(),
              "subject": "Kept subject", "body": "Kept body", "thanks_body": "Kept thanks"}},
        headers=headers,
    )  # fmt: skip
    assert closed.status_code == 201, closed.get_json()
    url = f"/api/v1/cases/{case.id}/notices/{closed.get_json()['notice']['id']}"
    return url, lambda: client.get(url, headers=headers).get_json()


LATER_AT = (utcnow() + timedelta(days=3)).replace(microsecond=0, second=0).isoformat()

# operation → (set-up, {field sent: (its new value, fields it decides besides itself)})
PATCHES: dict[str, tuple] = {
    "/api/v1/cases/{case_id}": (
        setup_case,
        {
            "title": ("After", {"label"}),
            "number": (206, {"label"}),
            "year": (2017, {"label"}),
            "index_reference": ("EUR 50/1/2018", set()),
            "country_code": ("RU", set()),
            "summary": ("New summary", set()),
            "background": ("", set()),
            "recommended_actions": ("New actions", set()),
            "deadline": (LATER.isoformat(), {"current_deadline"}),
            "embargo_until": (None, set()),
            "languages": (["en"], set()),
            "text_language": ("ru", set()),
            "themes": ([], set()),
        },
    ),
    "/api/v1/cases/{case_id}/targets/{target_id}": (
        setup_target,
        {
            "name": ("Petr Petrov", set()),
            "title": ("", set()),
            "organisation": ("Other office", set()),
            "address": ("2 Street", set()),
            "email": ("q@example.org", set()),
            "fax": ("", set()),
            "phone": ("", set()),
            "social": ("", set()),
            "salutation": ("Dear Sir", set()),
            "salutations": ({}, set()),
            "language": ("en", set()),
            "is_copy": (False, set()),
            "copy_country": (None, set()),
        },
    ),
    "/api/v1/people/{person_id}": (
        setup_person,
        {
            "name": ("Akhtem Chiygoz Jr", set()),
            "aliases": ([], set()),
            "gender": ("", set()),
            "pronoun": ("", set()),
            "consent_to_name": (False, set()),
            "notes": ("", set()),
        },
    ),
    "/api/v1/cases/{case_id}/letters/{letter_id}": (
        setup_letter,
        {
            "update_id": (None, set()),
            "language": ("ru", set()),
            "subject": ("New subject", set()),
            "body": ("New body", set()),
            "is_default": (False, set()),
        },
    ),
    "/api/v1/supporters/{supporter_id}": (
        setup_supporter,
        {
            "first_name": ("Anne", set()),
            "last_name": ("", set()),
            "language": ("es", set()),
            "country": (None, set()),
            "city": ("", set()),
            "timezone": ("Asia/Tokyo", set()),
            "interests": ([], set()),
        },
    ),
    "/api/v1/segments/{segment_id}": (
        setup_segment,
        {
            "name": ("Francophones", set()),
            "description": ("", set()),
            "filters": ({"countries": ["FR"]}, {"count"}),
        },
    ),
    "/api/v1/cases/{case_id}/notices/{notice_id}": (
        setup_notice,
        {
            # The timing decides which of send_at and local_date holds the time.
            "timing": ("local_morning", {"send_at", "local_date"}),
            "send_at": (LATER_AT, set()),
            "local_date": (LATER.isoformat(), {"timing", "send_at"}),
            "subject": ("New subject", set()),
            "body": ("New body", set()),
            "thanks_body": ("New thanks", set()),
        },
    ),
}
# Sent together where one alone cannot stand (a morning notice needs its day).
COMPANIONS = {
    ("/api/v1/cases/{case_id}/notices/{notice_id}", "timing"): {"local_date": LATER.isoformat()},
    ("/api/v1/cases/{case_id}/notices/{notice_id}", "local_date"): {"timing": "local_morning"},
}
CHANGE_BY_THEMSELVES = {"updated_at", "state_changed_at"}


def _patch_fields(spec: dict, operation: dict) -> set[str]:
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    if "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    assert not schema.get("required"), f"a PATCH body requires {schema['required']}"
    return {name for name, prop in schema["properties"].items() if not prop.get("readOnly")}


def test_every_patch_operation_and_field_is_covered(app):
    spec = app.test_client().get("/api/v1/openapi.json").get_json()
    found = {
        path: _patch_fields(spec, item["patch"])
        for path, item in spec["paths"].items()
        if "patch" in item
    }
    assert set(found) == set(PATCHES)
    for path, fields in found.items():
        assert fields == set(PATCHES[path][1]), path


CASES = [(path, field) for path, (_setup, fields) in PATCHES.items() for field in fields]


@pytest.mark.parametrize(
    ("path", "field"), CASES, ids=[f"{p.split('/')[-2]}-{f}" for p, f in CASES]
)
def test_patch_changes_only_the_fields_sent(app, db, api_client, path, field):
    client, headers = api_client("coordinator")
    setup, fields = PATCHES[path]
    url, read = setup(client, headers, db)
    before = read()
    value, decided = fields[field]
    extra = COMPANIONS.get((path, field), {})
    response = client.patch(url, json={field: value, **extra}, headers=headers)
    assert response.status_code == 200, response.get_json()
    after = read()
    assert response.get_json() == after
    assert after[field] == value or (field == "send_at" and after[field][:16] == value[:16])
    assert after[field] != before[field], "the test's new value must differ"
    left = set(before) - {field, *decided, *extra, *CHANGE_BY_THEMSELVES}
    assert {k: after[k] for k in left} == {k: before[k] for k in left}
