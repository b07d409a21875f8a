"""UA numbers cannot be forged (issue #16 item 5): only coordinators set them, inside
the range, never on an issued UA; corrections go through an admin's audited renumbering."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from campaign.audit.models import AuditEvent
from campaign.cases import services
from campaign.core.errors import Conflict, ServiceError

SHEET = {"title": "Crimean Tatar leader at risk", "summary": "S", "recommended_actions": "R"}


@pytest.fixture
def issued(app, db):
    case = services.create_case(None, SHEET, number=205, year=2016)
    services.issue_case(None, case)
    db.session.commit()
    return case


def test_a_campaigner_cannot_renumber_an_issued_ua_through_the_api(db, api_client, issued):
    client, headers = api_client("campaigner")
    response = client.patch(
        f"/api/v1/cases/{issued.id}", json={"number": 7, "year": 2016}, headers=headers
    )
    assert response.status_code in (403, 409)
    db.session.expire_all()
    assert services.get_case(issued.id).label == "UA 205/16"


def test_nobody_changes_the_number_of_an_issued_ua_by_editing_it(db, api_client, issued):
    client, headers = api_client("admin")
    response = client.patch(f"/api/v1/cases/{issued.id}", json={"number": 7}, headers=headers)
    assert response.status_code == 409
    assert "renumber" in response.json["message"]
    with pytest.raises(Conflict):
        services.update_case(None, issued, {"year": 2017})


def test_a_campaigner_cannot_number_a_draft(db, api_client, make_user):
    client, headers = api_client("campaigner")
    body = {**SHEET, "number": 9999, "year": 2016}
    assert client.post("/api/v1/cases", json=body, headers=headers).status_code == 403
    draft = services.create_case(None, SHEET)
    db.session.commit()
    patched = client.patch(f"/api/v1/cases/{draft.id}", json={"number": 9999, "year": 2016},
                           headers=headers)  # fmt: skip
    assert patched.status_code == 403
    # A coordinator may, for a historic UA.
    coordinator, coordinator_headers = api_client("coordinator")
    created = coordinator.post("/api/v1/cases", json=body, headers=coordinator_headers)
    assert created.status_code == 201 and created.json["label"] == "UA 9999/16"


def test_numbers_stay_in_range_and_the_counter_never_passes_9999(app, db, make_user):
    coordinator = make_user("coordinator")
    for number, year in ((0, 2016), (10000, 2016), (5, 1900), (5, date.today().year + 1)):
        with pytest.raises(ServiceError):
            services.create_case(coordinator, SHEET, number=number, year=year)
    db.session.rollback()
    top = services.create_case(coordinator, SHEET, number=9999, year=2016)
    db.session.flush()
    nxt = services.create_case(None, SHEET)
    with pytest.raises(ServiceError) as refused:
        services.issue_case(None, nxt, today=date(2016, 6, 1))
    assert "9999" in refused.value.message
    assert top.number == 9999


def test_an_admin_renumbers_with_a_reason_and_it_is_audited(app, db, api_client, issued):
    client, headers = api_client("coordinator")
    body = {"number": 206, "year": 2016, "reason": "Typo in the register"}
    url = f"/api/v1/cases/{issued.id}/renumber"
    assert client.post(url, json=body, headers=headers).status_code == 403
    admin, admin_headers = api_client("admin")
    assert admin.post(url, json={**body, "reason": ""}, headers=admin_headers).status_code == 422
    response = admin.post(url, json=body, headers=admin_headers)
    assert response.status_code == 200, response.json
    assert response.json["label"] == "UA 206/16"
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "case.renumber"))
    assert "UA 205/16" in event.summary and "Typo in the register" in event.summary
    services.create_case(None, SHEET, number=300, year=2016)
    db.session.commit()
    clash = admin.post(
        url, json={"number": 300, "year": 2016, "reason": "x"}, headers=admin_headers
    )
    assert clash.status_code == 409


def test_renumbering_from_the_command_line(app, db, issued):
    result = app.test_cli_runner().invoke(
        args=["cases", "renumber", "UA 205/16", "UA 208/16", "--reason", "Register fix"]
    )
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert services.get_case(issued.id).label == "UA 208/16"
