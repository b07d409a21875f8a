"""Shared building blocks: column types, time, the request commit point, roles."""
