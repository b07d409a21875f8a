"""Signals other domains listen to, so the registry need not know them."""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

# Sent with the case as sender, and ``update`` and ``actor`` keyword arguments,
# after an update has been numbered and flushed.
update_issued = _signals.signal("update-issued")
