"""Export (spreadsheet-safe, role-limited, audited), access and erasure."""

import csv
import io

import pytest
from sqlalchemy import func, select

from campaign.audit.models import AuditEvent
from campaign.supporters import services
from campaign.supporters.models import ConsentEvent, ListMember, Supporter, SuppressedAddress


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+1 555", "'+1 555"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("Ana", "Ana"),
        ("a=b", "a=b"),
        (None, ""),
    ],
)
def test_cells_that_spreadsheets_would_run_are_escaped(value, shown):
    assert services.csv_safe(value) == shown


def test_list_export_is_escaped_audited_and_role_limited(app, db, login, make_supporter):
    evil = make_supporter(first_name="=cmd|' /C calc'!A0", last_name="@SUM(1)", city="-London")
    plain = make_supporter(first_name="Ana")
    lst = services.save_list(None, None, "Export me")
    services.add_to_list(None, lst, [evil.id, plain.id])
    db.session.commit()
    assert login("campaigner").get(f"/supporters/lists/{lst.id}/export.csv").status_code == 403
    response = login("coordinator").get(f"/supporters/lists/{lst.id}/export.csv", buffered=True)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert len(rows) == 2
    first = rows[0]
    assert (first["first_name"], first["last_name"], first["city"]) == (
        "'=cmd|' /C calc'!A0", "'@SUM(1)", "'-London",
    )  # fmt: skip
    assert rows[1]["first_name"] == "Ana"
    audit = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "supporters.export"))
    assert audit is not None and "Export me" in audit.summary


def test_segment_export(app, db, login, make_supporter):
    make_supporter(language="fr")
    make_supporter(language="en")
    segment = services.save_segment(None, None, "French", {"languages": ["fr"]})
    db.session.commit()
    response = login("coordinator").get(
        f"/supporters/segments/{segment.id}/export.csv", buffered=True
    )
    body = response.get_data(as_text=True)
    assert len(body.strip().splitlines()) == 2 and ",fr," in body


def test_a_supporter_can_have_all_their_data(app, db, login, make_supporter):
    person = make_supporter(first_name="Ana", interests=["europe"])
    lst = services.save_list(None, None, "Petition")
    services.add_to_list(None, lst, [person.id])
    db.session.commit()
    response = login("coordinator").get(f"/supporters/{person.id}/data.json")
    data = response.get_json()
    assert data["supporter"]["email"] == person.email and data["supporter"]["interests"] == [
        "europe"
    ]
    assert data["lists"] == ["Petition"]
    assert data["consent_log"][0]["new_state"] == "subscribed"
    assert (
        login("campaigner", "c@example.org").get(f"/supporters/{person.id}/data.json").status_code
        == 403
    )


def test_erasure_deletes_the_person_keeps_counts_and_a_keyed_hash(app, db, login, make_supporter):
    from campaign.cases.services import create_case
    from campaign.supporters.models import Action

    person = make_supporter(email="Erase.Me@example.org", first_name="Ana")
    keep = make_supporter()
    case = create_case(None, {"title": "UA"})
    lst = services.save_list(None, None, "L")
    services.add_to_list(None, lst, [person.id, keep.id])
    db.session.add(
        Action(case_id=case.id, supporter_id=person.id, channel="email", source="t", country="ES")
    )
    db.session.commit()
    person_id = person.id
    coordinator = login("coordinator")
    # Erasing is for good: without the tick nothing is erased and the page says why.
    response = coordinator.post(f"/supporters/{person_id}/erase")
    assert response.status_code == 302
    page = coordinator.get(response.headers["Location"]).get_data(as_text=True)
    assert "Nothing was erased: tick the box to confirm." in page
    db.session.expire_all()
    assert db.session.get(Supporter, person_id) is not None
    response = coordinator.post(f"/supporters/{person_id}/erase", data={"confirm": "y"})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Supporter, person_id) is None
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(ConsentEvent)
            .where(ConsentEvent.supporter_id == person_id)
        )
        == 0
    )
    assert db.session.scalar(select(func.count()).select_from(ListMember)) == 1
    action = db.session.scalar(select(Action))
    assert (action.supporter_id, action.case_id, action.country) == (None, case.id, "ES")
    digests = list(db.session.scalars(select(SuppressedAddress.digest)))
    assert len(digests) == 1 and "erase" not in digests[0].lower() and len(digests[0]) == 64
    assert services.is_erased("erase.me@example.org") and services.erased_count() == 1
    audit = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "supporter.erase"))
    assert "example.org" not in audit.summary  # the log keeps no address either
    assert (
        login("campaigner", "c2@example.org").post(f"/supporters/{keep.id}/erase").status_code
        == 403
    )


def test_erasure_ends_unsent_copies_and_keeps_the_counts(app, db, make_supporter):
    # The outbox is the mailings domain's: it hears of the erasure through
    # supporters.signals.supporter_erasing (mailings/hooks.py).
    from campaign.mailings.models import Delivery, DeliveryState, Mailing, MailingState

    person, other = make_supporter(), make_supporter()
    mailing = Mailing(subject="UA 1/26", state=MailingState.SENDING)
    earlier = Mailing(subject="UA 2/26", state=MailingState.SENT)
    db.session.add_all([mailing, earlier])
    db.session.flush()
    queued = Delivery(mailing_id=mailing.id, supporter_id=person.id)
    sent = Delivery(mailing_id=earlier.id, supporter_id=person.id, state=DeliveryState.SENT)
    untouched = Delivery(mailing_id=mailing.id, supporter_id=other.id)
    db.session.add_all([queued, sent, untouched])
    db.session.commit()

    services.erase(None, person)
    db.session.commit()
    db.session.expire_all()
    assert (queued.state, queued.supporter_id, queued.last_error) == (
        DeliveryState.SUPPRESSED,
        None,
        "supporter erased",
    )
    assert (sent.state, sent.supporter_id) == (DeliveryState.SENT, None)
    assert untouched.state == DeliveryState.QUEUED
