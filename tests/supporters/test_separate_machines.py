"""Machines share only the database and Redis (DESIGN.md §3): a worker, or a
second web machine, with an instance folder of its own still finds every
upload (supporter files, case sheets, replies) and report."""

from __future__ import annotations

import io
import os
import subprocess
import sys

import pytest
from sqlalchemy import func, select

from campaign import create_app
from campaign.cases import services as cases
from campaign.core.models import StoredFile
from campaign.outcomes.services import replies_of
from campaign.supporters.models import ImportJob, Supporter
from tests.casesheets.test_views import SAMPLES, upload_ok
from tests.conftest import PASSWORD, make_config
from tests.supporters.test_worker import ROOT, wait_for


@pytest.fixture
def far_worker(app, redis_server, smtp_port, tmp_path):
    """A Celery worker whose INSTANCE_PATH is not the web app's."""
    app.extensions["celery"].conf.broker_url = redis_server.url
    elsewhere = tmp_path / "worker-machine"
    elsewhere.mkdir()
    assert str(elsewhere) != app.instance_path
    env = {
        **os.environ,
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "REDIS_URL": redis_server.url,
        "INSTANCE_PATH": str(elsewhere),
        "SECRET_KEY": app.config["SECRET_KEY"],
        "SMTP_URL": app.config["SMTP_URL"],
        "BASE_URL": app.config["BASE_URL"],
    }
    log = tmp_path / "worker.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "worker", "worker", "--pool=solo",
             "--without-gossip", "--without-mingle", "--loglevel=INFO"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    yield log
    process.terminate()
    try:
        process.wait(20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.mark.slow
def test_a_worker_with_its_own_instance_folder_runs_an_upload(app, db, login, far_worker):
    staff = login("campaigner")
    rows = "".join(f"p{i}@example.org,P{i}\n" for i in range(500)) + "not-an-address,X\n"
    # UTF-16 without a byte-order mark, chosen explicitly.
    data = ("Email,First name\n" + rows).encode("utf-16-le")
    upload = staff.post(
        "/supporters/imports",
        data={"file": (io.BytesIO(data), "people.csv"), "encoding": "utf-16"},
        content_type="multipart/form-data",
    )
    assert upload.status_code == 302, upload.get_data(as_text=True)
    job_url = upload.headers["Location"]
    staff.post(job_url, data={"map_email": "Email", "map_first_name": "First name",
                              "consent_source": "far worker", "policy": "keep", "list_id": 0,
                              "mode": "import"})  # fmt: skip
    job = wait_for(
        lambda: db.session.scalar(select(ImportJob).where(ImportJob.state.in_(("done", "failed")))),
        far_worker,
    )
    assert (job.state, job.error) == ("done", "")
    assert (job.rows, job.created, job.rejected) == (501, 500, 1)
    assert db.session.scalar(select(func.count()).select_from(Supporter)) == 500
    db.session.rollback()  # on SQLite, an open transaction would hold the write lock
    report = staff.get(f"{job_url}/rejected.csv")
    assert report.status_code == 200
    assert "not-an-address" in report.get_data(as_text=True)
    report.close()
    # Imported: the upload is gone from the database; the report stays.
    assert job.file_id is None
    assert db.session.scalar(select(func.count()).select_from(StoredFile)) == 1
    assert not (app.instance_path and os.path.exists(os.path.join(app.instance_path, "imports")))


@pytest.mark.commits  # the second app's own session must see what the first committed
def test_a_second_web_machine_serves_what_the_first_received(app, db, login, tmp_path):
    """A case sheet and an official's reply uploaded on one web machine are
    read on another with an instance folder of its own."""
    here = login("campaigner")
    review_url = upload_ok(here, SAMPLES / "ua_216_06_original.txt")
    case = cases.create_case(None, {"title": "T", "summary": "S", "recommended_actions": "A"})
    db.session.commit()
    case_id, email = case.id, here.user.email
    reply = here.post(
        f"/cases/{case_id}/replies",
        data={"received_on": "2017-11-02", "sender": "Prosecutor's Office",
              "text": "Received.", "file": (io.BytesIO(b"%PDF-1.4 reply"), "r.pdf")},
        content_type="multipart/form-data",
    )  # fmt: skip
    assert reply.status_code == 302
    reply_id = replies_of(case)[0].id
    db.session.rollback()  # on SQLite, an open transaction would hold the write lock

    elsewhere = tmp_path / "second-web-machine"
    other = create_app(make_config(app.config["SQLALCHEMY_DATABASE_URI"], elsewhere))
    assert other.instance_path != app.instance_path
    there = other.test_client()
    with other.app_context():
        signed_in = there.post("/login", data={"email": email, "password": PASSWORD})
        assert signed_in.status_code == 302
        review = there.get(review_url.removeprefix("http://localhost"))
        assert review.status_code == 200 and "216/06" in review.get_data(as_text=True)
        download = there.get(f"/cases/{case_id}/replies/{reply_id}/file")
        assert download.data == b"%PDF-1.4 reply"
        download.close()
        db.session.remove()
        db.engine.dispose()
