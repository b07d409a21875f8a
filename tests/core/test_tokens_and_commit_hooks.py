import pytest

from campaign.core.db import on_commit
from campaign.core.tokens import TokenRefused, make_token, read_token


def test_tokens_are_bound_to_their_purpose(app):
    token = make_token("unsubscribe", {"s": 7})
    assert read_token("unsubscribe", token) == {"s": 7}
    with pytest.raises(TokenRefused):
        read_token("confirm", token)
    with pytest.raises(TokenRefused):
        read_token("unsubscribe", token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1])


def test_expired_tokens_are_refused(app):
    import time_machine

    with time_machine.travel("2026-01-01 00:00:00", tick=False):
        token = make_token("confirm", 1)
    with (
        time_machine.travel("2026-01-03 00:00:00", tick=False),
        pytest.raises(TokenRefused, match="expired"),
    ):
        read_token("confirm", token, max_age=86400)


def test_on_commit_runs_after_commit_and_not_after_rollback(app, db):
    ran = []
    on_commit(lambda: ran.append("first"))
    db.session.rollback()
    db.session.commit()
    assert ran == []
    on_commit(lambda: ran.append("second"))
    assert ran == []
    db.session.commit()
    assert ran == ["second"]
