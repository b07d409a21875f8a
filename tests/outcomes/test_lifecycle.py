"""Update mailings, scheduled outcome notices and deadline reminders, with a controlled clock."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import func, select, update

from campaign.cases import services as cases
from campaign.letters.services import record_action
from campaign.mailings import services as mailings
from campaign.mailings.audience import audience_size
from campaign.mailings.models import Delivery, Mailing
from campaign.outcomes import lifecycle, services
from campaign.outcomes.models import OutcomeNotice, Reminder
from campaign.supporters.models import Supporter

NOON = datetime(2030, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def story(app, db):
    """UA 205/30 with two people, an appeal delivered to four supporters, one of whom acted."""
    with time_machine.travel(NOON - timedelta(days=10), tick=False):
        case = cases.create_case(
            None, {"title": "Tatar leaders", "summary": "S", "recommended_actions": "A",
                   "deadline": date(2030, 3, 3)}, number=205, year=2030,
        )  # fmt: skip
        cases.issue_case(None, case)
        for name in ("Ilmi Umerov", "Akhtem Chiygoz"):
            cases.link_person(None, case, cases.save_person(None, None, {"name": name}))
        zones = ["Europe/London", "Asia/Tokyo", "America/New_York", "Europe/Kyiv"]
        people = [
            Supporter(email=f"s{i}@example.org", first_name=f"S{i}", state="subscribed",
                      timezone=zone, language="en")
            for i, zone in enumerate(zones)
        ]  # fmt: skip
        db.session.add_all(people)
        db.session.flush()
        appeal = mailings.create_mailing(
            None, kind="appeal", subject="Appeal", case_id=case.id, everyone=True
        )
        mailings.approve(None, appeal)
        mailings.start(None, appeal)
        db.session.execute(update(Delivery).values(state="sent"))
        record_action(case, supporter=people[1], channel="letter", source="email link")
        db.session.commit()
    return case, people


def mailings_of(case, kind):
    return list(Mailing.query.filter_by(case_id=case.id, kind=kind).order_by(Mailing.id))


def test_an_update_drafts_a_mailing_to_the_case_audience(story, db):
    case, people = story
    people[3].state = "unsubscribed"  # left since the appeal
    update_ = cases.add_update(None, case, kind="further_action", body="Sentenced.")
    db.session.flush()
    [draft] = mailings_of(case, "update")
    assert draft.state == "draft" and draft.update_id == update_.id
    assert draft.subject == "UA 205/30: first update"
    assert audience_size(draft) == 3


def close(case, now=NOON, **notice):
    with time_machine.travel(now, tick=False):
        closing = services.close_case(
            None, case, decision="no_further_action",
            outcomes=[{"person_id": p.id, "outcome": "released", "on": date(2030, 2, 28)}
                      for p in case.people],
            text="Many thanks to all who sent appeals.",
        )  # fmt: skip
        return lifecycle.schedule_notice(None, case, closing, **notice)


def test_notice_at_09_local_time_waits_for_its_time_and_starts_once(story, db):
    case, _people = story
    notice = close(case, timing="local_morning", local_date=date(2030, 3, 2))
    db.session.commit()
    assert notice.send_at == datetime(2030, 3, 1, 19, 0, tzinfo=UTC)  # 09:00 at UTC+14
    assert lifecycle.start_due_notices(now=NOON) == 0
    later = datetime(2030, 3, 1, 19, 5, tzinfo=UTC)
    assert lifecycle.start_due_notices(now=later) == 1
    assert lifecycle.start_due_notices(now=later + timedelta(hours=1)) == 0
    db.session.commit()
    db.session.refresh(notice)
    main = db.session.get(Mailing, notice.mailing_id)
    thanks = db.session.get(Mailing, notice.thanks_mailing_id)
    # The thanks and the number of appeals are the message's own words (outcome.txt).
    from campaign.mailings import services as mailings

    assert "yours was one of 1 appeal for" in mailings.preview(thanks, "en")["text"]
    due = dict(
        db.session.execute(
            select(Supporter.email, Delivery.due_at)
            .join(Delivery, Delivery.supporter_id == Supporter.id)
            .where(Delivery.mailing_id.in_((main.id, thanks.id)))
        ).all()
    )
    assert due == {
        "s0@example.org": datetime(2030, 3, 2, 9, 0, tzinfo=UTC),  # London, GMT
        "s1@example.org": datetime(2030, 3, 2, 0, 0, tzinfo=UTC),  # Tokyo: the thank-you
        "s2@example.org": datetime(2030, 3, 2, 14, 0, tzinfo=UTC),  # New York, EST
        "s3@example.org": datetime(2030, 3, 2, 7, 0, tzinfo=UTC),  # Kyiv, EET
    }
    assert audience_size(thanks) == 1


def test_notice_at_an_organisation_time_catches_up_after_downtime(story, db):
    case, _people = story
    at = datetime(2030, 3, 1, 17, 30)  # typed by staff: Europe/London time
    notice = close(case, timing="org_time", at=at)
    db.session.commit()
    assert notice.send_at == datetime(2030, 3, 1, 17, 30, tzinfo=UTC)
    # The system was down from 17:00 until the next morning: the first tick sends it.
    assert lifecycle.start_due_notices(now=datetime(2030, 3, 2, 8, 0, tzinfo=UTC)) == 1
    db.session.commit()
    assert len(mailings_of(case, "outcome")) == 2
    assert lifecycle.start_due_notices(now=datetime(2030, 3, 2, 8, 1, tzinfo=UTC)) == 0


@pytest.mark.commits  # two threads, each on a connection of its own
def test_two_beats_start_a_notice_once(story, app, db):
    case, _people = story
    close(case, timing="org_time", at=datetime(2030, 3, 1, 12, 30))
    db.session.commit()
    barrier = threading.Barrier(2)
    results, errors = [], []

    def tick():
        with app.app_context():
            try:
                barrier.wait(5)
                results.append(lifecycle.start_due_notices(now=NOON + timedelta(hours=1)))
                db.session.commit()
            except Exception as error:  # noqa: BLE001 - asserted below
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=tick) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert sorted(results) == [0, 1]
    assert len(mailings_of(case, "outcome")) == 2


def test_a_notice_can_change_or_be_cancelled_until_it_starts(story, db):
    case, _people = story
    notice = close(case, timing="org_time", at=datetime(2030, 3, 1, 18, 0))
    with time_machine.travel(NOON, tick=False):
        lifecycle.edit_notice(
            None, notice, timing="local_morning", local_date=date(2030, 3, 5),
            texts={"subject": "UA 205/30: both men released"},
        )  # fmt: skip
        assert notice.subject == "UA 205/30: both men released"
        with pytest.raises(Exception, match="passed"):
            lifecycle.edit_notice(None, notice, timing="local_morning", local_date=date(2030, 2, 1))
        lifecycle.cancel_notice(None, notice)
    db.session.commit()
    assert lifecycle.start_due_notices(now=NOON + timedelta(days=30)) == 0
    assert mailings_of(case, "outcome") == []


def test_reminder_goes_once_to_those_who_did_not_act(story, db, app):
    case, _people = story
    app.config["REMINDER_DAYS_BEFORE"] = 3
    assert lifecycle.send_due_reminders(today=date(2030, 2, 20)) == 0  # too early
    assert lifecycle.send_due_reminders(today=date(2030, 3, 1)) == 1
    assert lifecycle.send_due_reminders(today=date(2030, 3, 2)) == 0  # never twice
    [reminder] = mailings_of(case, "reminder")
    assert reminder.subject == "UA 205/30: 2 days left to send your appeal"
    assert reminder.total == 3  # the one who acted is not reminded
    assert db.session.scalar(select(func.count(Reminder.id))) == 1


def test_no_reminder_after_the_deadline_or_the_close(story, db):
    case, _people = story
    assert lifecycle.send_due_reminders(today=date(2030, 3, 4)) == 0  # deadline passed
    close(case, timing="org_time", at=datetime(2030, 3, 1, 18, 0))
    assert lifecycle.send_due_reminders(today=date(2030, 3, 1)) == 0  # closed
    assert db.session.scalar(select(func.count(OutcomeNotice.id))) == 1
