"""The staff dashboard: what needs attention now, in panels the domains register.

Core knows no domain: each domain's ``hooks`` module registers its panels with
:func:`panel` (as periodic jobs register with ``core.tasks.periodic``); the
dashboard page includes each panel's template with the values its function
returns, in ``order``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Panel:
    order: int
    template: str
    values: Callable[[], dict]


PANELS: dict[str, Panel] = {}


def panel(template: str, order: int):
    """Register ``function() -> dict`` as the values of the panel ``template``."""

    def register(function: Callable[[], dict]) -> Callable[[], dict]:
        PANELS[template] = Panel(order, template, function)
        return function

    return register


def panels() -> list[tuple[str, dict]]:
    """(template, values) of every registered panel, in order."""
    return [(p.template, p.values()) for p in sorted(PANELS.values(), key=lambda p: p.order)]
