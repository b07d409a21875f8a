"""Domains that add demo data register a loader here (called by campaign.demo)."""

from __future__ import annotations

HOOKS: list = []
