"""Signals other domains listen to, so supporters need not know them."""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

# Sent with the supporter's id as sender just before the supporter is erased
# (in the same transaction), so that domains holding rows about them settle
# those rows (the outbox ends their unsent copies).
supporter_erasing = _signals.signal("supporter-erasing")
