from sqlalchemy import select

from campaign.cases import services
from campaign.cases.models import Case
from campaign.demo import load


def test_demo_loads_ua_205_16_with_its_story(app, db, login):
    summary = load(supporters=20)
    db.session.commit()
    assert "UA 205/16 with 3 updates" in summary
    case = services.find_case(205, 2016)
    assert case.status == "closed"
    assert [u.label for u in case.updates] == ["first update", "second update", "third update"]
    assert case.updates[-1].kind == "no_further_action"
    assert {p.name for p in case.people} == {"Ilmi Umerov", "Akhtem Chiygoz"}
    assert all(p.current_status.status == "released" for p in case.people)
    assert case.targets[0].salutation == "Dear Prosecutor General"
    kuku = db.session.scalar(select(Case).where(Case.title.contains("upheld")))
    assert len(kuku.people) == 6 and kuku.status == "active"
    page = login("viewer").get(f"/cases/{case.id}").get_data(as_text=True)
    for text in (
        "UA 205/16",
        "Third update",
        "This is the third update of UA 205/16",
        "Akhtem Chiygoz",
        "Dear Prosecutor General",
    ):
        assert text in page


def test_demo_refuses_a_database_that_has_cases(app, db):
    import pytest

    from campaign.core.errors import Conflict

    services.create_case(None, {"title": "Mine"})
    db.session.commit()
    with pytest.raises(Conflict):
        load()
