"""The JSON API: supporters, lists, segments."""

from sqlalchemy import select

from campaign.supporters.models import Supporter


def test_supporters_lists_and_segments_through_the_api(app, db, api_client, eager, inbox):
    client, headers = api_client("coordinator")
    created = client.post(
        "/api/v1/supporters",
        json={"email": " New@Example.ORG ", "first_name": "Ana", "language": "es", "country": "ES"},
        headers=headers,
    )
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert (body["email"], body["state"]) == ("New@example.org", "pending")
    assert len(inbox.messages()) == 1  # double opt-in, even when staff add someone
    duplicate = client.post(
        "/api/v1/supporters", json={"email": "New@example.org"}, headers=headers
    )
    assert duplicate.status_code == 409 and duplicate.get_json()["field"] == "email"
    bad = client.post("/api/v1/supporters", json={"email": "nope"}, headers=headers)
    assert bad.status_code == 422 and bad.get_json()["field"] == "email"

    sid = body["id"]
    patched = client.patch(f"/api/v1/supporters/{sid}", json={"city": "Sevilla"}, headers=headers)
    assert patched.get_json()["city"] == "Sevilla" and patched.get_json()["state"] == "pending"
    lst = client.post("/api/v1/lists", json={"name": "Api list"}, headers=headers).get_json()
    member = client.post(
        f"/api/v1/lists/{lst['id']}/members", json={"supporter_ids": [sid, 999]}, headers=headers
    )
    assert member.get_json()["size"] == 1
    segment = client.post(
        "/api/v1/segments",
        json={"name": "Spanish", "filters": {"languages": ["es"]}},
        headers=headers,
    )
    assert segment.status_code == 201 and segment.get_json()["count"] == 1
    wrong = client.post(
        "/api/v1/segments", json={"name": "X", "filters": {"languages": ["zz"]}}, headers=headers
    )
    assert wrong.status_code == 422 and wrong.get_json()["field"] == "languages"
    count = client.post("/api/v1/segments/count", json={"countries": ["ES"]}, headers=headers)
    assert count.get_json() == {"count": 1}
    found = client.get("/api/v1/supporters?q=new@", headers=headers).get_json()
    assert found["total"] == 1

    suppressed = client.post(
        f"/api/v1/supporters/{sid}/suppress", json={"state": "bounced"}, headers=headers
    )
    assert suppressed.get_json()["state"] == "bounced"
    assert client.get(f"/api/v1/supporters/{sid}/data", headers=headers).get_json()["lists"] == [
        "Api list"
    ]
    assert client.delete(f"/api/v1/supporters/{sid}", headers=headers).status_code == 204
    assert db.session.scalar(select(Supporter)) is None


def test_viewers_read_but_do_not_write(app, api_client):
    client, headers = api_client("viewer")
    assert client.get("/api/v1/supporters", headers=headers).status_code == 200
    assert client.post("/api/v1/lists", json={"name": "x"}, headers=headers).status_code == 403
