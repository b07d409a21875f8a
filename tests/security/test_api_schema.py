"""schemathesis against /api/v1/openapi.json, in process (WSGI): no 500, no schema violation.

The schema is read once from a throwaway app (it does not depend on the
database); each generated request then goes to the test's own app, with an
admin's bearer token, on PostgreSQL only (``prefer_postgresql``): the stricter
dialect (integer ranges, NUL, types). On both databases it was the costliest
file of the suite (72 operations × ~75 requests, ~85 s of CPU with coverage).
SQLite gets schemathesis' stateful run (test_api_stateful.py) and the raw-body
fuzzer (test_request_limits.py); ``--db=sqlite`` runs this one on SQLite.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from tests.conftest import make_config


def _spec() -> dict:
    from campaign import create_app

    with tempfile.TemporaryDirectory() as folder:
        app = create_app(make_config(f"sqlite:///{folder}/schema.sqlite3", Path(folder)))
        response = app.test_client().get("/api/v1/openapi.json")
        assert response.status_code == 200
        return response.json


SCHEMA = schemathesis.openapi.from_dict(_spec())
# Not traced by coverage (pytest-cov's ``no_cover``): this fuzzer runs ~5,500
# requests, and under the tracer it took twice the CPU (~20 s more a run). Every
# line it runs is run by another test too (measured with ``--cov-context=test``
# on 2026-12-07: the case list's status filter was the one exception, now
# tests/cases/test_services.py's); what it checks is answers, not lines.
pytestmark = [pytest.mark.prefer_postgresql, pytest.mark.no_cover]


@SCHEMA.parametrize()
@settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_answers_within_its_schema(case, app, api_client):
    client, headers = getattr(app, "_schemathesis_client", None) or api_client("admin")
    app._schemathesis_client = (client, headers)  # one admin per test, not per example
    kwargs = case.as_transport_kwargs(headers=headers)
    response = client.open(
        kwargs["url"],
        method=kwargs["method"],
        headers=kwargs["headers"],
        query_string=kwargs.get("params"),
        json=kwargs.get("json"),
        data=kwargs.get("data"),
    )
    case.validate_response(response, checks=[not_a_server_error, response_schema_conformance])
