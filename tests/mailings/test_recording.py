"""The recorder's count of failed sends in a row: the same verdict wherever its windows fall.

The recorder commits results in windows whose size depends on timing (how many
answers came in while it committed the last ones), so the pause rule must give
the same answer for any cut of the same sequence of results.
"""

from __future__ import annotations

import itertools
import re

import pytest

from campaign.mailings import outbox, recording, services, smtp
from campaign.mailings.models import Mailing

SENT, FAILED = smtp.SENT, smtp.TEMPORARY


@pytest.fixture
def app_config(mail_config):
    return {**mail_config, "MAILING_PAUSE_AFTER_FAILURES": 5}


def _record(db, make_supporters, approved_mailing, statuses: list[str], cuts: tuple[int, ...]):
    make_supporters(len(statuses))
    mailing = approved_mailing()
    services.send(None, mailing)
    db.session.commit()
    claimed = outbox.claim(mailing.id, len(statuses), 60)
    recipients = sorted(claimed, key=lambda r: int(r.email[1:].split("@")[0]))  # s0, s1, … s12
    results = [
        outbox.Result(r, status, "" if status == SENT else "451 4.3.0 relay trouble", 451)
        for r, status in zip(recipients, statuses, strict=True)
    ]
    bounds, paused = [0, *cuts, len(results)], []
    for start, end in itertools.pairwise(bounds):
        paused.append(recording.record_results(mailing.id, results[start:end]))
        db.session.commit()  # each window in its own transaction, as the recorder does
    return db.session.get(Mailing, mailing.id), paused


@pytest.mark.parametrize("cuts", [(), (3,), (5,), (7,), (2, 6), (4, 5, 6)])
def test_five_failures_in_a_row_pause_the_mailing_wherever_the_windows_fall(
    db, make_supporters, approved_mailing, cuts
):
    # Two sent, six refused for now, two sent: the six are failures in a row.
    statuses = [SENT] * 2 + [FAILED] * 6 + [SENT] * 2
    mailing, paused = _record(db, make_supporters, approved_mailing, statuses, cuts)
    assert mailing.state == "paused" and paused.count(True) == 1
    assert re.match(
        r"Paused itself after [56] failed sends in a row\. The last answer: 451 4\.3\.0 relay "
        r"trouble Trying the relay again at \d\d:\d\d UTC\.$",
        mailing.pause_reason,
    )
    assert mailing.resume_at is not None  # a 4xx: the sweeper probes the relay
    assert mailing.consecutive_failures == 0  # the last answers were successes


@pytest.mark.parametrize("cuts", [(), (4,), (3, 5), (6,)])
def test_four_failures_in_a_row_do_not(db, make_supporters, approved_mailing, cuts):
    statuses = [FAILED] * 4 + [SENT] + [FAILED] * 4 + [SENT] + [FAILED] * 3
    mailing, paused = _record(db, make_supporters, approved_mailing, statuses, cuts)
    assert mailing.state == "sending" and not any(paused)
    assert mailing.consecutive_failures == 3  # carried on to the next window
