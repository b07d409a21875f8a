"""Segment filters and the mailable audience (the contract of mailings)."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from campaign.core.errors import ValidationError
from campaign.supporters import services


@pytest.fixture
def people(app, db, make_supporter):
    s = {
        "ana": make_supporter(language="es", country="ES", interests=["europe", "torture"]),
        "bob": make_supporter(language="en", country="GB", interests=["africa"]),
        "chloe": make_supporter(language="fr", country="FR", interests=[]),
        "dmitri": make_supporter(state="unsubscribed", language="ru", country="RU"),
        "eve": make_supporter(state="pending", language="en", country="IE", interests=["europe"]),
    }
    s["bob"].state_changed_at = datetime(2024, 1, 1, tzinfo=UTC)
    s["ana"].state_changed_at = datetime(2025, 6, 1, tzinfo=UTC)
    db.session.commit()
    return s


def ids_of(filters) -> set[int]:
    from campaign.extensions import db

    query = services.segment_select(services.seg.clean_filters(filters))
    return set(db.session.scalars(query))


def names(people, ids) -> set[str]:
    return {name for name, s in people.items() if s.id in ids}


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({}, {"ana", "bob", "chloe", "dmitri", "eve"}),
        ({"languages": ["en"]}, {"bob", "eve"}),
        ({"languages": "es, FR"}, {"ana", "chloe"}),
        ({"countries": ["gb", "RU"]}, {"bob", "dmitri"}),
        ({"interests": ["europe"]}, {"ana", "eve"}),
        ({"interests": ["africa", "torture"]}, {"ana", "bob"}),
        ({"states": ["subscribed"]}, {"ana", "bob", "chloe"}),
        ({"states": ["subscribed"], "state_before": "2025-01-01"}, {"bob"}),
        (
            {"states": ["subscribed"], "state_since": "2025-01-01", "languages": ["es", "fr"]},
            {"ana", "chloe"},
        ),
        ({"languages": ["en"], "interests": ["europe"]}, {"eve"}),
    ],
)
def test_profile_and_state_filters(people, filters, expected):
    assert names(people, ids_of(filters)) == expected
    assert services.count(filters) == len(expected)


def test_activity_filters(app, db, people):
    from campaign.cases.services import create_case
    from campaign.supporters.models import Action

    case = create_case(None, {"title": "UA"})
    other = create_case(None, {"title": "Other"})
    now = datetime.now(UTC)
    ana, bob = people["ana"].id, people["bob"].id
    old = now - timedelta(days=200)
    for case_id, supporter_id, channel, at in (
        (case.id, ana, "email", now),
        (case.id, ana, "letter", now),
        (other.id, bob, "email", old),
    ):
        db.session.add(
            Action(
                case_id=case_id,
                supporter_id=supporter_id,
                channel=channel,
                source="t",
                created_at=at,
            )
        )
    db.session.commit()
    assert names(people, ids_of({"acted_on_case": case.id})) == {"ana"}
    assert names(people, ids_of({"acted_on_case": other.id})) == {"bob"}
    inactive = names(people, ids_of({"no_action_months": 3}))
    assert inactive == {"bob", "chloe", "dmitri", "eve"}
    assert names(people, ids_of({"no_action_months": 12})) == {"chloe", "dmitri", "eve"}


def test_received_mailing_filter(app, db, people):
    from campaign.mailings.models import Delivery, Mailing

    mailing = Mailing(subject="UA 1/26", state="sent")
    other = Mailing(subject="UA 2/26", state="sent")
    db.session.add_all([mailing, other])
    db.session.flush()
    db.session.add_all([
        Delivery(mailing_id=mailing.id, supporter_id=people["ana"].id, state="sent"),
        Delivery(mailing_id=mailing.id, supporter_id=people["bob"].id, state="bounced"),
        Delivery(mailing_id=other.id, supporter_id=people["chloe"].id, state="sent"),
    ])  # fmt: skip
    db.session.commit()
    assert names(people, ids_of({"received_mailing": mailing.id})) == {"ana"}


def test_audience_is_the_union_of_lists_and_segments_and_subscribed_only(app, db, people):
    lst = services.save_list(None, None, "Volunteers")
    services.add_to_list(None, lst, [people["bob"].id, people["dmitri"].id, people["eve"].id])
    segment = services.save_segment(None, None, "Spanish", {"languages": ["es"]})
    empty = services.save_segment(None, None, "Nobody", {"countries": ["JP"]})
    db.session.commit()

    def audience(**kw):
        return names(people, set(db.session.scalars(services.audience_select(**kw))))

    assert audience(list_ids=[lst.id]) == {"bob"}  # dmitri unsubscribed, eve pending
    assert audience(segment_ids=[segment.id]) == {"ana"}
    assert audience(list_ids=[lst.id], segment_ids=[segment.id, empty.id]) == {"ana", "bob"}
    assert audience() == set()
    # Usable in the mailing pipeline's INSERT ... SELECT (as a subquery).
    sub = services.audience_select(list_ids=[lst.id]).subquery()
    assert db.session.scalar(select(services.func.count()).select_from(sub)) == 1


def test_bad_filters_name_their_field(app):
    for filters, field in (
        ({"languages": ["xx"]}, "languages"),
        ({"countries": ["Atlantis"]}, "countries"),
        ({"interests": ["cats"]}, "interests"),
        ({"states": ["happy"]}, "states"),
        ({"state_since": "yesterday"}, "state_since"),
        ({"no_action_months": "-3"}, "no_action_months"),
    ):
        with pytest.raises(ValidationError) as caught:
            services.count(filters)
        assert caught.value.field == field


def test_staff_see_a_live_count_while_building_a_segment(app, people, login):
    client = login("viewer")
    page = client.get("/supporters/segments/new?languages=en").get_data(as_text=True)
    assert 'id="live-count">2<' in page
    count = client.get("/supporters/segments/count?languages=es&interests=europe")
    assert count.get_json() == {"count": 1}
    assert client.get("/supporters/segments/count?languages=zz").status_code == 422
    saved = login("campaigner").post(
        "/supporters/segments/new", data={"name": "English", "languages": "en"}
    )
    assert saved.status_code == 302
