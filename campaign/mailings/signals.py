"""Signals of the mailings domain: services say that work is queued, the tasks module acts."""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

# Sent with the mailing id once deliveries are queued and committed (start, resume);
# campaign/mailings/tasks.py enqueues batch tasks for it.
work_queued = _signals.signal("work-queued")
