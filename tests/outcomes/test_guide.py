"""The guided path: readiness before each step, the next step, closed cases read-only."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from campaign.cases import services as cases
from campaign.core.errors import Conflict, ValidationError
from campaign.outcomes import guide, services
from tests.outcomes.test_closing import outcomes_for


@pytest.fixture
def draft(app, db):
    case = cases.create_case(
        None,
        {"title": "Journalist detained", "summary": "Held.", "recommended_actions": "Release him."},
    )
    db.session.commit()
    return case


def complete(case, db):
    """Everything the readiness list asks for."""
    from campaign.letters import services as letters

    cases.update_case(
        None,
        case,
        {
            "country_code": "UA",
            "index_reference": "EUR 50/7271/2017",
            "deadline": cases.org_today() + timedelta(days=30),
            "languages": ["en"],
        },
    )
    cases.link_person(None, case, cases.save_person(None, None, {"name": "Ilmi Umerov"}))
    cases.save_target(
        None, case, None, {"title": "Prosecutor General", "salutation": "Dear Prosecutor General"}
    )
    letters.save_letter(
        None,
        case,
        None,
        {"language": "en", "subject": "Release him", "body": "{{ salutation }}, release him."},
    )
    db.session.commit()


def test_an_incomplete_draft_names_what_is_missing_with_links(draft, login):
    page = login("campaigner").get(f"/cases/{draft.id}/issue").get_data(as_text=True)
    for missing in (
        "People at risk",
        "Officials to write to",
        "A model letter in English",
        "An appeal deadline",
        "A country",
        "The index reference",
    ):
        assert missing in page
    assert "6 items missing" in page
    assert f"/cases/{draft.id}/targets/new" in page  # the link that fixes it
    assert f"/cases/{draft.id}/letters/new" in page
    assert f"it will be <strong>UA 1/{cases.org_today().year % 100:02d}</strong>" in page
    assert "A coordinator issues the UA" in page  # a campaigner gets no issue button


def test_a_campaigner_cannot_issue_update_or_close(draft, login, db):
    client = login("campaigner")
    assert (
        client.post(f"/cases/{draft.id}/issue", data={"confirm": "y", "reason": "x"}).status_code
        == 403
    )
    assert draft.status == "draft"
    cases.issue_case(None, draft)
    db.session.commit()
    assert client.get(f"/cases/{draft.id}/updates/new").status_code == 403
    update = {"kind": "further_action", "body": "News", "confirm": "y"}
    assert client.post(f"/cases/{draft.id}/updates/new", data=update).status_code == 403
    assert client.post(f"/cases/{draft.id}/close", data={}).status_code == 403
    assert "Issue an update" not in client.get(f"/cases/{draft.id}").get_data(as_text=True)


def test_a_coordinator_issues_incomplete_only_with_a_reason(draft, login, db):
    client = login("coordinator")
    refused = client.post(f"/cases/{draft.id}/issue", data={"confirm": "y"})
    assert refused.status_code == 422
    assert "give the reason to go ahead anyway" in refused.get_data(as_text=True)
    db.session.refresh(draft)
    assert draft.status == "draft" and draft.number is None
    issued = client.post(
        f"/cases/{draft.id}/issue", data={"confirm": "y", "reason": "Trial is tomorrow."}
    )
    assert issued.status_code == 302
    db.session.refresh(draft)
    assert draft.status == "active" and draft.number == 1
    [note] = services.notes_of(draft)
    assert note.step == "issue" and note.reason == "Trial is tomorrow."
    assert "people" in note.missing and "letter-en" in note.missing
    timeline = services.timeline(draft)
    assert ("note", "Issued with items missing") in [(e["kind"], e["title"]) for e in timeline]


def test_a_ready_draft_issues_without_a_reason_and_gets_the_number_shown(draft, login, db):
    complete(draft, db)
    client = login("coordinator")
    page = client.get(f"/cases/{draft.id}/issue").get_data(as_text=True)
    assert "Everything is ready." in page
    shown = guide.next_label(draft)
    assert client.post(f"/cases/{draft.id}/issue", data={"confirm": "y"}).status_code == 302
    db.session.refresh(draft)
    assert draft.label == shown
    assert services.notes_of(draft) == []


def test_required_items_cannot_be_overridden(app, db):
    case = cases.create_case(None, {"title": "No summary"})
    with pytest.raises(ValidationError) as refused:
        guide.issue(None, case, reason="In a hurry")
    assert refused.value.field == "summary"
    assert case.status == "draft"


def test_a_deadline_in_the_past_is_named(draft, db, login):
    complete(draft, db)
    client = login("campaigner")
    response = client.post(
        f"/cases/{draft.id}/edit",
        data={
            "title": draft.title,
            "deadline": "2001-03-01",
            "summary": "Held.",
            "recommended_actions": "Release him.",
            "languages": "en",
            "country_code": "UA",
        },
    )
    assert response.status_code == 302
    page = client.get(f"/cases/{draft.id}").get_data(as_text=True)
    assert "The appeal deadline, 1 March 2001, has passed." in page
    items = {i.key: i for i in guide.issue_readiness(draft).items}
    assert not items["deadline"].ok and "has passed" in items["deadline"].detail


def test_after_issuing_the_next_step_is_the_appeal_mailing(draft, db, login):
    complete(draft, db)
    guide.issue(None, draft)
    db.session.commit()
    assert guide.next_step(draft).text == "Send the appeal"
    client = login("campaigner")
    page = client.get(f"/cases/{draft.id}").get_data(as_text=True)
    assert f'href="/cases/{draft.id}/appeal"' in page and "Send the appeal" in page
    assert client.get(f"/cases/{draft.id}/appeal").status_code == 200
    response = client.post(f"/cases/{draft.id}/appeal")
    assert response.status_code == 302 and "/mailings/" in response.headers["Location"]
    mailing = guide.appeal_mailing(draft)
    assert mailing.subject == f"{draft.label}: Journalist detained"
    assert mailing.kind == "appeal" and mailing.audience["all"] is True
    assert guide.next_step(draft).text == "Approve and send the appeal"
    client.post(f"/cases/{draft.id}/appeal")  # twice: still one draft
    from campaign.mailings.models import Mailing

    assert db.session.query(Mailing).filter_by(case_id=draft.id).count() == 1


def test_the_appeal_needs_its_letters(draft, db):
    cases.issue_case(None, draft)
    with pytest.raises(ValidationError, match="Write the model letters first"):
        guide.draft_appeal(None, draft)


def test_after_an_update_the_next_step_is_its_mailing(draft, db, login):
    complete(draft, db)
    guide.issue(None, draft)
    mailing = guide.draft_appeal(None, draft)
    mailing.started_at, mailing.state = cases.utcnow(), "sent"
    db.session.commit()
    client = login("coordinator")
    response = client.post(
        f"/cases/{draft.id}/updates/new",
        data={"kind": "further_action", "body": "Sentenced.", "confirm": "y"},
    )
    assert response.status_code == 302
    assert guide.next_step(draft).text == "Send the first update mailing"


def test_a_closed_case_is_read_only_except_reopen_and_replies(draft, db, login):
    complete(draft, db)
    guide.issue(None, draft)
    services.close_case(None, draft, decision="no_further_action", outcomes=outcomes_for(draft))
    db.session.commit()
    client = login("coordinator")
    page = client.get(f"/cases/{draft.id}").get_data(as_text=True)
    assert "Appeals before" not in page and "Issue an update" not in page
    assert ">Remove<" not in page and "Add a target" not in page and ">Edit<" not in page
    assert "Reopen" in page and "Log a reply" in page
    edit = client.post(f"/cases/{draft.id}/edit", data={"title": "Changed"})
    assert edit.status_code == 302
    db.session.refresh(draft)
    assert draft.title == "Journalist detained"
    assert client.post(f"/cases/{draft.id}/people", data={"name": "X"}).status_code == 302
    assert len(draft.people) == 1
    refused = client.post(f"/cases/{draft.id}/reopen", data={"reason": ""})
    assert refused.status_code == 422
    assert (
        client.post(f"/cases/{draft.id}/reopen", data={"reason": "Re-arrested"}).status_code == 302
    )
    db.session.refresh(draft)
    assert draft.status == "active"
    assert ("note", "Reopened") in [(e["kind"], e["title"]) for e in services.timeline(draft)]


def test_reopen_only_a_closed_case(draft, db):
    with pytest.raises(Conflict):
        guide.reopen(None, draft, reason="x")


def test_the_timeline_puts_a_notice_after_its_outcome_with_plurals(draft, db, make_supporters):
    from campaign.mailings.models import Delivery, Mailing

    complete(draft, db)
    guide.issue(None, draft)
    services.close_case(None, draft, decision="no_further_action", outcomes=outcomes_for(draft))
    make_supporters(1)
    mailing = Mailing(
        kind="outcome",
        case_id=draft.id,
        subject="Released",
        state="sent",
        audience={},
        started_at=cases.utcnow(),
    )
    db.session.add(mailing)
    db.session.flush()
    db.session.add(Delivery(mailing_id=mailing.id, supporter_id=1, state="sent"))
    db.session.commit()
    kinds = [(e["kind"], e["title"]) for e in services.timeline(draft)]
    assert kinds.index(("mailing", "Outcome notice sent to 1 supporter")) > [
        k for k, _t in kinds
    ].index("outcome")


def test_an_outcome_does_not_repeat_the_status_in_the_note(draft, db):
    complete(draft, db)
    guide.issue(None, draft)
    outcomes = outcomes_for(draft)
    outcomes[0]["note"] = "without charge"
    services.close_case(None, draft, decision="no_further_action", outcomes=outcomes)
    status = draft.people[0].current_status
    assert (status.status_label, status.note) == ("Released", "without charge")


def test_a_person_added_by_name_is_not_named_publicly_by_default(draft, login):
    client = login("campaigner")
    client.post(f"/cases/{draft.id}/people", data={"name": "Nariman Dzhelyal"})
    assert draft.people[0].consent_to_name is False
    page = client.get("/people/new").get_data(as_text=True)
    assert 'name="consent_to_name" type="checkbox" value="y">' in page  # not checked
    person_page = client.get(f"/people/{draft.people[0].id}").get_data(as_text=True)
    assert "· Must not be named publicly" not in person_page
    assert "Must not be named publicly" in person_page


def test_next_step_for_a_case_whose_appeals_continue(draft, db):
    complete(draft, db)
    guide.issue(None, draft)
    mailing = guide.draft_appeal(None, draft)
    mailing.started_at, mailing.state = cases.utcnow(), "sent"
    services.close_case(
        None, draft, decision="continue", outcomes=outcomes_for(draft, "conviction_upheld")
    )
    assert "Appeals continue after “conviction upheld”" in guide.next_step(draft).text
    draft.deadline = date(2001, 3, 1)
    assert guide.next_step(draft).text.startswith("The deadline has passed")


def test_the_dashboard_shows_a_next_step_per_active_ua_and_sensible_deadlines(app, db, login):
    from campaign.cases.models import Case
    from campaign.demo import load

    load(supporters=5)
    page = login("viewer").get("/").get_data(as_text=True)
    kuku = db.session.query(Case).filter(Case.title.like("Conviction%")).one()
    days = (kuku.current_deadline - cases.org_today()).days
    assert f"{days} days left" not in page  # years away: a date, not a countdown
    assert "appeals open until 31 December 2030" in page
    assert "Conviction upheld on 25 June 2020; appeals continue" in page
    assert "Next steps" in page
    active = db.session.query(Case).filter_by(status="active").all()
    steps = {c.id: s for c, s in guide.next_steps()}
    assert all(c.id in steps for c in active)
    for case in active:
        assert steps[case.id].text in page.replace("&#34;", '"').replace("&#39;", "'")


def test_labels_are_words_not_codes(app, db, login):
    from campaign.demo import load
    from campaign.supporters.models import Action

    load(supporters=5)
    from campaign.cases.models import Case

    case = db.session.query(Case).filter(Case.number == 205).one()
    db.session.add(Action(case_id=case.id, channel="fax", source="staff"))
    db.session.commit()
    client = login("campaigner")
    case_page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert '<th scope="row">Fax</th>' in case_page
    reports = client.get("/reports/").get_data(as_text=True)
    assert 'class="chart-value">1 appeals' in reports
    draft = cases.create_case(None, {"title": "New"})
    db.session.commit()
    letter_form = client.get(f"/cases/{draft.id}/letters/new").get_data(as_text=True)
    assert "Draft itself" not in letter_form and "The appeal (not an update)" in letter_form


def test_the_mailing_form_offers_only_the_updates_of_the_chosen_ua(draft, db, login):
    other = cases.create_case(None, {"title": "Other", "summary": "S", "recommended_actions": "A"})
    for case in (draft, other):
        cases.issue_case(None, case)
        cases.add_update(None, case, kind="further_action", body="News")
    db.session.commit()
    page = login("campaigner").get(f"/mailings/new?kind=update&case_id={draft.id}")
    html = page.get_data(as_text=True)
    assert f"first update of {draft.label}" in html
    assert f"first update of {other.label}" not in html


def test_a_supporters_interests_read_as_words(app, db, login):
    from campaign.supporters.models import Supporter

    supporter = Supporter(
        email="i@example.org", language="en", state="subscribed", interests=["europe", "expression"]
    )
    db.session.add(supporter)
    db.session.commit()
    page = login("viewer").get(f"/supporters/{supporter.id}").get_data(as_text=True)
    assert "Europe and Central Asia, Freedom of expression" in page
    assert "europe, expression" not in page
