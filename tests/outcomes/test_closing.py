from datetime import date

import pytest

from campaign.cases import services as cases
from campaign.core.errors import Conflict, ValidationError
from campaign.outcomes import services
from campaign.outcomes.models import summarise


@pytest.fixture
def case(app, db):
    case = cases.create_case(
        None, {"title": "Tatar leaders", "summary": "S", "recommended_actions": "A"},
        number=205, year=2016,
    )  # fmt: skip
    cases.issue_case(None, case)
    for name in ("Ilmi Umerov", "Akhtem Chiygoz"):
        cases.link_person(None, case, cases.save_person(None, None, {"name": name}))
    db.session.commit()
    return case


def outcomes_for(case, outcome="released", on=date(2017, 10, 25)):
    return [{"person_id": p.id, "outcome": outcome, "on": on, "note": ""} for p in case.people]


def test_no_further_action_closes_the_case_with_a_summary(case):
    closing = services.close_case(
        None, case, decision="no_further_action", outcomes=outcomes_for(case), text="Thanks!"
    )
    assert case.status == "closed"
    assert closing.summary == "Released"
    assert [p.current_status.status for p in case.people] == ["released", "released"]


def test_continue_keeps_the_case_active(case):
    closing = services.close_case(
        None, case, decision="continue", outcomes=outcomes_for(case, "conviction_upheld")
    )
    assert case.status == "active"
    assert closing.summary == "Conviction upheld"


def test_every_person_needs_a_valid_outcome(case, db):
    first = case.people[0]
    with pytest.raises(ValidationError, match="Akhtem Chiygoz"):
        services.close_case(
            None, case, decision="no_further_action",
            outcomes=[{"person_id": first.id, "outcome": "released", "on": date(2017, 1, 1)}],
        )  # fmt: skip
    bad = outcomes_for(case)
    bad[1]["outcome"] = "vanished"
    with pytest.raises(ValidationError) as refused:
        services.close_case(None, case, decision="no_further_action", outcomes=bad)
    assert refused.value.field == "outcomes-1-outcome"
    future = outcomes_for(case, on=date(2999, 1, 1))
    with pytest.raises(ValidationError, match="future"):
        services.close_case(None, case, decision="no_further_action", outcomes=future)
    with pytest.raises(ValidationError):
        services.close_case(None, case, decision="maybe", outcomes=outcomes_for(case))
    db.session.rollback()
    assert case.status == "active" and services.closings_of(case) == []


def test_a_closed_case_reopens_with_an_update_and_keeps_its_history(case):
    services.close_case(None, case, decision="no_further_action", outcomes=outcomes_for(case))
    with pytest.raises(Conflict):
        services.close_case(None, case, decision="no_further_action", outcomes=outcomes_for(case))
    cases.add_update(None, case, kind="further_action", body="Re-arrested in Simferopol.")
    assert case.status == "active"
    services.close_case(
        None, case, decision="no_further_action", outcomes=outcomes_for(case, "charges_dropped")
    )
    assert [c.summary for c in services.closings_of(case)] == ["Released", "Charges dropped"]


@pytest.mark.parametrize(
    ("outcomes", "summary"),
    [
        ([], "No outcome recorded"),
        (["released", "acquitted"], "Improvement for everyone"),
        (["released", "conviction_upheld"], "Improvement for 1 of 2"),
        (["executed", "died_in_custody"], "No improvement"),
    ],
)
def test_summaries(outcomes, summary):
    assert summarise(outcomes) == summary


def test_replies_are_logged_with_their_file(case, login, db):
    client = login("campaigner")
    from io import BytesIO

    response = client.post(
        f"/cases/{case.id}/replies",
        data={"received_on": "2017-11-02", "sender": "Prosecutor's Office",
              "text": "Your letter was received.", "file": (BytesIO(b"%PDF-1.4 reply"), "r.pdf")},
        content_type="multipart/form-data",
    )  # fmt: skip
    assert response.status_code == 302
    reply = services.replies_of(case)[0]
    assert (reply.sender, reply.filename, reply.size) == ("Prosecutor's Office", "r.pdf", 14)
    download = client.get(f"/cases/{case.id}/replies/{reply.id}/file")
    assert download.data == b"%PDF-1.4 reply"
    assert download.headers["Content-Disposition"].startswith("attachment")
    empty = client.post(
        f"/cases/{case.id}/replies", data={"received_on": "2017-11-02", "sender": "X"}
    )
    assert empty.status_code == 422 and "Paste the reply" in empty.get_data(as_text=True)
    assert len(services.replies_of(case)) == 1


def test_close_form_records_outcomes(case, login):
    client = login("coordinator")
    page = client.get(f"/cases/{case.id}/close").get_data(as_text=True)
    assert "Ilmi Umerov" in page and "Akhtem Chiygoz" in page
    ids = [p.id for p in case.people]
    data = {"decision": "no_further_action", "text": "Many thanks to all who sent appeals.",
            "timing": "local_morning", "local_date": "2099-01-01", "confirm": "y"}  # fmt: skip
    for i, person_id in enumerate(ids):
        data |= {f"outcomes-{i}-person_id": person_id, f"outcomes-{i}-outcome": "released",
                 f"outcomes-{i}-on": "2017-10-25", f"outcomes-{i}-note": ""}  # fmt: skip
    refused = client.post(f"/cases/{case.id}/close", data={**data, "outcomes-1-outcome": ""})
    assert refused.status_code == 422
    assert "Choose the outcome for Akhtem Chiygoz" in refused.get_data(as_text=True)
    unticked = client.post(f"/cases/{case.id}/close", data={**data, "confirm": ""})
    assert unticked.status_code == 422
    assert "Tick to confirm: the notice goes to everyone" in unticked.get_data(as_text=True)
    assert "Outcome: Released" not in client.get(f"/cases/{case.id}").get_data(as_text=True)
    response = client.post(f"/cases/{case.id}/close", data=data)
    assert response.status_code == 302 and "/notices/" in response.headers["Location"]
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "Outcome: Released" in page and "closed" in page
    assert "Outcome notice: scheduled for" in page


def test_timeline_tells_the_story_in_order(case):
    cases.add_update(None, case, kind="no_further_action", body="Released.")
    today = cases.org_today()
    services.log_reply(None, case, received_on=today, sender="Prosecutor", text="OK")
    services.close_case(
        None, case, decision="no_further_action", outcomes=outcomes_for(case, on=today)
    )
    kinds = [event["kind"] for event in services.timeline(case)]
    assert kinds[0] == "issued"
    assert kinds[1:] == ["stop", "reply", "outcome"]
