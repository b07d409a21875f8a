"""Redis unreachable when a request has committed work for a task: no crash page, nothing lost.

The broker URL points at a port nobody listens on; publishing gives up after
about a second (config.py's broker transport options).
"""

from __future__ import annotations

import io
import time

import pytest
from sqlalchemy import select

from campaign.config import from_environment
from campaign.supporters import services
from campaign.supporters.models import ImportJob
from tests.services import free_port

# With Redis down the work runs on a fallback thread, on a connection of its own.
pytestmark = pytest.mark.commits


@pytest.fixture
def app_config(app_config):
    celery = dict(from_environment()["CELERY"])
    celery["broker_url"] = celery["result_backend"] = f"redis://127.0.0.1:{free_port()}/0"
    return {**app_config, "CELERY": celery}


def wait_for(predicate, seconds: float = 15.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    return predicate()


def test_sign_up_with_redis_down_still_sends_the_confirmation(app, db, client, inbox):
    data = {"email": "ana@example.org", "first_name": "Ana", "language": "fr", "consent": "y"}
    response = client.post("/join?lang=fr", data=data)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert "boîte de réception" in response.get_data(as_text=True)
    assert services.find_by_email("ana@example.org").state == "pending"
    db.session.commit()  # SQLite: end this test's transaction (they begin IMMEDIATE)
    # The email goes from the web process instead (a thread), in the supporter's language.
    messages = wait_for(inbox.messages)
    assert len(messages) == 1
    assert messages[0]["To"] == "ana@example.org"
    assert "inscription" in messages[0]["Subject"]


def test_an_import_with_redis_down_says_so_and_can_run_again(app, db, login, started_threads):
    client = login("campaigner")
    csv = b"Email,First name\nui@example.org,Ui\n"
    upload = client.post(
        "/supporters/imports",
        data={"file": (io.BytesIO(csv), "ui.csv"), "encoding": ""},
        content_type="multipart/form-data",
    )
    assert upload.status_code == 302
    job_url = upload.headers["Location"]
    form = {"map_email": "Email", "map_first_name": "First name", "consent_source": "web form"}
    started = client.post(job_url, data={**form, "policy": "keep", "list_id": 0, "mode": "import"})
    assert started.status_code == 302

    # Wait for the fallback thread itself: polling the job from here would take
    # SQLite's write lock every 100 ms and could starve the thread of it.
    fallbacks = [t for t in started_threads if t.name.startswith("fallback ")]
    assert fallbacks, "a fallback thread should have started"
    for thread in fallbacks:
        thread.join(60)
    job = db.session.scalar(select(ImportJob))
    assert job.state == "failed", "the job should say that the queue was unreachable"
    assert "Redis" in job.error and "Run it again" in job.error
    assert services.find_by_email("ui@example.org") is None  # nothing written
    assert "could not be reached" in client.get(job_url).get_data(as_text=True)
    # Run again is offered and, once it can be queued, the import completes.
    app.extensions["celery"].conf.task_always_eager = True
    try:
        assert client.post(job_url + "/run").status_code == 302
    finally:
        app.extensions["celery"].conf.task_always_eager = False
    assert services.find_by_email("ui@example.org").first_name == "Ui"
