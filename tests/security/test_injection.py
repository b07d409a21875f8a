"""SQL injection and hostile filter values: no 500, no extra rows, on both databases.

NUL (and lone surrogates, which no database encoding holds) are refused for the
whole request with 400 by campaign/core/requestguard.py before any view runs;
PostgreSQL text cannot hold NUL, so they once gave a 500 there.
"""

from __future__ import annotations

import pytest

HOSTILE = [
    "' OR 1=1 --",
    '" OR ""="',
    "'; DROP TABLE cases; --",
    "%",
    "_",
    "\\",
    "%%__\\\\",
    "1) OR (1=1",
    "x" * 5000,
    "ü' UNION SELECT * FROM users --",
    "\x01\x1f\x7f",
]
NUL = ["\x00", "a\x00b", "UA 205/16\x00' OR 1=1 --"]
TITLES = ("Alphatitle prisoner case", "Bravotitle journalist case")
NAMES = ("Zorya Kovalenko", "Yarema Bondar")


@pytest.fixture
def rows(app, db):
    from campaign.cases import services as cases
    from campaign.supporters import services as supporters

    for title, name in zip(TITLES, NAMES, strict=True):
        case = cases.create_case(None, {"title": title, "country_code": "UA"})
        cases.link_person(None, case, cases.save_person(None, None, {"name": name}))
    for first in ("Quintessa", "Rosalind"):
        supporters.create_supporter(None, {"email": f"{first.lower()}@example.org",
                                           "first_name": first, "language": "en"})  # fmt: skip
    db.session.commit()


def shown(body: str, words) -> list[str]:
    return [w for w in words if w in body]


@pytest.mark.parametrize("param", ["q", "country", "year", "status", "page"])
def test_case_list_filters(login, rows, param):
    client = login("viewer")
    for payload in HOSTILE:
        response = client.get("/cases/", query_string={param: payload})
        assert response.status_code == 200, payload
        if param in ("q", "country"):
            # Nothing matches: no row may leak through.
            assert shown(response.get_data(as_text=True), TITLES) == [], payload
    # And nothing was dropped.
    assert shown(client.get("/cases/").get_data(as_text=True), TITLES) == list(TITLES)


@pytest.mark.parametrize("param", ["year", "page"])
def test_case_list_huge_numbers(login, rows, param):
    client = login("viewer")
    for value in ("99999999999999999999", "-99999999999999999999", "2147483648", "0"):
        response = client.get("/cases/", query_string={param: value})
        assert response.status_code == 200, value
        if param == "year" and value != "0":  # 0 is "any year"
            assert shown(response.get_data(as_text=True), TITLES) == [], value


def test_people_search(login, rows):
    client = login("viewer")
    for payload in HOSTILE:
        response = client.get("/people/", query_string={"q": payload})
        assert response.status_code == 200, payload
        assert shown(response.get_data(as_text=True), NAMES) == [], payload


@pytest.mark.parametrize("param", ["q", "state", "list", "page"])
def test_supporter_search(login, rows, param):
    client = login("coordinator")
    for payload in [*HOSTILE, "99999999999999999999"]:
        response = client.get("/supporters/", query_string={param: payload})
        assert response.status_code == 200, payload
        if param == "q":
            found = shown(response.get_data(as_text=True), ("Quintessa", "Rosalind"))
            assert found == [], payload


def test_search_still_finds_what_it_should(login, rows):
    client = login("coordinator")
    assert shown(client.get("/cases/?q=Alphatitle").get_data(as_text=True), TITLES) == [TITLES[0]]
    assert shown(client.get("/people/?q=zorya").get_data(as_text=True), NAMES) == [NAMES[0]]
    found = client.get("/supporters/?q=Quint").get_data(as_text=True)
    assert shown(found, ("Quintessa", "Rosalind")) == ["Quintessa"]


SEGMENT_KEYS = [
    "languages", "countries", "interests", "states", "state_since", "state_before",
    "acted_on_case", "no_action_months", "received_mailing",
]  # fmt: skip
NUMBERS = ["1000000000", "99999999999999999999", "-1", "9999-99-99"]


@pytest.mark.parametrize("key", SEGMENT_KEYS)
def test_segment_count_filters(login, rows, key):
    client = login("viewer")
    for payload in [*HOSTILE, *NUMBERS]:
        response = client.get("/supporters/segments/count", query_string={key: payload})
        assert response.status_code in (200, 422), (payload, response.get_data(as_text=True))
        if response.status_code == 200:
            # Two supporters exist; no filter value may widen the segment beyond them.
            assert response.json["count"] <= 2, payload


@pytest.mark.parametrize("key", SEGMENT_KEYS)
def test_segment_builder_api(api_client, rows, key):
    client, headers = api_client("coordinator")
    for payload in [*HOSTILE, *NUMBERS, 10**30, -5, ["' OR 1=1 --"], {"a": 1}, None]:
        response = client.post(
            "/api/v1/segments/count", json={"filters": {key: payload}}, headers=headers
        )
        assert response.status_code in (200, 400, 422), (payload, response.get_data(as_text=True))
        if response.status_code == 200:
            assert response.json["count"] <= 2, payload
    for payload in [*NUL, ["x", "\x00"]]:
        response = client.post(
            "/api/v1/segments/count", json={"filters": {key: payload}}, headers=headers
        )
        assert response.status_code == 400, payload
        assert "NUL" in response.json["message"]


def test_saved_segment_with_hostile_filters_is_refused_or_harmless(login, rows):
    client = login("coordinator")
    for number, payload in enumerate(HOSTILE):
        response = client.post(
            "/supporters/segments/new",
            data={"name": f"Hostile {number}", "languages": payload, "countries": payload},
        )
        assert response.status_code in (302, 422), payload
    assert client.get("/supporters/segments").status_code == 200


# --- NUL and unstorable characters: 400 for the whole request -----------------


def refused_for_nul(response) -> bool:
    return response.status_code == 400 and "NUL character" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "path", ["/cases/", "/people/", "/supporters/", "/supporters/segments/count"]
)
def test_nul_in_a_query_string_is_refused(login, rows, path):
    client = login("coordinator")
    for payload in NUL:
        for param in ("q", "languages", "page"):
            response = client.get(path, query_string={param: payload})
            assert refused_for_nul(response), (path, param, payload)
    assert client.get(path).status_code == 200


def api_operations(app):
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1/") and not rule.rule.endswith("openapi.json"):
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                yield method, rule


def test_every_api_operation_refuses_nul_in_json_and_query(app, api_client, rows, db):
    from sqlalchemy import func, select

    from campaign.cases.models import Person

    client, headers = api_client("admin")
    people = db.session.scalar(select(func.count(Person.id)))
    checked = 0
    for method, rule in api_operations(app):
        url = re_ids(rule.rule)
        if method == "GET":
            response = client.get(url, query_string={"q": "x\x00"}, headers=headers)
            assert refused_for_nul(response), (method, rule.rule)
            assert response.is_json and "NUL" in response.json["message"]
        else:
            body = {"name": "Zorya\x00", "title": "x", "filters": {"languages": ["en\x00"]}}
            response = client.open(url, method=method, json=body, headers=headers)
            assert refused_for_nul(response), (method, rule.rule, response.status_code)
            assert response.is_json and "NUL" in response.json["message"]
            # NUL in a key, deep in a list, and a lone surrogate (raw JSON) too.
            for raw in ('{"a\\u0000": 1}', '{"x": [[{"y": "\\u0000"}]]}', '{"name": "\\ud800"}'):
                response = client.open(
                    url, method=method, data=raw, content_type="application/json", headers=headers
                )
                assert response.status_code == 400, (method, rule.rule, raw)
        checked += 1
    assert checked > 20
    assert db.session.scalar(select(func.count(Person.id))) == people  # nothing was written


def re_ids(rule: str) -> str:
    import re

    return re.sub(r"<(?:int:)?[^>]+>", "1", rule)


def test_api_person_with_nul_is_refused_and_without_it_created(api_client, db):
    client, headers = api_client("campaigner")
    refused = client.post("/api/v1/people", json={"name": "Nariman\x00 Dzhelyal"}, headers=headers)
    assert refused.status_code == 400 and "NUL" in refused.json["message"]
    created = client.post("/api/v1/people", json={"name": "Nariman Dzhelyal"}, headers=headers)
    assert created.status_code == 201, created.json


@pytest.mark.parametrize(
    ("path", "data", "role"),
    [
        ("/cases/new", {"title": "Prisoner\x00 case", "country_code": "UA"}, "campaigner"),
        ("/people/new", {"name": "Ilmi\x00 Umerov"}, "campaigner"),
        ("/login", {"email": "a@example.org\x00", "password": "x"}, None),
        ("/join", {"email": "new\x00@example.org", "first_name": "Ana"}, None),
        ("/account/tokens", {"name": "script\x00"}, "viewer"),
    ],
)
def test_nul_in_a_form_is_refused_with_a_page(app, login, db, path, data, role):
    from sqlalchemy import func, select

    from campaign.audit.models import AuditEvent

    client = login(role) if role else app.test_client()
    before = db.session.scalar(select(func.count(AuditEvent.id)))
    response = client.post(path, data=data)
    assert refused_for_nul(response), (path, response.status_code)
    assert "text/html" in response.content_type
    assert db.session.scalar(select(func.count(AuditEvent.id))) == before


def test_an_uploaded_file_is_not_a_form_value(login, db):
    """Uploads pass the guard; the importer refuses a NUL in a CSV with its own message."""
    import io

    client = login("campaigner")
    response = client.post(
        "/supporters/imports",
        data={
            "encoding": "",
            "file": (io.BytesIO(b"email,name\na@example.org,An\x00a\n"), "list.csv"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert "binary data (NUL bytes)" in response.get_data(as_text=True)


def test_cli_import_of_a_csv_with_nul_fails_cleanly(app, db, tmp_path):
    from sqlalchemy import func, select

    from campaign.supporters.models import Supporter

    path = tmp_path / "nul.csv"
    path.write_bytes(b"email,first_name\na@example.org,An\x00a\nb@example.org,Bo\n")
    result = app.test_cli_runner().invoke(args=["supporters", "import", str(path)])
    assert result.exit_code == 1
    assert "NUL" in result.output
    assert db.session.scalar(select(func.count(Supporter.id))) == 0
