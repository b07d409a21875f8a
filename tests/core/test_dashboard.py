from datetime import timedelta

from campaign.cases import services as cases
from campaign.cases.hooks import open_appeals
from campaign.demo import load
from campaign.letters.hooks import appeals_last_days


def test_dashboard_shows_what_needs_attention(app, db, login):
    load(supporters=30)
    soon = cases.create_case(
        None, {"title": "Hunger striker", "summary": "S", "recommended_actions": "A",
               "deadline": cases.org_today() + timedelta(days=2)},
    )  # fmt: skip
    cases.issue_case(None, soon)
    db.session.commit()
    open_cases = [case.title for case, _days in open_appeals()]
    assert open_cases[0] == "Hunger striker"  # the soonest deadline first
    assert "Crimean Tatar leader forcibly confined to psychiatric hospital" not in open_cases
    days = appeals_last_days(7)
    assert len(days) == 7 and days[-1][0] == cases.org_today()
    page = login("viewer").get("/").get_data(as_text=True)
    for text in (
        "Open appeals by deadline",
        "Hunger striker",
        "2 days left",
        "Appeals in the last 7 days",
        "Recent outcomes",
        "Released",
    ):
        assert text in page, text


def test_health_endpoints(app, db, client):
    from campaign.core.tasks import beat

    assert client.get("/healthz").get_json() == {"status": "ok"}
    stalled = client.get("/healthz/worker")
    assert stalled.status_code == 503 and stalled.get_json()["status"] == "stalled"
    beat("tick", "test")
    db.session.commit()
    assert client.get("/healthz/worker").status_code == 200


def test_hsts_only_under_https(app, client):
    assert "Strict-Transport-Security" not in client.get("/healthz").headers
    app.config["SESSION_COOKIE_SECURE"] = True
    assert client.get("/healthz").headers["Strict-Transport-Security"].startswith("max-age=")
