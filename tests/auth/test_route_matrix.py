"""Every route declares its role, and anonymous users and lower roles are refused.

This walks the app's URL map, so a route added tomorrow is checked too: one
that declares nothing fails the first test.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from campaign.core.roles import ROLES, rank

# Pages, headers and messages: nothing here depends on the SQL dialect.
pytestmark = pytest.mark.any_db

PUBLIC_ENDPOINTS = {
    "static",
    "auth.login",
    "auth.verify_2fa",
    "core.health",
    "core.worker_health",
    "api-docs.openapi_json",
}
PUBLIC_ENDPOINTS |= {
    "letters.public_page",
    "letters.took_action",
    "letters.act",
    "letters.act_record",
    "letters.supporter_pack",
    "letters.claim",
    "letters.claim_confirm",
}
PUBLIC_ENDPOINTS |= {
    "supporters.signup",
    "supporters.front",
    "core.home",
    "supporters.confirm",
    "supporters.preferences",
    "supporters.unsubscribe",
}

# Outside /api/ but, like the API, for machines: a bearer token, never a session.
BEARER_ROUTES = {"/metrics"}


def takes_bearer(rule) -> bool:
    return rule.rule.startswith("/api/") or rule.rule in BEARER_ROUTES


def handlers(app, endpoint: str, methods: set[str]):
    view = app.view_functions[endpoint]
    view_class = getattr(view, "view_class", None)
    if view_class is None:
        return dict.fromkeys(methods, view)
    return {method: getattr(view_class, method.lower()) for method in methods}


def routes(app):
    for rule in app.url_map.iter_rules():
        methods = set(rule.methods) - {"HEAD", "OPTIONS"}
        for method, handler in handlers(app, rule.endpoint, methods).items():
            yield rule, method, handler


def test_every_route_declares_its_role(app):
    missing = []
    for rule, method, handler in routes(app):
        if rule.endpoint == "static":
            continue
        if not hasattr(handler, "required_role"):
            missing.append(f"{method} {rule.rule}")
        elif handler.required_role is None and rule.endpoint not in PUBLIC_ENDPOINTS:
            missing.append(f"{method} {rule.rule} is public but not listed as such")
    assert not missing, "routes without a declared role:\n" + "\n".join(missing)


@pytest.fixture
def sample(app, db):
    """Rows with id 1 for every kind of id in the URLs, so refusals are not 404s."""
    from campaign.cases import services

    case = services.create_case(None, {"title": "T", "summary": "S", "recommended_actions": "A"})
    person = services.save_person(None, None, {"name": "P"})
    services.link_person(None, case, person)
    services.save_target(None, case, None, {"name": "Target"})
    db.session.commit()
    return {
        "case_id": case.id,
        "person_id": person.id,
        "target_id": 1,
        "user_id": 1,
        "token_id": 1,
        "document_id": 1,
        "key": "x",
        "letter_id": 1,
        "token": "x",
        "mailing_id": 1,
        "supporter_id": 1,
        "list_id": 1,
        "segment_id": 1,
        "job_id": 1,
    }


def concrete(rule, sample) -> str:
    """The rule's URL with sample values; an id not in the sample is 1, a string "x"."""

    def value(match):
        converter, name = match.group(1) or "", match.group(2)
        return str(sample.get(name, 1 if converter.startswith("int") else "x"))

    return re.sub(r"<(?:([^:>]+):)?([^>]+)>", value, rule.rule)


def guarded(app):
    for rule, method, handler in routes(app):
        role = getattr(handler, "required_role", None)
        if role is not None:
            yield rule, method, role


def test_anonymous_users_are_refused_everywhere(app, sample):
    client = app.test_client()
    checked = 0
    for rule, method, _role in guarded(app):
        response = client.open(concrete(rule, sample), method=method)
        if takes_bearer(rule):
            assert response.status_code == 401, f"{method} {rule.rule}"
            assert response.is_json or rule.rule in BEARER_ROUTES
        else:
            assert response.status_code == 302, f"{method} {rule.rule}"
            assert "/login" in response.headers["Location"]
        checked += 1
    assert checked > 30


def test_lower_roles_are_refused_everywhere(app, sample, login, api_client):
    clients = {role: login(role) for role in ROLES}
    tokens = {role: api_client(role) for role in ROLES}
    refused = 0
    for rule, method, required in guarded(app):
        for role in ROLES[: rank(required)]:
            url = concrete(rule, sample)
            if takes_bearer(rule):
                client, headers = tokens[role]
                response = client.open(url, method=method, headers=headers, json={})
            else:
                response = clients[role].open(url, method=method)
            assert response.status_code == 403, (
                f"{role} got {response.status_code} on {method} {url}"
            )
            refused += 1
    assert refused > 30


def test_the_required_role_is_enough(app, sample, login):
    """The guard lets the right role through (GET pages render)."""
    client = login("viewer")
    for path in (
        "/cases/",
        f"/cases/{sample['case_id']}",
        "/people/",
        f"/people/{sample['person_id']}",
        "/account",
    ):
        assert client.get(path).status_code == 200, path
    admin = login("admin", "boss@example.org")
    for path in ("/admin/users", "/admin/audit", "/admin/system", "/mailbox/"):
        assert admin.get(path).status_code == 200, path


# --- README's role table is the matrix --------------------------------------------------

README = Path(__file__).resolve().parents[2] / "README.md"
# Every route that changes a UA, its letters, mailings or outcomes has a row.
TABLE_BLUEPRINTS = ("cases", "outcomes", "letters", "mailings", "api_lifecycle")


def readme_roles() -> dict[tuple[str, str], str]:
    text = README.read_text()
    table = text.split("<!-- role-table -->", 1)[1].split("<!-- /role-table -->", 1)[0]
    rows = {}
    for line in table.splitlines():
        match = re.match(r"\|[^|]+\| `(GET|POST|PATCH|PUT|DELETE) ([^`]+)` \| (\w+) \|$", line)
        if match:
            rows[(match.group(1), match.group(2))] = match.group(3)
    return rows


def test_the_readme_role_table_is_the_route_matrix(app):
    documented = readme_roles()
    assert len(documented) > 30
    actual = {
        (method, rule.rule): getattr(handler, "required_role", None)
        for rule, method, handler in routes(app)
    }
    wrong = {
        key: (role, actual.get(key, "no such route"))
        for key, role in documented.items()
        if actual.get(key) != role
    }
    assert not wrong, f"README says → the routes say: {wrong}"
    undocumented = sorted(
        f"{method} {rule.rule} ({handler.required_role})"
        for rule, method, handler in routes(app)
        if rule.endpoint.split(".")[0] in TABLE_BLUEPRINTS
        and method != "GET"
        and getattr(handler, "required_role", None)
        and (method, rule.rule) not in documented
    )
    assert not undocumented, "routes missing from README's role table:\n" + "\n".join(undocumented)


def test_campaigners_draft_and_coordinators_issue(app):
    """The README's words, as the matrix holds them."""
    roles = readme_roles()
    assert roles[("POST", "/cases/new")] == "campaigner"
    assert roles[("POST", "/cases/<int:case_id>/issue")] == "coordinator"
    assert roles[("POST", "/cases/<int:case_id>/updates/new")] == "coordinator"
    assert roles[("POST", "/cases/<int:case_id>/close")] == "coordinator"
