"""The outbox's settings, read and checked once: a bad combination is refused at worker start.

A combination that cannot work must never show up as a mailing that stalls
halfway (issue #18: 15 connections and a database pool of 15 did): the worker
refuses to start (``worker_init``, campaign/mailings/tasks.py) and says which
setting to change.
"""

from __future__ import annotations

from dataclasses import dataclass

import limits

from campaign.mailings import smtp


class SettingError(ValueError):
    pass


@dataclass(frozen=True)
class Outbox:
    connections: int
    messages_per_connection: int
    batch_size: int
    window: int
    lease_seconds: int
    holder_timeout: int
    task_seconds: float
    rate: limits.RateLimitItem | None
    domain_rates: dict[str, limits.RateLimitItem]
    relay: smtp.Relay


def rate_limit(value) -> limits.RateLimitItem | None:
    """``0``/empty: none; a number: messages per second; else a `limits` string ("3000/minute")."""
    text = str(value).strip()
    if text in ("", "0"):
        return None
    if text.isdigit():
        text = f"{text}/second"
    try:
        return limits.parse(text)
    except ValueError as error:
        raise SettingError(
            f"MAILING_RATE_LIMIT: {value!r} is not a rate (e.g. 50 or 3000/minute)"
        ) from error


def domain_rates(value: str) -> dict[str, limits.RateLimitItem]:
    """``gmail.com=20/second; outlook.com hotmail.com=10/second`` → {domain: limit}."""
    rates: dict[str, limits.RateLimitItem] = {}
    for part in (value or "").split(";"):
        if not part.strip():
            continue
        domains, _, rate = part.partition("=")
        try:
            item = limits.parse(rate.strip())
        except ValueError:
            item = None
        if not domains.strip() or item is None:
            raise SettingError(
                f"MAILING_DOMAIN_RATE_LIMITS: {part.strip()!r} is not 'domain=rate' "
                "(e.g. gmail.com=20/second)"
            )
        for domain in domains.replace(",", " ").split():
            rates[domain.lower().strip(".")] = item
    return rates


def load(config) -> Outbox:
    """The outbox settings of ``config``; raises SettingError saying what to change."""
    values = {
        "MAILING_CONNECTIONS": config["MAILING_CONNECTIONS"],
        "MAILING_MESSAGES_PER_CONNECTION": config["MAILING_MESSAGES_PER_CONNECTION"],
        "MAILING_BATCH_SIZE": config["MAILING_BATCH_SIZE"],
        "MAILING_RECORD_WINDOW": config["MAILING_RECORD_WINDOW"],
        "MAILING_LEASE_SECONDS": config["MAILING_LEASE_SECONDS"],
        "MAILING_HOLDER_TIMEOUT": config["MAILING_HOLDER_TIMEOUT"],
        "MAILING_MAX_ATTEMPTS": config["MAILING_MAX_ATTEMPTS"],
        "SMTP_TIMEOUT": config["SMTP_TIMEOUT"],
    }
    for name, value in values.items():
        if not isinstance(value, int) or value < 1:
            raise SettingError(f"{name} must be a whole number of at least 1, not {value!r}")
    if values["MAILING_CONNECTIONS"] > 1000:
        raise SettingError("MAILING_CONNECTIONS above 1000: one worker process cannot hold them")
    if values["MAILING_LEASE_SECONDS"] < 4:
        raise SettingError("MAILING_LEASE_SECONDS must be at least 4 (renewed every third)")
    if values["MAILING_HOLDER_TIMEOUT"] < 3:
        raise SettingError(
            "MAILING_HOLDER_TIMEOUT must be at least 3 s: a batch beats every second, "
            "and a shorter timeout would take deliveries from a live worker"
        )
    task_seconds = float(config["MAILING_TASK_SECONDS"])
    if task_seconds <= 0:
        raise SettingError("MAILING_TASK_SECONDS must be above 0")
    if config["MAILING_PAUSE_AFTER_FAILURES"] < 0:
        raise SettingError("MAILING_PAUSE_AFTER_FAILURES must be 0 (never) or more")
    try:
        relay = smtp.Relay.from_url(
            config["SMTP_URL"], config["SMTP_TIMEOUT"], config["SMTP_CA_FILE"]
        )
    except smtp.RelaySettingError as error:
        raise SettingError(str(error)) from error
    return Outbox(
        connections=values["MAILING_CONNECTIONS"],
        messages_per_connection=values["MAILING_MESSAGES_PER_CONNECTION"],
        batch_size=values["MAILING_BATCH_SIZE"],
        window=values["MAILING_RECORD_WINDOW"],
        lease_seconds=values["MAILING_LEASE_SECONDS"],
        holder_timeout=values["MAILING_HOLDER_TIMEOUT"],
        task_seconds=task_seconds,
        rate=rate_limit(config["MAILING_RATE_LIMIT"]),
        domain_rates=domain_rates(config["MAILING_DOMAIN_RATE_LIMITS"]),
        relay=relay,
    )


# Database connections one send_batch task holds at once (check_worker).
TASK_CONNECTIONS = 4


def check_worker(config, pool_kind: str, concurrency: int) -> None:
    """Refuse a worker whose tasks could not all get their database connections.

    A task holds four database connections whatever MAILING_CONNECTIONS is (its
    session, the claimer thread's and the suppression check's two readers), so only a
    thread pool of many tasks in one process can run out of SQLAlchemy's pool
    (5 + 10 overflow).
    """
    load(config)
    if pool_kind != "threads":
        return
    options = config.get("SQLALCHEMY_ENGINE_OPTIONS", {})
    size = options.get("pool_size", 5) + options.get("max_overflow", 10)
    if TASK_CONNECTIONS * concurrency > size:
        raise SettingError(
            f"--pool=threads with --concurrency={concurrency} needs "
            f"{TASK_CONNECTIONS * concurrency} "
            f"database connections; the pool holds {size}: lower the concurrency or "
            "run --pool=prefork"
        )
