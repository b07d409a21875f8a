"""The JSON API of mailings: the whole life of a mailing, and errors that name the field."""

from __future__ import annotations

import pytest

from tests.mailings.test_pipeline import drain


@pytest.fixture
def app_config(mail_config):
    mail_config["MAILING_PARALLEL_TASKS"] = 1
    return mail_config


FREE = {"kind": "free", "subject": "Write today", "body": "Please write.", "everyone": True}


@pytest.mark.commits  # sends on worker threads, each on a connection of its own
def test_create_approve_send_and_count(db, api_client, make_supporters, sink):
    make_supporters(4)
    sink.rcpt_rules["s3@example.net"] = "550 5.1.1 no such user"
    campaigner, c_headers = api_client("campaigner")
    coordinator, headers = api_client("coordinator")
    created = campaigner.post("/api/v1/mailings", json=FREE, headers=c_headers)
    assert created.status_code == 201, created.get_json()
    mailing = created.get_json()
    assert (mailing["state"], mailing["subject"]) == ("draft", "Write today")
    url = f"/api/v1/mailings/{mailing['id']}"
    # A campaigner drafts; only a coordinator approves and sends.
    assert campaigner.post(f"{url}/approve", headers=c_headers).status_code == 403
    unapproved = coordinator.post(f"{url}/send", json={}, headers=headers)
    assert unapproved.status_code == 409
    approved = coordinator.post(f"{url}/approve", headers=headers)
    assert approved.status_code == 200 and approved.get_json()["approved_at"]
    stale = coordinator.post(f"{url}/send", json={"expected": 3}, headers=headers)
    assert stale.status_code == 422 and stale.get_json()["field"] == "confirm"
    assert coordinator.get(url, headers=headers).get_json()["state"] == "draft"
    sent = coordinator.post(f"{url}/send", json={"expected": 4}, headers=headers)
    assert sent.status_code == 200 and sent.get_json()["state"] == "sending"
    drain(mailing["id"])
    body = coordinator.get(url, headers=headers).get_json()
    assert body["state"] == "sent"
    assert body["progress"]["counts"]["sent"] == 3
    assert body["progress"]["counts"]["bounced"] + body["progress"]["counts"]["failed"] == 1
    assert body["progress"]["counts"]["queued"] == 0
    assert body["progress"]["total"] == 4 and body["progress"]["done"] == 4
    assert len(sink.messages) == 3


def test_pause_resume_cancel(db, api_client, make_supporters):
    make_supporters(2)
    client, headers = api_client("coordinator")
    mailing_id = client.post("/api/v1/mailings", json=FREE, headers=headers).get_json()["id"]
    url = f"/api/v1/mailings/{mailing_id}"
    client.post(f"{url}/approve", headers=headers)
    client.post(f"{url}/send", json={"expected": 2}, headers=headers)
    states = []
    for action in ("pause", "resume", "pause", "cancel"):
        response = client.post(f"{url}/{action}", headers=headers)
        assert response.status_code == 200, response.get_json()
        states.append(response.get_json()["state"])
    assert states == ["paused", "sending", "paused", "cancelled"]
    again = client.post(f"{url}/resume", headers=headers)
    assert again.status_code == 409
    assert client.get(url, headers=headers).get_json()["state"] == "cancelled"
    assert client.get(f"{url}/progress", headers=headers).status_code == 404


def test_viewer_reads_but_cannot_act(db, api_client):
    coordinator, headers = api_client("coordinator")
    mailing_id = coordinator.post("/api/v1/mailings", json=FREE, headers=headers).get_json()["id"]
    viewer, v_headers = api_client("viewer")
    listed = viewer.get("/api/v1/mailings", headers=v_headers).get_json()
    assert [m["id"] for m in listed] == [mailing_id]
    assert viewer.post("/api/v1/mailings", json=FREE, headers=v_headers).status_code == 403
    assert (
        viewer.post(f"/api/v1/mailings/{mailing_id}/cancel", headers=v_headers).status_code == 403
    )


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({**FREE, "kind": "poster"}, "kind"),
        ({k: v for k, v in FREE.items() if k != "subject"}, "subject"),
        ({**FREE, "subject": "Hi\r\nBcc: x@example.com"}, "subject"),
        ({**FREE, "body": ""}, "body"),
        ({**FREE, "kind": "appeal"}, "case_id"),
        ({**FREE, "everyone": False}, "list_ids"),
        ({**FREE, "list_ids": ["many"]}, "list_ids"),
        ({**FREE, "everyone": False, "list_ids": [2225]}, "list_ids"),
        ({**FREE, "everyone": False, "segment_ids": [40902]}, "segment_ids"),
    ],
)
def test_validation_errors_name_the_field(db, api_client, payload, field):
    from sqlalchemy import select

    from campaign.mailings.models import Mailing

    client, headers = api_client("campaigner")
    response = client.post("/api/v1/mailings", json=payload, headers=headers)
    assert response.status_code == 422, response.get_json()
    assert response.get_json()["field"] == field
    assert response.get_json()["message"]
    assert db.session.scalar(select(Mailing.id)) is None


def test_unknown_mailing_is_404(db, api_client):
    client, headers = api_client("coordinator")
    assert client.get("/api/v1/mailings/999", headers=headers).status_code == 404
    assert client.post("/api/v1/mailings/999/approve", headers=headers).status_code == 404
