"""Approval binds content and audience (issue #16 item 1): a change to what is sent, or
to whom, after approval returns the mailing to "needs approval"; Send and a due
schedule refuse a stale approval."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from campaign.audit.models import AuditEvent
from campaign.mailings import approval, services
from campaign.mailings.models import Delivery, Mailing


@pytest.fixture
def app_config(mail_config):
    mail_config["MAILING_PARALLEL_TASKS"] = 1
    return mail_config


@pytest.fixture
def appeal(db, make_supporters):
    """An approved appeal of an active UA, to a static list of three supporters."""
    from campaign.cases import services as cases
    from campaign.letters import services as letters
    from campaign.supporters import services as supporters

    case = cases.create_case(
        None,
        {"title": "Two leaders jailed", "summary": "They were sentenced.", "background": "B",
         "recommended_actions": "Write.", "languages": ["en"],
         "deadline": date.today() + timedelta(days=20)},
    )  # fmt: skip
    cases.link_person(None, case, cases.save_person(None, None, {"name": "Akhtem Chiygoz"}))
    cases.save_target(None, case, None, {"name": "Prosecutor General", "address": "Moscow"})
    cases.issue_case(None, case)
    letters.save_letter(
        None, case, None, {"language": "en", "subject": "Appeal", "body": "Free them."}
    )
    ids, extra = _ids(make_supporters(3)), _ids(make_supporters(2, start=100))
    lst = supporters.save_list(None, None, "Responders")
    supporters.add_to_list(None, lst, ids)
    mailing = services.create_mailing(
        None, kind="appeal", subject="Act now", case_id=case.id, list_ids=[lst.id]
    )
    services.approve(None, mailing)
    db.session.commit()
    return {"case": case, "mailing": mailing, "list": lst, "extra": extra}


def _ids(numbers):
    from campaign.extensions import db
    from campaign.supporters.models import Supporter

    emails = [f"s{n}@example.net" for n in numbers]  # make_supporters' addresses
    return list(db.session.scalars(select(Supporter.id).where(Supporter.email.in_(emails))))


def _refused(mailing):
    from campaign.core.errors import Conflict

    with pytest.raises(Conflict) as refused:
        services.send(None, mailing)
    return refused.value.message


def test_an_untouched_approval_sends(db, appeal):
    services.send(None, appeal["mailing"])
    assert appeal["mailing"].state == "sending" and appeal["mailing"].total == 3


@pytest.mark.parametrize(
    "change, what",
    [
        ("summary", "UA"),
        ("letter", "letters"),
        ("target", "officials"),
        ("members", "audience"),
        ("person", "UA"),
    ],
)
def test_a_change_after_approval_needs_a_new_approval(db, appeal, change, what):
    from campaign.cases import services as cases
    from campaign.letters.models import LetterTemplate
    from campaign.supporters import services as supporters

    case, mailing = appeal["case"], appeal["mailing"]
    if change == "summary":
        cases.update_case(None, case, {"summary": "Something else entirely."})
    elif change == "letter":
        letter = db.session.scalar(select(LetterTemplate))
        from campaign.letters import services as letters

        letters.save_letter(None, case, letter, {"language": "en", "subject": "Appeal",
                                                  "body": "Changed words."})  # fmt: skip
    elif change == "target":
        cases.save_target(None, case, None, {"name": "Someone new", "email": "x@example.org"})
    elif change == "members":
        supporters.add_to_list(None, appeal["list"], appeal["extra"])
    elif change == "person":
        cases.link_person(None, case, cases.save_person(None, None, {"name": "Another"}))
    db.session.commit()
    assert approval.approval_changes(mailing) and what in " ".join(
        approval.approval_changes(mailing)
    )
    message = _refused(mailing)
    assert "approve" in message and what in message
    assert db.session.scalar(select(Delivery.id)) is None
    # A new approval covers the change.
    services.approve(None, mailing)
    services.send(None, mailing)
    assert mailing.state == "sending"


def test_the_mailing_page_says_it_needs_approval_again(db, appeal, login):
    from campaign.cases import services as cases

    cases.update_case(None, appeal["case"], {"summary": "Edited after approval."})
    db.session.commit()
    client = login("coordinator")
    page = client.get(f"/mailings/{appeal['mailing'].id}").get_data(as_text=True)
    assert "Needs approval again" in page
    assert "Send to" not in page  # no send form for a stale approval
    assert "/approve" in page
    # A removed member of the list is a change too, and the page lists what changed.
    response = client.post(
        f"/mailings/{appeal['mailing'].id}/send", data={"expected": "3", "confirm": "y"}
    )
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "approve it again" in page


def test_a_due_schedule_with_a_stale_approval_is_not_sent(db, appeal):
    from campaign.cases import services as cases
    from campaign.core.types import utcnow
    from campaign.mailings.tasks import sweep

    mailing = appeal["mailing"]
    services.send(None, mailing, at=utcnow() + timedelta(minutes=5))
    db.session.commit()
    cases.update_case(None, appeal["case"], {"recommended_actions": "Different asks."})
    mailing.scheduled_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    sweep()
    db.session.expire_all()
    mailing = db.session.get(Mailing, mailing.id)
    assert mailing.state == "draft" and mailing.approved_at is None
    assert "approval" in mailing.pause_reason
    assert db.session.scalar(select(Delivery.id)) is None
    assert db.session.scalar(select(AuditEvent.id).where(AuditEvent.action == "mailing.unapproved"))


def test_the_list_page_shows_approved_mailings_using_a_list(db, appeal, login):
    client = login("viewer")
    page = client.get("/supporters/lists").get_data(as_text=True)
    assert "Act now" in page and "approved" in page


def test_an_everyone_mailing_stays_approved_as_supporters_join(db, make_supporters):
    make_supporters(2)
    mailing = services.create_mailing(None, kind="free", subject="News", body="B", everyone=True)
    services.approve(None, mailing)
    make_supporters(2, start=50)  # sign-ups and unsubscribes are not staff edits
    assert approval.approval_changes(mailing) == []


def test_a_started_mailing_does_not_ask_for_approval_again(db, appeal, login):
    """The UA edited once the appeal is on its way: nothing to approve any more."""
    from campaign.cases import services as cases

    services.send(None, appeal["mailing"])
    cases.update_case(None, appeal["case"], {"summary": "News after the appeal went out."})
    db.session.commit()
    page = login("coordinator").get(f"/mailings/{appeal['mailing'].id}").get_data(as_text=True)
    assert "Needs approval again" not in page
    assert "Approved" in page
