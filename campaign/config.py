"""Settings read from the environment, with safe embedded defaults.

Unset means the embedded default (DESIGN.md §3): SQLite in the instance folder,
a private Redis on loopback, and the local SMTP catcher.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

DEFAULT_REDIS_PORT = 6479
DEFAULT_SMTP_PORT = 8025
# Also what the password policy applies outside an app (campaign/auth/passwords.py).
DEFAULT_PASSWORD_MIN_LENGTH = 12
DEFAULT_PASSWORD_MIN_SCORE = 3


def _instance_path() -> Path:
    path = os.environ.get("INSTANCE_PATH") or str(
        Path(__file__).resolve().parent.parent / "instance"
    )
    return Path(path).resolve()


def _secret_key(instance: Path) -> str:
    """Use SECRET_KEY, else a random key kept in the instance folder.

    A key generated per process would log everybody out on every restart and
    break links in emails already sent, so it is written once and reused.
    """
    if key := os.environ.get("SECRET_KEY"):
        return key
    instance.mkdir(parents=True, exist_ok=True)
    key_file = instance / "secret_key"
    if not key_file.exists():
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(48))
    return key_file.read_text().strip()


def _env(name: str, default: str) -> str:
    """The variable's value; unset and empty both mean the default."""
    return os.environ.get(name) or default


def _int(name: str, default: int) -> int:
    return int(_env(name, str(default)))


def _database_url(url: str) -> str:
    """Accept the usual postgres:// URLs and use the psycopg 3 driver for them."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def from_environment() -> dict:
    instance = _instance_path()
    base_url = _env("BASE_URL", "http://127.0.0.1:5000").rstrip("/")
    redis_url = _env("REDIS_URL", f"redis://127.0.0.1:{DEFAULT_REDIS_PORT}/0")
    secure = base_url.startswith("https://")
    return {
        "INSTANCE_PATH": str(instance),
        "SECRET_KEY": _secret_key(instance),
        "SQLALCHEMY_DATABASE_URI": _database_url(
            _env("DATABASE_URL", f"sqlite:///{instance / 'campaign.sqlite3'}")
        ),
        "REDIS_URL": redis_url,
        "SMTP_URL": _env("SMTP_URL", f"smtp://127.0.0.1:{DEFAULT_SMTP_PORT}"),
        "MAIL_FROM": _env("MAIL_FROM", "Urgent Action Network <ua@localhost>"),
        "BASE_URL": base_url,
        "ORG_TIMEZONE": _env("ORG_TIMEZONE", "Europe/London"),
        "MAILBOX_PATH": _env("MAILBOX_PATH", str(instance / "mailbox")),
        # Sessions: HttpOnly and SameSite always, Secure when served over https.
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": secure,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": secure,
        # Staff sessions (server-side records) end after this long without a
        # request, and this long after login however busy.
        "SESSION_IDLE_MINUTES": _int("SESSION_IDLE_MINUTES", 120),
        "SESSION_MAX_HOURS": _int("SESSION_MAX_HOURS", 12),
        "PREFERRED_URL_SCHEME": "https" if secure else "http",
        "WTF_CSRF_TIME_LIMIT": None,
        # Requests above this get 413; case-sheet uploads are capped at 10 MB by the reader.
        "MAX_CONTENT_LENGTH": _int("MAX_CONTENT_LENGTH", 12 * 1024 * 1024),
        # JSON bodies nested deeper than this get 400 before they are parsed.
        "JSON_MAX_DEPTH": _int("JSON_MAX_DEPTH", 32),
        # Login throttling (campaign/auth/throttle.py), never a lockout: after this
        # many failures for one address (or one device), and per network address,
        # each attempt waits 1, 2, 4... seconds, up to the maximum.
        "LOGIN_MAX_FAILURES": _int("LOGIN_MAX_FAILURES", 5),
        "LOGIN_IP_FREE_FAILURES": _int("LOGIN_IP_FREE_FAILURES", 30),
        "LOGIN_MAX_DELAY_SECONDS": _int("LOGIN_MAX_DELAY_SECONDS", 120),
        # Staff passwords (campaign/auth/passwords.py): minimum length, and the
        # minimum zxcvbn strength score (0-4) beyond the breached-password check.
        "PASSWORD_MIN_LENGTH": _int("PASSWORD_MIN_LENGTH", DEFAULT_PASSWORD_MIN_LENGTH),
        "PASSWORD_MIN_SCORE": _int("PASSWORD_MIN_SCORE", DEFAULT_PASSWORD_MIN_SCORE),
        # Argon2id parameters for password hashes, by the name of a profile in
        # argon2.profiles: RFC 9106's low-memory profile (t=3, 64 MiB, p=4) in
        # production; the test suite uses CHEAPEST. A hash made under other
        # parameters is re-made with these at its owner's next login.
        "PASSWORD_HASH_PROFILE": _env("PASSWORD_HASH_PROFILE", "RFC_9106_LOW_MEMORY"),
        # Logs (campaign/core/logs.py): "json" lines (production) or "text".
        "LOG_FORMAT": _env("LOG_FORMAT", "json"),
        "LOG_LEVEL": _env("LOG_LEVEL", "INFO"),
        # True when the host (a test run, an embedding) installs its own log handlers.
        "LOG_KEEP_HANDLERS": False,
        # Prometheus: /metrics takes an admin's API token, or this bearer token.
        "METRICS_TOKEN": _env("METRICS_TOKEN", ""),
        # Deadline reminders go this many days before the appeal deadline.
        "REMINDER_DAYS_BEFORE": _int("REMINDER_DAYS_BEFORE", 3),
        # Roles that must log in with a second factor (TOTP).
        "TOTP_REQUIRED_ROLES": tuple(
            r for r in _env("TOTP_REQUIRED_ROLES", "admin,coordinator").split(",") if r
        ),
        # Flask-Limiter's switch (its default); the sign-up counters follow it too.
        "RATELIMIT_ENABLED": True,
        "RATELIMIT_STORAGE_URI": _env("RATELIMIT_STORAGE_URI", redis_url),
        # Redis down must not lock staff out or fail public forms: limits then count
        # in each process's memory until Redis is back (tests/faults).
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        "RATELIMIT_LOGIN": _env("RATELIMIT_LOGIN", "20 per minute"),
        # The public case page's action report and other public forms.
        "RATELIMIT_PUBLIC_FORMS": _env("RATELIMIT_PUBLIC_FORMS", "10 per minute;200 per day"),
        # Accepted sign-ups (/join and the public action form) per network and per address.
        "SIGNUP_RATE_LIMIT": _env("SIGNUP_RATE_LIMIT", "30 per hour"),
        "SIGNUP_ADDRESS_RATE_LIMIT": _env("SIGNUP_ADDRESS_RATE_LIMIT", "3 per day"),
        "RATELIMIT_HEADERS_ENABLED": True,
        # The supporter's letter pack (/act/<token>/letters.pdf): ~1 s of CPU each.
        "RATELIMIT_LETTER_PDF": _env("RATELIMIT_LETTER_PDF", "10 per minute;100 per day"),
        # Test sends of a mailing: per staff member; and who may receive them
        # besides active staff accounts ("a@example.org, @example.org").
        "RATELIMIT_TEST_SEND": _env("RATELIMIT_TEST_SEND", "20 per hour"),
        "TEST_SEND_ALLOWED": _env("TEST_SEND_ALLOWED", ""),
        # Reverse proxies in front of the app (each appends to X-Forwarded-For):
        # 0 trusts no header; 1 behind one nginx/Caddy; more behind a load balancer too.
        "PROXY_COUNT": _int("PROXY_COUNT", 0),
        # Celery: the database is the truth, Redis only carries wake-ups.
        "CELERY": {
            "broker_url": redis_url,
            "task_ignore_result": True,
            "task_serializer": "json",
            "accept_content": ["json"],
            "task_acks_late": True,
            "task_reject_on_worker_lost": True,
            "worker_prefetch_multiplier": 1,
            # Longer than any task may run, shorter than a tolerable delay after a
            # lost worker; tasks are small batches, so an hour is generous.
            "broker_transport_options": {
                "visibility_timeout": _int("CELERY_VISIBILITY", 3600),
                # Publishing a wake-up must not hang a request when Redis is down:
                # give up after ~1 s; the sweeper re-sends wake-ups from the database.
                "max_retries": 2,
                "interval_start": 0,
                "interval_step": 0.3,
                "interval_max": 0.5,
                "socket_connect_timeout": 1,
                "socket_timeout": 5,
            },
            "broker_connection_retry_on_startup": True,
            "beat_schedule": {
                "tick": {"task": "core.tick", "schedule": float(_int("BEAT_TICK_SECONDS", 5))},
            },
            "timezone": "UTC",
        },
        # Supporters: how long a confirmation link and a preferences link stay
        # valid, the wait before a confirmation is sent again, and the days after
        # which sign-ups never confirmed are deleted.
        "CONFIRM_MAX_AGE_DAYS": _int("CONFIRM_MAX_AGE_DAYS", 7),
        "PREFERENCES_MAX_AGE_DAYS": _int("PREFERENCES_MAX_AGE_DAYS", 365),
        "CONFIRM_RESEND_SECONDS": _int("CONFIRM_RESEND_SECONDS", 600),
        "UNCONFIRMED_PURGE_DAYS": _int("UNCONFIRMED_PURGE_DAYS", 14),
        # Keys the hashes of erased and suppressed addresses; empty: SECRET_KEY.
        "SUPPRESSION_KEY": _env("SUPPRESSION_KEY", ""),
        # Supporter import: the longest line read (a guard against a file with
        # no line breaks).
        "IMPORT_MAX_LINE_BYTES": _int("IMPORT_MAX_LINE_BYTES", 1 << 20),
        # "I took action" links in emails stay valid this many days after the
        # deadline (late letters still count; updates extend deadlines).
        "ACTION_LINK_GRACE_DAYS": _int("ACTION_LINK_GRACE_DAYS", 60),
        # Mailings (DESIGN.md §3; the figures are in docs/PERFORMANCE.md, "Mailing").
        "MAILING_BATCH_SIZE": _int("MAILING_BATCH_SIZE", 500),
        # The recording window: at most this many answered sends per batch are not yet
        # recorded; a crash repeats at most MAILING_CONNECTIONS (on the wire) + this.
        "MAILING_RECORD_WINDOW": _int("MAILING_RECORD_WINDOW", 40),
        "MAILING_CONNECTIONS": _int("MAILING_CONNECTIONS", 2),
        # A batch beats every second; deliveries of one silent this long go back to
        # the queue at once (a killed worker), without waiting for their lease.
        "MAILING_HOLDER_TIMEOUT": _int("MAILING_HOLDER_TIMEOUT", 60),
        # How long one task keeps claiming more of its mailing before handing over
        # (earlier when another mailing or beat's tick waits: campaign/mailings/outbox.py).
        "MAILING_TASK_SECONDS": float(_env("MAILING_TASK_SECONDS", "20")),
        # A self-pause for temporary failures probes the relay after this, doubling.
        "MAILING_PROBE_SECONDS": _int("MAILING_PROBE_SECONDS", 60),
        "MAILING_PARALLEL_TASKS": _int("MAILING_PARALLEL_TASKS", 2),
        "MAILING_MESSAGES_PER_CONNECTION": _int("MAILING_MESSAGES_PER_CONNECTION", 1000),
        "MAILING_LEASE_SECONDS": _int("MAILING_LEASE_SECONDS", 300),
        "MAILING_WAKE_SECONDS": _int("MAILING_WAKE_SECONDS", 15),
        "MAILING_MAX_ATTEMPTS": _int("MAILING_MAX_ATTEMPTS", 6),
        "MAILING_RETRY_SECONDS": float(_env("MAILING_RETRY_SECONDS", "60")),
        "MAILING_PAUSE_AFTER_FAILURES": _int("MAILING_PAUSE_AFTER_FAILURES", 50),
        # From this audience size on, sending needs the count typed, not just a tick.
        "MAILING_TYPED_CONFIRM_THRESHOLD": _int("MAILING_TYPED_CONFIRM_THRESHOLD", 1000),
        # Messages per second (or a `limits` rate, "3000/minute") for all workers
        # together, counted in Redis; 0: no limit.
        "MAILING_RATE_LIMIT": _env("MAILING_RATE_LIMIT", "0"),
        # Per recipient domain, all workers together: "gmail.com=20/second; yahoo.com=5/second".
        "MAILING_DOMAIN_RATE_LIMITS": _env("MAILING_DOMAIN_RATE_LIMITS", ""),
        "SMTP_TIMEOUT": _int("SMTP_TIMEOUT", 30),
        # A CA bundle to trust for the relay's TLS certificate (a private relay).
        "SMTP_CA_FILE": _env("SMTP_CA_FILE", ""),
        "VERP_DOMAIN": _env("VERP_DOMAIN", "localhost"),
        "LIST_ID": _env("LIST_ID", "Urgent Action Network <urgent-action.localhost>"),
        "MAIL_REPLY_TO": _env("MAIL_REPLY_TO", ""),
        "BOUNCE_SMTP_HOST": _env("BOUNCE_SMTP_HOST", "127.0.0.1"),
        "BOUNCE_SMTP_PORT": _int("BOUNCE_SMTP_PORT", 8026),
        # imaps://user:password@host/INBOX; empty: no polling.
        "BOUNCE_IMAP_URL": _env("BOUNCE_IMAP_URL", ""),
        "API_TITLE": "Urgent Action campaign manager",
        "API_VERSION": "v1",
        "OPENAPI_VERSION": "3.1.0",
        "OPENAPI_URL_PREFIX": "/api/v1",
        "OPENAPI_JSON_PATH": "openapi.json",
        "API_SPEC_OPTIONS": {
            "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
            "security": [{"bearer": []}],
        },
    }
