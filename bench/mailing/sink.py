"""An aiosmtpd sink for the mailing benchmark: accepts and discards every message.

    python -m bench.mailing.sink PORT [DELAY_MS] [LOG]

Each message's final reply (after DATA) waits DELAY_MS milliseconds, like a relay
that takes its time to queue a message; the other replies come at once. With
LOG, each accepted message's recipient is appended to that file, one a line
(the benchmark counts doubles). Runs until terminated.
"""

from __future__ import annotations

import asyncio
import signal
import sys
import threading

from aiosmtpd.controller import Controller


class Discard:
    def __init__(self, delay: float, log_path: str = ""):
        self.delay = delay
        self.log = open(log_path, "a", buffering=1) if log_path else None  # noqa: SIM115

    async def handle_DATA(self, server, session, envelope):
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.log is not None:
            self.log.write("".join(f"{rcpt}\n" for rcpt in envelope.rcpt_tos))
        return "250 2.0.0 discarded"


def main() -> None:
    port = int(sys.argv[1])
    delay = float(sys.argv[2]) / 1000 if len(sys.argv) > 2 else 0.0
    log_path = sys.argv[3] if len(sys.argv) > 3 else ""
    controller = Controller(Discard(delay, log_path), hostname="127.0.0.1", port=port)
    controller.start()
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    print(f"sink on 127.0.0.1:{port}, {delay * 1000:.0f} ms per message", flush=True)
    done.wait()
    controller.stop()


if __name__ == "__main__":
    main()
