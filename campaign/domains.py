"""The domains, and finding each one's optional modules by name.

create_app registers them, demo.py loads each one's demo data; the modules are
imported by name, so this list is the one line that adds a domain.
"""

from __future__ import annotations

import importlib
from types import ModuleType

# The domains, in the order their blueprints register. Each may have models.py,
# tasks.py (Celery tasks, periodic jobs), views.py (``bp``), api.py
# (``blueprints``, mounted under /api/v1), hooks.py (what it contributes to
# the layers below: dashboard panels, metrics, signal receivers) and demo.py
# (``load_demo``).
DOMAINS = (
    "core",
    "auth",
    "audit",
    "cases",
    "casesheets",
    "supporters",
    "letters",
    "mailings",
    "outcomes",
    "mailbox",
)


def domain_module(domain: str, name: str) -> ModuleType | None:
    """``campaign.<domain>.<name>``, or None when the domain has no such module."""
    try:
        return importlib.import_module(f"campaign.{domain}.{name}")
    except ModuleNotFoundError as error:
        if error.name != f"campaign.{domain}.{name}":
            raise  # a real import error inside the module
        return None
