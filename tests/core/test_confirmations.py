"""Destructive actions need their tick (campaign.core.forms.confirmed); without it, nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import select


def _flash(client, response) -> str:
    assert response.status_code == 302
    return client.get(response.headers["Location"]).get_data(as_text=True)


def test_deleting_a_list_or_segment_needs_the_tick(db, login):
    from campaign.supporters import services
    from campaign.supporters.models import Segment, SupporterList

    lst = services.save_list(None, None, "Festival 2026")
    segment = services.save_segment(None, None, "French", {"languages": ["fr"]})
    db.session.commit()
    client = login("coordinator")
    page = client.get("/supporters/lists").get_data(as_text=True)
    assert "Delete the list “Festival 2026”?" in page and 'name="confirm"' in page
    page = _flash(client, client.post(f"/supporters/lists/{lst.id}/delete"))
    assert "The list was not deleted: tick the box to confirm." in page
    page = _flash(client, client.post(f"/supporters/segments/{segment.id}/delete"))
    assert "The segment was not deleted: tick the box to confirm." in page
    db.session.expire_all()
    assert db.session.scalar(select(SupporterList.id)) == lst.id
    assert db.session.scalar(select(Segment.id)) == segment.id
    client.post(f"/supporters/lists/{lst.id}/delete", data={"confirm": "y"})
    client.post(f"/supporters/segments/{segment.id}/delete", data={"confirm": "y"})
    db.session.expire_all()
    assert db.session.scalar(select(SupporterList.id)) is None
    assert db.session.scalar(select(Segment.id)) is None


def test_revoking_a_token_needs_the_tick(db, login):
    from campaign.auth import services
    from campaign.auth.models import ApiToken

    client = login("campaigner")
    token, _ = services.create_token(client.user, client.user, "export script")
    db.session.commit()
    page = _flash(client, client.post(f"/account/tokens/{token.id}/revoke"))
    assert "The token was not revoked: tick the box to confirm." in page
    db.session.expire_all()
    assert db.session.get(ApiToken, token.id).revoked_at is None
    page = _flash(client, client.post(f"/account/tokens/{token.id}/revoke", data={"confirm": "y"}))
    assert "Token “export script” revoked." in page
    db.session.expire_all()
    assert db.session.get(ApiToken, token.id).revoked_at is not None


def test_blocking_needs_the_tick(db, login):
    from campaign.supporters.models import Supporter

    db.session.add(Supporter(email="a@example.net", state="subscribed", language="en"))
    db.session.commit()
    supporter_id = db.session.scalar(select(Supporter.id))
    client = login("coordinator")
    page = _flash(client, client.post(f"/supporters/{supporter_id}/block"))
    assert "Not blocked: tick the box to confirm." in page
    db.session.expire_all()
    assert db.session.get(Supporter, supporter_id).state == "subscribed"
    client.post(f"/supporters/{supporter_id}/block", data={"confirm": "y"})
    db.session.expire_all()
    assert db.session.get(Supporter, supporter_id).state == "blocked"


@pytest.mark.parametrize("ticked", [False, True])
def test_emptying_the_mailbox_needs_the_tick(app, db, login, tmp_path, ticked):
    import mailbox

    path = tmp_path / "box"
    app.config["MAILBOX_PATH"] = str(path)
    box = mailbox.Maildir(str(path), create=True)
    box.add(b"From: a@example.org\r\nTo: b@example.org\r\nSubject: hello\r\n\r\nHi\r\n")
    box.close()
    client = login("coordinator")
    response = client.post("/mailbox/clear", data={"confirm": "y"} if ticked else {})
    page = _flash(client, response)
    remaining = len(mailbox.Maildir(str(path), create=False))
    if ticked:
        assert remaining == 0 and "Deleted 1 messages" in page
    else:
        assert remaining == 1 and "The mailbox was not emptied: tick the box to confirm." in page
