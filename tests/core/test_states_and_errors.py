"""States load as StrEnum members; a service's NotFound is a 404 page or JSON."""

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import StatementError

from campaign.mailings.models import Mailing, MailingState


def test_a_state_loads_as_its_enum_and_equals_its_string(app, db):
    db.session.add(Mailing(subject="S"))
    db.session.commit()
    db.session.expire_all()
    mailing = db.session.scalar(select(Mailing))
    assert mailing.state is MailingState.DRAFT and mailing.state == "draft"
    # Stored as the plain value, so raw SQL and the CHECK constraint see "draft".
    assert db.session.scalar(text("SELECT state FROM mailings")) == "draft"


def test_an_unknown_state_is_refused_before_the_database(app, db):
    db.session.add(Mailing(subject="S", state="almost sent"))
    with pytest.raises(StatementError) as refused:
        db.session.flush()
    assert isinstance(refused.value.orig, ValueError)
    db.session.rollback()
    assert db.session.scalar(text("SELECT count(*) FROM mailings")) == 0


def test_a_missing_row_is_the_404_page_for_staff_and_supporters(app, db, login, client):
    staff = login("viewer").get("/mailings/987654")
    assert staff.status_code == 404 and "There is nothing here." in staff.get_data(as_text=True)
    public = client.get("/ua/987654")
    assert public.status_code == 404
    assert "There is nothing at this address." in public.get_data(as_text=True)


def test_a_missing_row_is_a_json_404_in_the_api(app, db, api_client):
    client, headers = api_client("viewer")
    response = client.get("/api/v1/cases/987654", headers=headers)
    assert response.status_code == 404
    assert response.get_json()["code"] == 404 and response.get_json()["message"]
