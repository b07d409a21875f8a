"""The lifecycle over the API: readiness, appeal, close, notices, replies, timeline, reports."""

from __future__ import annotations

import collections
import time
from datetime import date, timedelta

import pytest

from campaign.cases import services as cases
from campaign.core.types import utcnow

LIFECYCLE_PATHS = (
    "/api/v1/cases/{case_id}/readiness",
    "/api/v1/cases/{case_id}/appeal",
    "/api/v1/cases/{case_id}/close",
    "/api/v1/cases/{case_id}/reopen",
    "/api/v1/cases/{case_id}/notices",
    "/api/v1/cases/{case_id}/notices/{notice_id}",
    "/api/v1/cases/{case_id}/notices/{notice_id}/cancel",
    "/api/v1/cases/{case_id}/replies",
    "/api/v1/cases/{case_id}/replies/{reply_id}/file",
    "/api/v1/cases/{case_id}/timeline",
    "/api/v1/reports",
    "/api/v1/reports/{slug}",
)


def test_the_openapi_document_describes_the_lifecycle_with_examples(app):
    spec = app.test_client().get("/api/v1/openapi.json").get_json()
    for path in LIFECYCLE_PATHS:
        assert path in spec["paths"], path
    schemas = spec["components"]["schemas"]
    close = schemas["Close"]["properties"]
    assert close["outcomes"]["example"][0]["outcome"] == "released"
    assert "example" in schemas["Notice"]["properties"]["send_at"]
    assert "example" in schemas["Reply"]["properties"]["sender"]
    assert "example" in schemas["Event"]["properties"]["title"]
    assert (
        "multipart/form-data"
        in spec["paths"]["/api/v1/cases/{case_id}/replies"]["post"]["requestBody"]["content"]
    )


@pytest.fixture
def story(app, db):
    """An active UA with two people, ready in every respect."""
    case = cases.create_case(
        None,
        {"title": "Tatar leaders", "summary": "S", "recommended_actions": "A"},
        number=205,
        year=2016,
    )
    cases.issue_case(None, case)
    for name in ("Ilmi Umerov", "Akhtem Chiygoz"):
        cases.link_person(None, case, cases.save_person(None, None, {"name": name}))
    db.session.commit()
    return case


def _outcomes(case, outcome="released"):
    return [{"person_id": p.id, "outcome": outcome, "on": "2017-10-25"} for p in case.people]


def test_close_with_a_notice_then_edit_and_cancel_it(story, api_client):
    client, headers = api_client("coordinator")
    at = (utcnow() + timedelta(days=2)).replace(microsecond=0)
    closed = client.post(
        f"/api/v1/cases/{story.id}/close",
        json={
            "decision": "no_further_action",
            "outcomes": _outcomes(story),
            "text": "Many thanks.",
            "reason": "No appeal was mailed: a test",
            "notice": {"timing": "org_time", "send_at": at.isoformat()},
        },
        headers=headers,
    )
    assert closed.status_code == 201, closed.get_json()
    body = closed.get_json()
    assert body["case"] == {"id": story.id, "label": "UA 205/16", "status": "closed"}
    assert body["summary"] == "Released"
    assert [o["person"] for o in body["outcomes"]] == ["Ilmi Umerov", "Akhtem Chiygoz"]
    notice = body["notice"]
    assert notice["state"] == "scheduled" and notice["subject"] == "UA 205/16: Released"
    url = f"/api/v1/cases/{story.id}/notices/{notice['id']}"
    later = at + timedelta(hours=1)
    changed = client.patch(
        url, json={"send_at": later.isoformat(), "subject": "Freed"}, headers=headers
    )
    assert changed.status_code == 200, changed.get_json()
    assert changed.get_json()["subject"] == "Freed"
    assert changed.get_json()["send_at"].startswith(later.strftime("%Y-%m-%dT%H:%M"))
    listed = client.get(f"/api/v1/cases/{story.id}/notices", headers=headers).get_json()
    assert [n["id"] for n in listed] == [notice["id"]]
    cancelled = client.post(f"{url}/cancel", headers=headers)
    assert cancelled.status_code == 200 and cancelled.get_json()["state"] == "cancelled"
    again = client.post(f"{url}/cancel", headers=headers)
    assert again.status_code == 409
    refused = client.patch(url, json={"subject": "x"}, headers=headers)
    assert refused.status_code == 409
    reopened = client.post(
        f"/api/v1/cases/{story.id}/reopen", json={"reason": "Re-arrested"}, headers=headers
    )
    assert reopened.get_json()["status"] == "active"


def test_close_refuses_bad_input_and_changes_nothing(story, api_client, db):
    client, headers = api_client("coordinator")
    one = _outcomes(story)[:1]
    response = client.post(
        f"/api/v1/cases/{story.id}/close", json={"outcomes": one, "reason": "x"}, headers=headers
    )
    assert response.status_code == 422
    assert "Akhtem Chiygoz" in response.get_json()["message"]
    db.session.refresh(story)
    assert story.status == "active"
    wrong_case = client.get(f"/api/v1/cases/{story.id}/notices/999", headers=headers)
    assert wrong_case.status_code == 404


def test_campaigners_and_viewers_cannot_take_lifecycle_steps(story, api_client):
    client, headers = api_client("campaigner")
    assert (
        client.post(
            f"/api/v1/cases/{story.id}/close", json={"outcomes": _outcomes(story)}, headers=headers
        ).status_code
        == 403
    )
    assert (
        client.post(
            f"/api/v1/cases/{story.id}/updates",
            json={"kind": "further_action", "body": "News"},
            headers=headers,
        ).status_code
        == 403
    )
    assert (
        client.post(
            f"/api/v1/cases/{story.id}/reopen", json={"reason": "x"}, headers=headers
        ).status_code
        == 403
    )
    viewer, vheaders = api_client("viewer")
    assert viewer.get(f"/api/v1/cases/{story.id}/timeline", headers=vheaders).status_code == 200


def test_replies_with_files_over_the_api(story, api_client):
    client, headers = api_client("campaigner")
    import io

    logged = client.post(
        f"/api/v1/cases/{story.id}/replies",
        data={
            "received_on": "2017-11-02",
            "sender": "Prosecutor's Office",
            "file": (io.BytesIO(b"%PDF-1.4 reply"), "reply.pdf", "application/pdf"),
        },
        headers=headers,
        content_type="multipart/form-data",
    )
    assert logged.status_code == 201, logged.get_json()
    reply = logged.get_json()
    assert reply["filename"] == "reply.pdf" and reply["size"] == 14
    download = client.get(reply["file_url"], headers=headers)
    assert download.data == b"%PDF-1.4 reply"
    assert download.headers["Content-Disposition"].startswith("attachment")
    empty = client.post(
        f"/api/v1/cases/{story.id}/replies",
        data={"received_on": "2017-11-02", "sender": "Prosecutor"},
        headers=headers,
        content_type="multipart/form-data",
    )
    assert empty.status_code == 422 and empty.get_json()["field"] == "text"
    empty_file = client.post(
        f"/api/v1/cases/{story.id}/replies",
        data={
            "received_on": "2017-11-02",
            "sender": "Prosecutor",
            "text": "Their answer",
            "file": (io.BytesIO(b""), "blank.pdf", "application/pdf"),
        },
        headers=headers,
        content_type="multipart/form-data",
    )
    assert empty_file.status_code == 422 and empty_file.get_json()["field"] == "file"
    assert "The file is empty" in empty_file.get_json()["message"]
    listed = client.get(f"/api/v1/cases/{story.id}/replies", headers=headers).get_json()
    assert [r["sender"] for r in listed] == ["Prosecutor's Office"]


def test_readiness_timeline_and_reports_over_the_api(app, db, api_client):
    client, headers = api_client("coordinator")
    draft = cases.create_case(None, {"title": "Draft", "summary": "S", "recommended_actions": "A"})
    db.session.commit()
    ready = client.get(f"/api/v1/cases/{draft.id}/readiness", headers=headers).get_json()
    assert ready["complete"] is False and ready["next_label"].startswith("UA 1/")
    missing = {i["key"] for i in ready["items"] if not i["ok"]}
    assert {"people", "officials", "letter-en", "deadline", "country"} <= missing
    assert ready["next_step"].startswith("Complete the draft")
    issued = client.post(
        f"/api/v1/cases/{draft.id}/issue", json={"reason": "Urgent"}, headers=headers
    )
    assert issued.status_code == 200
    events = client.get(f"/api/v1/cases/{draft.id}/timeline", headers=headers).get_json()
    assert [e["kind"] for e in events] == ["issued", "note"]
    assert events[1]["detail"] == "Urgent"
    index = client.get("/api/v1/reports", headers=headers).get_json()
    assert {"slug": "appeals", "title": "Appeals per case"} in index
    report = client.get("/api/v1/reports/appeals", headers=headers).get_json()
    assert report["header"][0] == "UA" and report["rows"][0][0] == issued.get_json()["label"]
    assert client.get("/api/v1/reports/nope", headers=headers).status_code == 404


# --- the whole story, by the API alone, with a real worker and SMTP sink -----------------


@pytest.fixture
def celery(app, redis_server, sink, tmp_path):
    from tests.mailings.test_workers import Celery

    runner = Celery(app, redis_server, sink, tmp_path)
    yield runner
    runner.stop()


@pytest.mark.slow
def test_the_api_alone_runs_ua_205_16_from_draft_to_notice(
    app_config, mail_config, app, db, sink, make_supporters, celery, api_client
):
    from tests.mailings.test_workers import wait_for

    make_supporters(6)
    client, h = api_client("coordinator")

    def call(method, url, **kwargs):
        response = client.open(f"/api/v1{url}", method=method, headers=h, **kwargs)
        assert response.status_code < 300, (url, response.get_json())
        return response.get_json()

    deadline = (cases.org_today() + timedelta(days=30)).isoformat()
    case = call(
        "POST",
        "/cases",
        json={
            "title": "Crimean Tatar leaders jailed",
            "summary": "Two leaders are detained.",
            "recommended_actions": "Release them.",
            "country_code": "UA",
            "number": 205,
            "year": 2016,
            "index_reference": "EUR 50/4949/2016",
            "languages": ["en"],
            "deadline": deadline,
        },
    )
    cid = case["id"]
    for name in ("Ilmi Umerov", "Akhtem Chiygoz"):
        person = call("POST", "/people", json={"name": name, "consent_to_name": True})
        call("POST", f"/cases/{cid}/people", json={"person_id": person["id"]})
    call(
        "POST",
        f"/cases/{cid}/targets",
        json={"title": "Prosecutor General", "salutation": "Dear Prosecutor General"},
    )
    call(
        "POST",
        f"/cases/{cid}/letters",
        json={
            "language": "en",
            "subject": "Release them",
            "body": "{{ salutation }}, release them.",
        },
    )
    assert call("GET", f"/cases/{cid}/readiness")["complete"] is True
    assert call("POST", f"/cases/{cid}/issue")["label"] == "UA 205/16"
    celery.worker()
    celery.beat()

    def send_and_wait(mailing_id):
        call("POST", f"/mailings/{mailing_id}/approve")
        call("POST", f"/mailings/{mailing_id}/send")
        wait_for(
            db,
            lambda: call("GET", f"/mailings/{mailing_id}")["state"] == "sent",
            90,
            celery,
            f"mailing {mailing_id} was not sent",
        )

    send_and_wait(call("POST", f"/cases/{cid}/appeal")["id"])
    for news in ("Detained again.", "Sentenced.", "Moved to Ankara."):
        update = call(
            "POST", f"/cases/{cid}/updates", json={"kind": "further_action", "body": news}
        )
        [draft] = [
            m
            for m in call("GET", "/mailings")
            if m["update_id"] == update["id"] and m["state"] == "draft"
        ]
        send_and_wait(draft["id"])
    assert update["full_label"] == "third update of UA 205/16"
    people = call("GET", f"/cases/{cid}")["people"]
    at = utcnow() + timedelta(seconds=8)
    closed = call(
        "POST",
        f"/cases/{cid}/close",
        json={
            "decision": "no_further_action",
            "text": "No further action is requested.",
            "outcomes": [
                {
                    "person_id": people[0]["id"],
                    "outcome": "released",
                    "on": "2017-10-25",
                    "note": "exiled to Kyiv",
                },
                {"person_id": people[1]["id"], "outcome": "released", "on": "2017-10-25"},
            ],
            "notice": {"timing": "org_time", "send_at": at.isoformat()},
        },
    )
    notice = closed["notice"]
    assert closed["case"]["status"] == "closed" and notice["state"] == "scheduled"
    subject = notice["subject"].encode()
    assert not [m for m in sink.messages if subject in m.data]  # not before its time

    def notice_sent():
        row = call("GET", f"/cases/{cid}/notices/{notice['id']}")
        ids = [row["mailing_id"], row["thanks_mailing_id"]]
        if row["state"] != "started":
            return False
        return all(call("GET", f"/mailings/{i}")["state"] in ("sent", "cancelled") for i in ids)

    wait_for(db, notice_sent, 120, celery, "the notice was not sent")
    time.sleep(3)  # a second start would have sent again by now
    notices = [m for m in sink.messages if subject in m.data]
    copies = collections.Counter(m.recipient for m in notices)
    assert len(copies) == 6 and set(copies.values()) == {1}, copies
    assert min(m.at for m in notices) >= at.timestamp() - 1  # at its time, not before
    kinds = [e["kind"] for e in call("GET", f"/cases/{cid}/timeline")]
    assert kinds[0] == "issued" and kinds[-1] == "mailing"
    assert kinds.index("outcome") > max(i for i, k in enumerate(kinds) if k == "update")
    assert call("GET", f"/cases/{cid}")["status"] == "closed"
    assert date.fromisoformat(deadline) > cases.org_today()
