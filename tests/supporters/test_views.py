"""Staff pages render for their roles and refuse bad input at the field."""

from sqlalchemy import select

from campaign.supporters.models import Supporter


def test_staff_pages_render(app, db, login, make_supporter):
    from campaign.supporters.demo import load_demo

    load_demo(supporters=40)
    db.session.commit()
    person = db.session.scalar(select(Supporter).order_by(Supporter.id))
    client = login("viewer")
    for path in (
        "/supporters/",
        "/supporters/?state=subscribed&q=supporter00",
        f"/supporters/{person.id}",
        "/supporters/lists",
        "/supporters/segments",
        "/supporters/segments/new",
    ):
        response = client.get(path)
        assert response.status_code == 200, path
    listing = client.get("/supporters/").get_data(as_text=True)
    assert "supporter0040@example.org" in listing
    assert "demo" in client.get(f"/supporters/{person.id}").get_data(as_text=True)


def test_staff_add_a_supporter_who_stays_pending(app, db, login, eager, inbox):
    client = login("campaigner")
    response = client.post(
        "/supporters/new",
        data={"email": "staff@exämple.de", "first_name": "S", "language": "fr", "country": "FR"},
    )
    assert response.status_code == 302
    supporter = db.session.scalar(select(Supporter))
    assert (supporter.email, supporter.state, supporter.timezone) == (
        "staff@xn--exmple-cua.de",
        "pending",
        "Europe/Paris",
    )
    assert inbox.messages()[0]["Subject"] == "Confirmez votre inscription aux Actions urgentes"
    again = client.post(
        "/supporters/new", data={"email": "STAFF@exämple.de".lower(), "language": "fr"}
    )
    assert again.status_code == 422 and "exists already" in again.get_data(as_text=True)
    refused = client.post("/supporters/new", data={"email": "a@example.org", "language": "xx"})
    assert refused.status_code == 422 and "ISO code" in refused.get_data(as_text=True)


def test_staff_cannot_resubscribe_without_a_new_opt_in(
    app, db, login, make_supporter, eager, inbox
):
    person = make_supporter(state="unsubscribed")
    client = login("campaigner")
    client.post(f"/supporters/{person.id}/reconfirm")
    db.session.refresh(person)
    assert person.state == "unsubscribed" and len(inbox.messages()) == 1
