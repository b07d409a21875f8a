"""A local SMTP server that keeps every message it receives in a Maildir.

Run as ``python -m campaign.mailbox.catcher``; the embedded default sends all
mail here so that nothing leaves the machine and staff can read it.
"""

from __future__ import annotations

import argparse
import logging
import signal
import threading
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Mailbox

from campaign import config

log = logging.getLogger("campaign.mailbox")


def ensure_maildir(path: str | Path) -> None:
    # mailbox.Maildir makes its subfolders only when the folder itself is new.
    for sub in ("tmp", "new", "cur"):
        (Path(path) / sub).mkdir(parents=True, exist_ok=True)


def start(host: str, port: int, maildir: str | Path) -> Controller:
    ensure_maildir(maildir)
    controller = Controller(
        Mailbox(str(maildir)), hostname=host, port=port, data_size_limit=50 * 1024 * 1024
    )
    controller.start()
    return controller


def main() -> None:
    settings = config.from_environment()
    smtp = settings["SMTP_URL"]
    host_port = smtp.split("://", 1)[-1].rsplit("@", 1)[-1]
    host, _, port = host_port.partition(":")
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default=host or "127.0.0.1")
    parser.add_argument("--port", type=int, default=int(port or config.DEFAULT_SMTP_PORT))
    parser.add_argument("--maildir", default=settings["MAILBOX_PATH"])
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s catcher %(message)s")
    controller = start(args.host, args.port, args.maildir)
    log.info("SMTP catcher on %s:%s, keeping mail in %s", args.host, args.port, args.maildir)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()
    controller.stop()


if __name__ == "__main__":
    main()
