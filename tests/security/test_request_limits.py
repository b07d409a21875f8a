"""Oversized and hostile request bodies get a 4xx in every path, never a 500 (issue #16 item 6)."""

from __future__ import annotations

import io
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

LIMIT = 64 * 1024


@pytest.fixture
def app_config(app_config):
    return {**app_config, "MAX_CONTENT_LENGTH": LIMIT}


def test_an_oversized_public_form_gets_413_not_500(client):
    # The 413 page must not read the form (reading it raises 413 again: a 500).
    body = {"email": "a@example.org", "first_name": "x" * (LIMIT * 2), "language": "en"}
    response = client.post("/join", data=body)
    assert response.status_code == 413
    assert "too large" in response.get_data(as_text=True)


def test_an_oversized_staff_form_and_upload_get_413(login):
    client = login("admin")
    form = client.post("/cases/new", data={"title": "t" * (LIMIT * 2)})
    assert form.status_code == 413
    upload = client.post(
        "/supporters/imports",
        data={"file": (io.BytesIO(b"email\n" + b"a" * (LIMIT * 2)), "big.csv")},
        content_type="multipart/form-data",
    )
    assert upload.status_code == 413


def test_an_oversized_json_body_gets_413(client, api_client):
    api, headers = api_client("admin")
    response = api.post("/api/v1/cases", json={"title": "t" * (LIMIT * 2)}, headers=headers)
    assert response.status_code == 413
    assert response.json["code"] == 413
    anonymous = client.post(
        "/api/v1/cases", data=b"[" * (LIMIT * 2), content_type="application/json"
    )
    assert anonymous.status_code == 413


def test_deeply_nested_json_is_refused_before_parsing(client, api_client):
    deep = "[" * 20_000 + "]" * 20_000
    anonymous = client.post("/api/v1/cases", data=deep, content_type="application/json")
    assert anonymous.status_code == 400
    assert "nested" in anonymous.json["message"]
    api, headers = api_client("admin")
    also = api.post("/api/v1/cases", data=deep, headers=headers, content_type="application/json")
    assert also.status_code == 400
    # Nesting inside strings is not nesting.
    fine = api.post(
        "/api/v1/cases",
        data=json.dumps({"title": "[" * 100 + "{" * 100, "summary": "[" * 9000}),
        headers=headers,
        content_type="application/json",
    )
    assert fine.status_code == 201


# -- fuzz: arbitrary bodies to the API and to forms, anonymous and logged in --------

PATHS = st.sampled_from(
    [
        ("POST", "/api/v1/cases"),
        ("PATCH", "/api/v1/cases/1"),
        ("POST", "/api/v1/supporters"),
        ("POST", "/api/v1/mailings"),
        ("POST", "/join"),
        ("POST", "/login"),
        ("POST", "/cases/new"),
        ("POST", "/supporters/new"),
        ("POST", "/mailings/new"),
    ]
)
CONTENT_TYPES = st.sampled_from(
    [
        "application/json",
        "application/x-www-form-urlencoded",
        "multipart/form-data",
        "multipart/form-data; boundary=x",
        "text/plain",
        "application/json; charset=utf-16",
        "",
    ]
)


@st.composite
def bodies(draw):
    kind = draw(st.sampled_from(["bytes", "json", "nested", "form"]))
    if kind == "bytes":
        return draw(st.binary(max_size=300))
    if kind == "nested":
        depth = draw(st.integers(1, 3000))
        opener = draw(st.sampled_from(["[", '{"a":', '[{"b":']))
        return (opener * depth).encode()
    if kind == "form":
        pairs = draw(st.lists(st.tuples(st.text(max_size=10), st.text(max_size=30)), max_size=5))
        from urllib.parse import urlencode

        return urlencode(pairs).encode("utf-8", "surrogatepass")
    value = draw(
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
            lambda inner: (
                st.lists(inner, max_size=4)
                | st.dictionaries(st.text(max_size=8), inner, max_size=4)
            ),
            max_leaves=20,
        )
    )
    return json.dumps(value).encode()


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(target=PATHS, content_type=CONTENT_TYPES, body=bodies(), as_staff=st.booleans())
def test_no_body_gets_a_500(app, api_client, login, target, content_type, body, as_staff):
    clients = getattr(app, "_fuzz_clients", None)
    if clients is None:
        _api, headers = api_client("admin")
        staff = login("admin", "fuzz@example.org")  # a session and a bearer token
        clients = app._fuzz_clients = {"anonymous": (app.test_client(), {}),
                                       "staff": (staff, headers)}  # fmt: skip
    client, headers = clients["staff" if as_staff else "anonymous"]
    method, path = target
    response = client.open(
        path, method=method, data=body, headers=headers, content_type=content_type or None
    )
    assert response.status_code < 500, (path, content_type, body[:200], response.status_code)
