"""Logs: one place that configures them for the web, the worker and beat.

``LOG_FORMAT=json`` (the default) writes one JSON object per line to stderr:
time, level, logger, message, plus request_id and user_id during a request,
task and task_id inside a Celery task. Every request ends with one line
(``logger: campaign.request``) carrying method, path, status and duration_ms.
``LOG_FORMAT=text`` writes the same as readable lines for development.

What is never logged: query strings and bodies (passwords, filters, form
values), tokens in paths (``/act/<token>`` is logged as ``/act/[redacted]``),
API tokens, and email addresses (masked in every line, exceptions included).
"""

from __future__ import annotations

import contextvars
import logging
import re
import sys
import time
import uuid
from datetime import UTC, datetime

from celery import signals
from flask import Flask, g, has_request_context, request
from pythonjsonlogger.json import JsonFormatter

REQUEST_LOGGER = "campaign.request"
TASK_LOGGER = "campaign.task"
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{8,128}$")
# Path parameters whose values are secrets (signed links, mailbox keys).
SECRET_PATH_ARGS = ("token", "key")
_EMAIL = re.compile(r"[\w.+%-]+@[\w-]+(?:\.[\w-]+)+")
_API_TOKEN = re.compile(r"\bua_[\w-]{20,}")
_task: contextvars.ContextVar[tuple[str, str] | None] = contextvars.ContextVar(
    "campaign_task", default=None
)


def redact(text: str) -> str:
    """Mask email addresses, API tokens and this request's secret path parts in a line."""
    text = _API_TOKEN.sub("ua_[redacted]", _EMAIL.sub("[email]", text))
    for secret in _secret_path_values():
        text = text.replace(secret, "[redacted]")
    return text


def _secret_path_values() -> list[str]:
    """Values of path parameters such as ``<token>`` (Flask's own error lines name the path)."""
    if not has_request_context():
        return []
    return [
        str(value)
        for name, value in (request.view_args or {}).items()
        if any(secret in name for secret in SECRET_PATH_ARGS) and len(str(value)) >= 4
    ]


class _Context(logging.Filter):
    """Adds the request id and user, or the Celery task, to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if has_request_context():
            record.request_id = g.get("request_id")
            user = g.get("api_user") or g.get("_login_user")
            if getattr(user, "is_authenticated", False):
                record.user_id = user.id
        elif task := _task.get():
            record.task, record.task_id = task
        return True


class _Json(JsonFormatter):
    def formatTime(self, record, datefmt=None):
        return datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")

    def format(self, record):
        return redact(super().format(record))


class _Text(logging.Formatter):
    def format(self, record):
        line = super().format(record)
        extra = " ".join(
            f"{key}={getattr(record, key)}"
            for key in ("request_id", "user_id", "task", "task_id")
            if getattr(record, key, None) is not None
        )
        return redact(f"{line} [{extra}]" if extra else line)


class _Stderr(logging.StreamHandler):
    """Writes to the current sys.stderr (test runners and Celery replace it)."""

    campaign = False  # True on the handler configure() installs

    def __init__(self):
        super().__init__()

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, _value):
        pass


def formatter(fmt: str) -> logging.Formatter:
    if fmt == "text":
        return _Text("%(asctime)s %(levelname)s %(name)s: %(message)s")
    return _Json(
        "%(asctime)s %(levelname)s %(name)s %(message)s",
        rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
    )


def configure(fmt: str = "json", level: str = "INFO") -> logging.Handler:
    """Install the one campaign handler on the root logger (idempotent)."""
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "campaign", False)]:
        root.removeHandler(old)
    handler = _Stderr()
    handler.campaign = True
    handler.setFormatter(formatter(fmt))
    handler.addFilter(_Context())
    root.addHandler(handler)
    root.setLevel(level.upper())
    # The development server's access lines would repeat each request with its
    # query string and tokens in the path; our own request line replaces them.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    # aiosmtpd (the local catcher, bounce intake) logs every connection at INFO.
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    return handler


def _safe_path() -> str:
    path = request.path
    for secret in _secret_path_values():
        path = path.replace(secret, "[redacted]")
    return path


def _start_request():
    given = request.headers.get("X-Request-ID", "")
    g.request_id = given if _REQUEST_ID.match(given) else uuid.uuid4().hex
    g.request_started = time.perf_counter()


def _log_request(response):
    started = g.get("request_started")
    duration = round((time.perf_counter() - started) * 1000, 1) if started else None
    if g.get("request_id"):
        response.headers["X-Request-ID"] = g.request_id
    path = _safe_path()
    status = response.status_code
    logging.getLogger(REQUEST_LOGGER).log(
        logging.WARNING if status >= 500 else logging.INFO,
        "%s %s %s %sms",
        request.method,
        path,
        status,
        duration,
        extra={"method": request.method, "path": path, "status": status, "duration_ms": duration},
    )
    return response


def init_app(app: Flask) -> None:
    if not app.config["LOG_KEEP_HANDLERS"]:
        configure(app.config["LOG_FORMAT"], app.config["LOG_LEVEL"])
    app.before_request_funcs.setdefault(None, []).insert(0, _start_request)
    # after_request hooks run in reverse order: index 0 runs last, so the line
    # carries the final status and the time of the commit too.
    app.after_request_funcs.setdefault(None, []).insert(0, _log_request)
    _connect_celery(app)


_connected = False


def _connect_celery(app: Flask) -> None:
    """Celery keeps our configuration, and tasks log their name and id."""
    global _connected
    if _connected:
        return
    _connected = True

    fmt, level = app.config["LOG_FORMAT"], app.config["LOG_LEVEL"]

    @signals.setup_logging.connect(weak=False)
    def _setup_logging(**_kwargs):  # worker and beat: do not install Celery's own
        configure(fmt, level)

    @signals.task_prerun.connect(weak=False)
    def _task_started(task_id=None, task=None, **_kwargs):
        _task.set((task.name, task_id))
        task.request.campaign_started = time.perf_counter()

    @signals.task_postrun.connect(weak=False)
    def _task_ended(task_id=None, task=None, state=None, **_kwargs):
        started = getattr(task.request, "campaign_started", None)
        duration = round((time.perf_counter() - started) * 1000, 1) if started else None
        logging.getLogger(TASK_LOGGER).info(
            "task %s %s %sms",
            task.name,
            state,
            duration,
            extra={"state": state, "duration_ms": duration},
        )
        _task.set(None)
