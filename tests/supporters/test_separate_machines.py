"""Machines share only the database and Redis (DESIGN.md §3): a worker, or a
second web machine, with an instance folder of its own still finds every
upload (supporter files, case sheets, replies) and report."""

from __future__ import annotations

import io
import os
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from campaign import create_app
from campaign.cases import services as cases
from campaign.casesheets.models import CaseDocument
from campaign.core import storage
from campaign.core.models import StoredFile
from campaign.outcomes.services import replies_of
from campaign.supporters.models import ImportJob, Supporter
from tests import celery_processes
from tests.casesheets.test_views import SAMPLES, upload_ok
from tests.conftest import PASSWORD, make_config
from tests.supporters.test_worker import wait_for


@pytest.fixture
def far_worker(app, redis_server, smtp_port, tmp_path):
    """A Celery worker whose INSTANCE_PATH is not the web app's."""
    app.extensions["celery"].conf.broker_url = redis_server.empty().url
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
    args = ["worker", "--pool=solo", "--without-gossip", "--without-mingle", "--loglevel=INFO"]
    with celery_processes.running(args, env, log):
        yield log


def import_through(staff, db, far_worker, data: bytes, encoding: str):
    """Upload ``data`` as a supporter file, map it and wait for the far worker's import."""
    upload = staff.post(
        "/supporters/imports",
        data={"file": (io.BytesIO(data), "people.csv"), "encoding": encoding},
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
    return job_url, job


@pytest.mark.slow
def test_a_worker_with_its_own_instance_folder_runs_an_upload(app, db, login, far_worker):
    staff = login("campaigner")
    rows = "".join(f"p{i}@example.org,P{i}\n" for i in range(500)) + "not-an-address,X\n"
    # UTF-16 without a byte-order mark, chosen explicitly.
    data = ("Email,First name\n" + rows).encode("utf-16-le")
    job_url, job = import_through(staff, db, far_worker, data, "utf-16")
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


@pytest.mark.slow
def test_web_and_worker_with_their_own_instance_folders(app, db, login, far_worker, tmp_path):
    """Issue #16: a web machine, a worker and a second web machine, each with an
    instance folder of its own, through a supporter import (the worker runs it,
    the second web machine serves its report), a case-sheet import (uploaded
    here, reviewed and downloaded there; a stale pending upload purged by the
    worker's tick) and a reply attachment (logged here, downloaded there).
    Every file is in the database in chunks, none in an instance folder."""
    here = login("campaigner")
    # (a) a supporter import, run by the worker
    rows = "".join(f"p{i}@example.org,P{i}\n" for i in range(300)) + "not-an-address,X\n"
    job_url, job = import_through(here, db, far_worker, ("Email,First name\n" + rows).encode(), "")
    assert (job.state, job.error, job.created, job.rejected) == ("done", "", 300, 1)
    # (b) a case sheet: uploaded here; a second one left pending for the worker to purge
    original = (SAMPLES / "ua_216_06_original.txt").read_bytes()
    review_url = upload_ok(here, SAMPLES / "ua_216_06_original.txt")
    stale_url = upload_ok(here, SAMPLES / "ua_219_06_further_information.txt")
    db.session.rollback()
    document = db.session.scalar(select(CaseDocument).order_by(CaseDocument.id))
    stale = db.session.scalar(select(CaseDocument).order_by(CaseDocument.id.desc()))
    assert stale_url != review_url and document.file_id and stale.file_id
    stale_id, stale_file = stale.id, stale.file_id
    stale.uploaded_at = stale.uploaded_at - timedelta(days=2)
    # (c) a reply with its attachment, logged here
    case = cases.create_case(None, {"title": "T", "summary": "S", "recommended_actions": "A"})
    db.session.commit()
    attachment = b"%PDF-1.4 reply " + bytes(range(256)) * 9000  # 2.3 MB: three chunks
    # Encoded here: the test client spools a body over 500 KB to a file it never closes.
    boundary, body = encode_multipart(
        {"received_on": "2017-11-02", "sender": "Prosecutor's Office", "text": "Received.",
         "file": FileStorage(io.BytesIO(attachment), "r.pdf")}
    )  # fmt: skip
    reply = here.post(
        f"/cases/{case.id}/replies",
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
    )
    assert reply.status_code == 302
    reply_row = replies_of(case)[0]
    assert len(list(storage.open_chunks(reply_row.file_id))) == 3
    case_id, reply_id, email = case.id, reply_row.id, here.user.email
    document_id = document.id
    db.session.rollback()  # on SQLite, an open transaction would hold the write lock

    # The worker's tick purges the stale pending upload, its stored file too.
    app.extensions["celery"].send_task("core.tick")
    wait_for(lambda: db.session.get(CaseDocument, stale_id) is None, far_worker)
    assert db.session.get(StoredFile, stale_file) is None
    db.session.rollback()  # on SQLite, an open transaction would hold the write lock

    elsewhere = tmp_path / "second-web-machine"
    other = create_app(make_config(app.config["SQLALCHEMY_DATABASE_URI"], elsewhere))
    assert len({other.instance_path, app.instance_path, str(tmp_path / "worker-machine")}) == 3
    there = other.test_client()  # each request in an app context of its own, as served
    signed_in = there.post("/login", data={"email": email, "password": PASSWORD})
    assert signed_in.status_code == 302
    report = there.get(job_url.removeprefix("http://localhost") + "/rejected.csv")
    assert report.status_code == 200 and "not-an-address" in report.get_data(as_text=True)
    review = there.get(review_url.removeprefix("http://localhost"))
    assert review.status_code == 200 and "216/06" in review.get_data(as_text=True)
    download = there.get(f"/cases/{case_id}/replies/{reply_id}/file")
    assert download.data == attachment
    with other.app_context():
        db.engine.dispose()
    # The original is downloadable once saved to a case; here it is still pending:
    # its bytes are in the database, not in any instance folder.
    assert b"".join(storage.open_chunks(db.session.get(CaseDocument, document_id).file_id)) == (
        original
    )
    for folder in (app.instance_path, other.instance_path, tmp_path / "worker-machine"):
        for name in ("imports", "uploads", "casesheets", "replies"):
            assert not os.path.exists(os.path.join(folder, name)), (folder, name)
