"""Structured logs: one JSON line per request with its id, and no secrets in them."""

from __future__ import annotations

import json
import logging

import pytest

from tests.conftest import PASSWORD
from tests.mailings.conftest import sink  # noqa: F401 - the test's own SMTP server

# Pages, headers and messages: nothing here depends on the SQL dialect.
pytestmark = pytest.mark.any_db


def lines(capsys) -> list[dict]:
    out = capsys.readouterr().err
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def request_lines(capsys) -> list[dict]:
    return [line for line in lines(capsys) if line["logger"] == "campaign.request"]


def test_each_request_is_one_json_line_with_its_id(client, capsys):
    capsys.readouterr()
    response = client.get("/healthz", headers={"X-Request-ID": "lb-1234abcd.5678"})
    assert response.headers["X-Request-ID"] == "lb-1234abcd.5678"
    [line] = request_lines(capsys)
    assert line["request_id"] == "lb-1234abcd.5678"
    assert (line["method"], line["path"], line["status"]) == ("GET", "/healthz", 200)
    assert line["level"] == "INFO" and line["time"].endswith("+00:00")
    assert isinstance(line["duration_ms"], float)
    assert "user_id" not in line


@pytest.mark.parametrize(
    "given", ["", "short", "has space 12345678", "x" * 200, "<script>alert(1)</script>"]
)
def test_an_unusable_request_id_is_replaced(client, capsys, given):
    capsys.readouterr()
    response = client.get("/healthz", headers={"X-Request-ID": given} if given else {})
    generated = response.headers["X-Request-ID"]
    assert generated != given and len(generated) == 32 and int(generated, 16) >= 0
    assert request_lines(capsys)[0]["request_id"] == generated


def test_logged_in_user_and_errors(login, capsys):
    client = login("viewer")
    capsys.readouterr()
    client.get("/cases/")
    client.get("/no/such/page")
    ok, missing = request_lines(capsys)
    assert ok["user_id"] == client.user.id and ok["status"] == 200
    assert missing["status"] == 404 and missing["user_id"] == client.user.id


def test_api_requests_name_the_token_user(api_client, capsys):
    client, headers = api_client("viewer")
    capsys.readouterr()
    assert client.get("/api/v1/cases", headers=headers).status_code == 200
    [line] = request_lines(capsys)
    assert line["user_id"] >= 1 and line["path"] == "/api/v1/cases"
    assert headers["Authorization"].split()[1] not in json.dumps(line)


def test_no_password_token_or_email_reaches_the_log(app, make_user, api_client, capsys, sink):  # noqa: F811
    from campaign.core.tokens import make_token

    make_user("viewer", "secret.person@example.org")
    # The confirmation email runs at once and fails (this test's SMTP server refuses
    # the address, and names it in its answer): its error is logged.
    refusal = "550 5.1.1 <supporter.joins@example.net>: no such mailbox"
    sink.rcpt_rules["supporter.joins@example.net"] = refusal
    app.config["SMTP_URL"] = sink.url
    app.extensions["celery"].conf.task_always_eager = True
    app.extensions["celery"].conf.task_eager_propagates = False
    client = app.test_client()
    capsys.readouterr()
    client.post("/login", data={"email": "secret.person@example.org", "password": PASSWORD})
    app.test_client().post(
        "/login", data={"email": "secret.person@example.org", "password": "wrong one!"}
    )
    token = make_token("action", {"c": 1, "s": 1})
    client.get(f"/act/{token}")
    client.post(f"/act/{token}", data={"channel": "email"})
    unsubscribe = make_token("unsubscribe", {"s": 1})
    client.get(f"/unsubscribe/{unsubscribe}")
    client.post(
        "/join",
        data={"email": "supporter.joins@example.net", "first_name": "Ana", "consent": "y",
              "language": "en"},
    )  # fmt: skip
    app.extensions["celery"].conf.task_always_eager = False
    assert sink.sessions >= 1  # the confirmation was tried, on this test's server
    api, headers = api_client("admin")
    api.get("/api/v1/cases", headers=headers)
    logging.getLogger("campaign.test").warning("refused %s", "someone.else@example.com")
    out = capsys.readouterr().err
    for secret in (
        PASSWORD, "wrong one!", token, unsubscribe, "secret.person@example.org",
        "supporter.joins@example.net", "someone.else@example.com",
        headers["Authorization"].split()[1],
    ):  # fmt: skip
        assert secret not in out, secret
    assert "/act/[redacted]" in out and "/unsubscribe/[redacted]" in out
    assert '"path": "/join"' in out and "[email]" in out


def test_text_format_for_development(app_config, capsys):
    from campaign import create_app

    app_config["LOG_FORMAT"] = "text"
    from campaign.extensions import db

    app = create_app(app_config)
    capsys.readouterr()
    app.test_client().get("/healthz", headers={"X-Request-ID": "dev-request-1"})
    out = capsys.readouterr().err
    with app.app_context():
        db.engine.dispose()  # this second app's connection pool
    assert "INFO campaign.request: GET /healthz 200" in out
    assert "request_id=dev-request-1" in out and not out.lstrip().startswith("{")


def test_celery_tasks_log_their_name_and_id(app, db, capsys):
    from campaign.core.tasks import tick

    capsys.readouterr()
    result = tick.apply()
    [line] = [x for x in lines(capsys) if x["logger"] == "campaign.task"]
    assert line["task"] == "core.tick" and line["task_id"] == result.id
    assert line["state"] == "SUCCESS" and "duration_ms" in line
    assert "request_id" not in line


@pytest.mark.own_app  # adds a route
def test_an_error_in_a_signed_link_route_logs_no_token(app, capsys):
    from campaign.core.roles import public

    @public
    def boom(token):
        raise RuntimeError(f"broken while reading {token} for someone@example.org")

    app.add_url_rule("/boom/<token>", "boom", boom)
    app.config["PROPAGATE_EXCEPTIONS"] = False  # log it as production does
    token = "ImEiOjF9.Zx1Qw2Er3Ty4"
    capsys.readouterr()
    response = app.test_client().get(f"/boom/{token}")
    assert response.status_code == 500
    out = capsys.readouterr().err
    [error] = [line for line in lines_of(out) if line["level"] == "ERROR"]
    assert "RuntimeError" in error["exc_info"] and "/boom/[redacted]" in error["message"]
    assert token not in out and "someone@example.org" not in out
    [done] = [line for line in lines_of(out) if line["logger"] == "campaign.request"]
    assert done["status"] == 500 and done["level"] == "WARNING"


def lines_of(out: str) -> list[dict]:
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]
