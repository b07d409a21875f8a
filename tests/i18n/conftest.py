"""Fixtures of the supporter-facing language tests: the letters domain's UA
(targets, people, letters in en and ru) and the supporters' SMTP catcher."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.letters import conftest as letters
from tests.supporters import conftest as supporters

case = letters.case
letters_ = letters.letters
make_supporter = letters.make_supporter
smtp_port = supporters.smtp_port
app_config = supporters.app_config
eager = supporters.eager
inbox = supporters.inbox


@pytest.fixture
def before_deadline():
    """A week before the case's deadline (27 September 2019): its links work."""
    import time_machine

    with time_machine.travel(datetime(2019, 9, 20, 12, tzinfo=UTC)):
        yield
