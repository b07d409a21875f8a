"""The tasks run in a real Celery worker against a real Redis: a sign-up's
confirmation email and a staff import with its progress counters."""

from __future__ import annotations

import io
import os
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from campaign.supporters.models import ImportJob, Supporter
from tests import celery_processes


@pytest.fixture
def worker(app, redis_server, smtp_port, tmp_path):
    app.extensions["celery"].conf.broker_url = redis_server.empty().url
    env = {
        **os.environ,
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "REDIS_URL": redis_server.url,
        "INSTANCE_PATH": app.instance_path,
        "SECRET_KEY": app.config["SECRET_KEY"],
        "SMTP_URL": app.config["SMTP_URL"],
        "BASE_URL": app.config["BASE_URL"],
    }
    log = tmp_path / "worker.log"
    args = ["worker", "--pool=solo", "--without-gossip", "--without-mingle", "--loglevel=INFO"]
    with celery_processes.running(args, env, log):
        yield log


def wait_for(check, log: Path, timeout: float = 60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        from campaign.extensions import db

        result = check()
        db.session.rollback()  # on SQLite, an open transaction would hold the write lock
        if result:
            return result
        time.sleep(0.3)
    raise AssertionError(f"timed out; worker log:\n{log.read_text()[-3000:]}")


@pytest.mark.slow
def test_a_worker_sends_the_confirmation_and_runs_an_import(app, db, client, login, inbox, worker):
    signup = client.post("/join", data={"email": "w@example.org", "language": "fr", "consent": "y"})
    assert signup.status_code == 200
    message = wait_for(lambda: inbox.messages(), worker)[0]
    assert message["To"] == "w@example.org" and "Confirmez" in message["Subject"]

    staff = login("campaigner")
    rows = "".join(f"p{i}@example.org,P{i}\n" for i in range(3000))
    upload = staff.post(
        "/supporters/imports",
        data={
            "file": (io.BytesIO(("Email,First name\n" + rows).encode()), "w.csv"),
            "encoding": "",
        },
        content_type="multipart/form-data",
    )
    job_url = upload.headers["Location"]
    staff.post(job_url, data={"map_email": "Email", "map_first_name": "First name",
                              "consent_source": "worker test", "policy": "keep", "list_id": 0,
                              "mode": "import"})  # fmt: skip
    job = wait_for(
        lambda: db.session.scalar(select(ImportJob).where(ImportJob.state == "done")), worker
    )
    assert (job.rows, job.created, job.percent) == (3000, 3000, 100)
    page = staff.get(job_url).get_data(as_text=True)
    assert "3,000" in page and "http-equiv" not in page  # done: no more refreshing
    assert db.session.scalar(select(Supporter).where(Supporter.email == "p2999@example.org"))
