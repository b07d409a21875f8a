"""The outbox in one process against a real SMTP server: every supporter once."""

from __future__ import annotations

import contextlib
import email
import threading
from email import policy

import pytest
from sqlalchemy import func, select, update

from campaign.mailings import compose, outbox, recording, services
from campaign.mailings.models import Delivery, Mailing


@pytest.fixture
def app_config(mail_config):
    return mail_config


def drain(mailing_id: int, limit: int = 200) -> None:
    from campaign.extensions import db

    for _ in range(limit):
        if not outbox.run_batch(mailing_id):
            break
    db.session.commit()


@contextlib.contextmanager
def plans_of(db, *prefixes: str, settings: tuple[str, ...] = ()):
    """PostgreSQL's plans (EXPLAIN, JSON) of the statements that start with ``prefixes``
    run inside the block, by their first word; ``settings`` (``SET LOCAL``) first."""
    from sqlalchemy import event

    plans: dict = {}
    connection = db.session.connection()

    def explain(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().startswith(prefixes):
            for setting in settings:
                cursor.execute(f"SET LOCAL {setting}")
            cursor.execute("EXPLAIN (FORMAT JSON) " + statement, parameters)
            plans[statement.split()[0]] = cursor.fetchone()[0][0]["Plan"]

    event.listen(connection, "before_cursor_execute", explain)
    try:
        yield plans
    finally:
        event.remove(connection, "before_cursor_execute", explain)


def plan_nodes(plan):
    yield plan
    for child in plan.get("Plans", ()):
        yield from plan_nodes(child)


@pytest.mark.commits  # sends on worker threads, each on a connection of its own
def test_every_supporter_gets_one_copy(db, sink, make_supporters, approved_mailing):
    make_supporters(120)
    make_supporters(5, state="unsubscribed", start=1000)
    mailing = approved_mailing()
    assert services.send(None, mailing, expected=120) is mailing
    db.session.commit()
    assert mailing.total == 120
    drain(mailing.id)
    received = sink.recipients()
    assert len(received) == 120
    assert len(set(received)) == 120
    assert db.session.get(Mailing, mailing.id).state == "sent"
    assert services.counts(mailing.id)["sent"] == 120


def test_starting_twice_materialises_nothing_new(db, make_supporters, approved_mailing):
    make_supporters(30)
    mailing = approved_mailing()
    services.start(None, mailing)
    services.start(None, mailing)
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(Delivery)) == 30


def test_start_reads_the_audience_once_without_statistics(
    db, make_supporters, approved_mailing, db_backend
):
    """PostgreSQL right after a bulk load has no statistics: the start's INSERT ... SELECT
    must not give its planner a self-join of supporters or an anti-join against the
    deliveries being written (each became a nested loop, quadratic in the audience:
    27 s to start 20,000 deliveries, bench/mailing)."""
    if db_backend != "postgresql":
        pytest.skip("the planner without statistics is PostgreSQL's")
    make_supporters(50)
    mailing = approved_mailing()
    with plans_of(db, "INSERT INTO deliveries") as plans:
        services.start(None, mailing)
    scanned = [n["Relation Name"] for n in plan_nodes(plans["INSERT"]) if "Relation Name" in n]
    assert scanned.count("supporters") == 1
    assert scanned.count("deliveries") == 1  # the table written, never read back
    assert mailing.total == 50


def test_a_claim_suppresses_who_unsubscribed_since_the_start(db, make_supporters, approved_mailing):
    from campaign.supporters.models import Supporter
    from campaign.supporters.services import unsubscribe

    make_supporters(30)
    mailing = approved_mailing()
    services.send(None, mailing)
    db.session.commit()
    gone = {"s3@example.net", "s17@example.net", "s29@example.net"}
    for supporter in db.session.scalars(select(Supporter).where(Supporter.email.in_(gone))):
        unsubscribe(supporter, source="test")
    db.session.commit()
    recipients = outbox.claim(mailing.id, 100, 300, "holder")
    assert len(recipients) == 27 and not gone & {r.email for r in recipients}
    assert [r.delivery_id for r in recipients] == sorted(r.delivery_id for r in recipients)
    rows = db.session.execute(
        select(Supporter.email, Delivery.state, Delivery.lease_until)
        .join(Supporter, Supporter.id == Delivery.supporter_id)
        .where(Delivery.mailing_id == mailing.id)
    ).all()
    assert {e for e, state, lease in rows if state == "suppressed" and lease is None} == gone
    assert {state for e, state, _ in rows if e not in gone} == {"sending"}


def test_a_claim_reads_its_rows_not_the_queue_or_the_supporters(
    db, make_supporters, approved_mailing, db_backend
):
    """A claim's cost must not grow with the mailing: it read every queued delivery to
    sort them (20,000 for a claim of 500, bench/mailing) and every supporter to find
    the unsubscribed ones (a filter on their state: no index can serve it; the plans
    may join the claimed rows' supporters any way they like), at every claim."""
    if db_backend != "postgresql":
        pytest.skip("the plans checked are PostgreSQL's")
    make_supporters(3000)
    mailing = approved_mailing()
    services.send(None, mailing)
    db.session.commit()
    # Whether an index gives the claim its order must not depend on the statistics
    # earlier tests left (or, right after a bulk load, on there being none): the
    # planner is kept to index scans, and only a missing index makes it sort.
    scans = ("enable_seqscan = off", "enable_bitmapscan = off")
    with plans_of(db, "WITH", "UPDATE deliveries", "SELECT d.id", settings=scans) as plans:
        assert len(outbox.claim(mailing.id, 100, 300, "holder")) == 100
    assert "WITH" in plans and "SELECT" in plans
    assert not [n for n in plan_nodes(plans["WITH"]) if n["Node Type"] == "Sort"]
    for plan in plans.values():  # a filter on the supporters' state reads them all
        assert not [
            n for n in plan_nodes(plan)
            if n.get("Relation Name") == "supporters" and "state" in n.get("Filter", "")
        ]  # fmt: skip


@pytest.mark.commits  # sends on worker threads, each on a connection of its own
def test_languages_first_met_in_a_later_claim_are_composed(
    db, app, sink, make_supporters, approved_mailing, monkeypatch
):
    """The claimer thread claims; composers for languages it brings (reading the case
    through the batch's session) are made on the recorder's thread. Made on the
    claimer's thread, they lazy-loaded the case through another thread's session:
    on SQLite "database is locked" after 30 s, then the batch hung (bench/mailing)."""
    app.config.update(MAILING_BATCH_SIZE=10, MAILING_TASK_SECONDS=30)
    make_supporters(10, language="en")
    make_supporters(10, start=10, language="fr")
    make_supporters(10, start=20, language="es")
    mailing = approved_mailing()
    services.send(None, mailing)
    db.session.commit()
    composed_on: set[str] = set()
    add = compose.ComposerSet.add

    def add_and_note(self, recipients):
        composed_on.add(threading.current_thread().name)
        return add(self, recipients)

    monkeypatch.setattr(compose.ComposerSet, "add", add_and_note)
    assert outbox.run_batch(mailing.id) == 30  # one task: every later claim by the claimer
    db.session.commit()
    assert composed_on == {threading.current_thread().name}  # the session's own thread
    assert sorted(sink.recipients()) == sorted(f"s{i}@example.net" for i in range(30))
    languages = {
        m.recipient: email.message_from_bytes(m.data, policy=policy.default)["Content-Language"]
        for m in sink.messages
    }
    assert languages["s0@example.net"] == "en" and languages["s15@example.net"] == "fr"
    assert languages["s25@example.net"] == "es"
    assert db.session.get(Mailing, mailing.id).state == "sent"


def test_a_batch_whose_check_cannot_start_gives_its_claim_back(
    db, sink, make_supporters, approved_mailing, monkeypatch
):
    """The suppression check's readers cannot start (the database gives no answer for
    READ_TIMEOUT_SECONDS): nothing is sent, and the claim goes back to the queue at once
    rather than when its lease runs out."""
    import psycopg

    make_supporters(5)
    mailing = approved_mailing()
    services.send(None, mailing)
    db.session.commit()

    def silent(self, engine, readers=1):
        raise psycopg.OperationalError("suppression check failed: no answer from the database")

    monkeypatch.setattr(outbox.SuppressionCheck, "__init__", silent)
    with pytest.raises(psycopg.OperationalError, match="no answer"):
        outbox.run_batch(mailing.id)
    db.session.rollback()
    assert services.counts(mailing.id)["queued"] == 5 and sink.messages == []


@pytest.mark.commits  # sends on worker threads, each on a connection of its own
def test_a_recorder_that_fails_lets_the_senders_go(
    db, app, sink, make_supporters, approved_mailing, monkeypatch
):
    """Whatever stops the recorder (here its heartbeat), no sender waits for a permit
    that will never come: the batch ends at once, its deliveries go back to the queue."""
    app.config.update(
        MAILING_BATCH_SIZE=40, MAILING_RECORD_WINDOW=2, MAILING_CONNECTIONS=4, SMTP_TIMEOUT=1
    )
    make_supporters(40)
    sink.delay = 0.5  # no result for a while: the recorder only beats, and that fails
    mailing = approved_mailing()
    services.send(None, mailing)
    db.session.commit()

    def heart_failure(holder):
        raise RuntimeError("the heartbeat failed")

    monkeypatch.setattr(outbox, "beat_holder", heart_failure)
    monkeypatch.setattr(recording, "BEAT_SECONDS", 0.0)
    with pytest.raises(RuntimeError, match="heartbeat"):
        outbox.run_batch(mailing.id)
    db.session.rollback()
    # Before: the senders waited for permits for good, and the task for each of them
    # for 4 × SMTP_TIMEOUT before giving up and leaving them behind.
    senders = [t for t in threading.enumerate() if "_sender" in t.name]
    assert senders == []
    assert len(sink.messages) < 40
    counts = services.counts(mailing.id)
    assert counts["sent"] + counts["queued"] + counts["sending"] == 40


@pytest.mark.commits  # sends on worker threads, each on a connection of its own
def test_message_headers(db, sink, make_supporters, approved_mailing, app):
    make_supporters(1)
    mailing = approved_mailing(subject="Freedom for Ahmed — ÄÖÜ")
    services.send(None, mailing)
    db.session.commit()
    drain(mailing.id)
    [got] = sink.messages
    message = email.message_from_bytes(got.data, policy=policy.default)
    delivery = db.session.scalar(select(Delivery))
    assert message["Subject"] == "Freedom for Ahmed — ÄÖÜ"
    assert message["Message-ID"] == f"<ua.{mailing.id}.{delivery.id}@example.org>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["List-Unsubscribe"].startswith("<http://ua.example.org/")
    assert message["List-Id"]
    assert got.sender.startswith(f"bounces+{delivery.id}-")
    assert got.sender.endswith("@bounces.example.org")
    assert message.get_content_type() == "multipart/alternative"
    kinds = [part.get_content_type() for part in message.iter_parts()]
    assert kinds == ["text/plain", "text/html"]
    html = message.get_body(("html",)).get_content()
    assert "Dear First0," in message.get_body(("plain",)).get_content()
    assert 'style="' in html and "<style" not in html  # CSS inlined


@pytest.mark.commits  # sends on worker threads, each on a connection of its own
def test_names_cannot_inject_headers(db, sink, approved_mailing):
    from campaign.supporters.models import Supporter

    db.session.add(
        Supporter(email="evil@example.net", first_name="Eve\r\nBcc: victim@example.com",
                  last_name="X\nSubject: spam", state="subscribed")
    )  # fmt: skip
    db.session.commit()
    mailing = approved_mailing()
    services.send(None, mailing)
    db.session.commit()
    drain(mailing.id)
    [got] = sink.messages
    message = email.message_from_bytes(got.data, policy=policy.default)
    assert message["Bcc"] is None
    assert message["Subject"] == "Act now"
    assert "victim@example.com" in str(message["To"])  # inside the display name, folded


def test_subject_with_line_break_is_refused(db, make_user):
    from campaign.core.errors import ValidationError

    with pytest.raises(ValidationError) as error:
        services.create_mailing(None, kind="free", subject="Hi\r\nBcc: x@y.z", body="b",
                                everyone=True)  # fmt: skip
    assert error.value.field == "subject"


def test_a_claim_takes_no_more_than_asked(db, make_supporters, approved_mailing):
    make_supporters(80)
    mailing = approved_mailing()
    services.send(None, mailing)
    db.session.commit()
    first = outbox.claim(mailing.id, 50, 30)
    second = outbox.claim(mailing.id, 50, 30)
    assert (len(first), len(second)) == (50, 30)
    assert {r.delivery_id for r in first}.isdisjoint(r.delivery_id for r in second)


def _failing_for(language: str):
    """A Composer class that cannot compose ``language`` (the outbox's ComposerSet makes them)."""

    class Failing(compose.Composer):
        def __init__(self, mailing_id, content, lang, *rest):
            if lang == language:
                raise RuntimeError("template error")
            super().__init__(mailing_id, content, lang, *rest)

    return Failing


@pytest.mark.commits  # sends on worker threads, each on a connection of its own
def test_a_top_up_that_cannot_be_composed_goes_back_to_the_queue(
    db, sink, make_supporters, approved_mailing, monkeypatch
):
    """Claimed rows whose messages cannot be built are queued again at once, attempts as before."""
    from campaign.supporters.models import Supporter

    make_supporters(80)
    mailing = approved_mailing()
    services.send(None, mailing)
    # The last 20 deliveries (claims go by delivery id) are for French speakers.
    last = select(Delivery.supporter_id).order_by(Delivery.id.desc()).limit(20)
    db.session.execute(
        update(Supporter).where(Supporter.id.in_(last.scalar_subquery())).values(language="fr")
    )
    db.session.commit()
    monkeypatch.setattr(compose, "Composer", _failing_for("fr"))
    outbox.run_batch(mailing.id)
    db.session.expire_all()
    states = dict(
        db.session.execute(select(Delivery.state, func.count()).group_by(Delivery.state)).all()
    )
    assert states.get("sending", 0) == 0
    assert 50 <= states["sent"] < 80 and states["sent"] + states["queued"] == 80
    assert len(sink.messages) == states["sent"]
    assert set(db.session.scalars(select(Delivery.attempts).where(Delivery.state == "queued"))) == {
        0
    }


@pytest.mark.commits  # sends on worker threads, each on a connection of its own
def test_a_first_claim_that_cannot_be_composed_goes_back_to_the_queue(
    db, make_supporters, approved_mailing, monkeypatch
):
    make_supporters(10, language="fr")
    mailing = approved_mailing()
    services.send(None, mailing)
    db.session.commit()
    monkeypatch.setattr(compose, "Composer", _failing_for("fr"))
    with pytest.raises(RuntimeError, match="template error"):
        outbox.run_batch(mailing.id)
    db.session.expire_all()
    rows = db.session.execute(select(Delivery.state, Delivery.attempts)).all()
    assert len(rows) == 10 and set(rows) == {("queued", 0)}
