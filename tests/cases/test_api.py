"""The JSON API: validation errors name the field; cases, updates, people, targets."""


def test_openapi_document_describes_the_api(app):
    spec = app.test_client().get("/api/v1/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    for path in (
        "/api/v1/cases",
        "/api/v1/cases/{case_id}/issue",
        "/api/v1/cases/{case_id}/updates",
        "/api/v1/cases/{case_id}/targets",
        "/api/v1/people",
    ):
        assert path in spec["paths"], path
    assert spec["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"


def test_validation_errors_name_the_field(app, api_client):
    client, headers = api_client("campaigner")
    missing = client.post("/api/v1/cases", json={}, headers=headers)
    assert missing.status_code == 422
    body = missing.get_json()
    assert body["field"] == "title" and "title" in body["message"]
    bad_index = client.post(
        "/api/v1/cases", json={"title": "T", "index_reference": "nonsense"}, headers=headers
    )
    assert bad_index.status_code == 422
    assert bad_index.get_json()["field"] == "index_reference"
    bad_date = client.post(
        "/api/v1/cases", json={"title": "T", "deadline": "soon"}, headers=headers
    )
    assert bad_date.status_code == 422 and bad_date.get_json()["field"] == "deadline"
    not_json = client.post(
        "/api/v1/cases", data="{", headers=headers, content_type="application/json"
    )
    assert not_json.status_code in (400, 422) and "message" in not_json.get_json()


def test_case_lifecycle_through_the_api(app, api_client):
    client, headers = api_client("coordinator")
    created = client.post(
        "/api/v1/cases",
        json={
            "title": "Tatar leaders",
            "summary": "S",
            "recommended_actions": "A",
            "country_code": "UA",
            "languages": ["ru", "en"],
            "deadline": "2030-09-27",
        },
        headers=headers,
    )
    assert created.status_code == 201, created.get_json()
    case = created.get_json()
    assert case["label"] == "Draft" and case["status"] == "draft"
    incomplete = client.post(f"/api/v1/cases/{case['id']}/issue", headers=headers)
    assert incomplete.status_code == 422 and incomplete.get_json()["field"] == "reason"
    issued = client.post(
        f"/api/v1/cases/{case['id']}/issue", json={"reason": "Urgent"}, headers=headers
    ).get_json()
    assert issued["status"] == "active" and issued["label"].startswith("UA 1/")
    again = client.post(f"/api/v1/cases/{case['id']}/issue", headers=headers)
    assert again.status_code == 409 and again.get_json()["message"]
    for _ in range(3):
        update = client.post(
            f"/api/v1/cases/{case['id']}/updates",
            json={"kind": "further_action", "body": "News", "reason": "No mailing yet"},
            headers=headers,
        )
        assert update.status_code == 201
    assert update.get_json()["label"] == "third update"
    assert update.get_json()["full_label"] == f"third update of {issued['label']}"
    target = client.post(
        f"/api/v1/cases/{case['id']}/targets",
        json={"title": "Prosecutor General", "salutation": "Dear Prosecutor General"},
        headers=headers,
    )
    assert target.status_code == 201
    person = client.post(
        "/api/v1/people",
        json={"name": "Akhtem Chiygoz", "aliases": ["Akhtem Chyigoz"]},
        headers=headers,
    ).get_json()
    linked = client.post(
        f"/api/v1/cases/{case['id']}/people", json={"person_id": person["id"]}, headers=headers
    )
    assert linked.status_code == 201
    found = client.get("/api/v1/people?q=Chyigoz", headers=headers).get_json()
    assert [p["name"] for p in found] == ["Akhtem Chiygoz"]
    listed = client.get("/api/v1/cases?q=Chiygoz", headers=headers).get_json()
    assert [c["id"] for c in listed["items"]] == [case["id"]]
    full = client.get(f"/api/v1/cases/{case['id']}", headers=headers).get_json()
    assert [u["sequence"] for u in full["updates"]] == [1, 2, 3]
    assert full["targets"][0]["salutation"] == "Dear Prosecutor General"
    assert full["people"][0]["aliases"] == ["Akhtem Chyigoz"]


def test_unknown_ids_are_404_json(app, api_client):
    client, headers = api_client("viewer")
    response = client.get("/api/v1/cases/999", headers=headers)
    assert response.status_code == 404 and response.is_json


def test_revoked_and_forged_tokens_are_refused(app, api_client, db):
    from campaign.auth.models import ApiToken
    from campaign.auth.services import revoke_token

    client, headers = api_client("viewer")
    assert client.get("/api/v1/cases", headers=headers).status_code == 200
    token = headers["Authorization"]
    forged = {"Authorization": token[:-5] + ("A" if token[-5] != "A" else "B") + token[-4:]}
    assert client.get("/api/v1/cases", headers=forged).status_code == 401
    revoke_token(None, db.session.get(ApiToken, 1))
    db.session.commit()
    assert client.get("/api/v1/cases", headers=headers).status_code == 401


def test_session_cookie_is_not_enough_for_the_api(app, login):
    client = login("admin")
    assert client.get("/api/v1/cases").status_code == 401
