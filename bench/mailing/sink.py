"""An aiosmtpd sink for the mailing benchmark: accepts and discards every message.

    python -m bench.mailing.sink PORT [DELAY_MS]

Each message's final reply (after DATA) waits DELAY_MS milliseconds, like a relay
that takes its time to queue a message; the other replies come at once. Runs
until terminated.
"""

from __future__ import annotations

import asyncio
import signal
import sys
import threading

from aiosmtpd.controller import Controller


class Discard:
    def __init__(self, delay: float):
        self.delay = delay

    async def handle_DATA(self, server, session, envelope):
        if self.delay:
            await asyncio.sleep(self.delay)
        return "250 2.0.0 discarded"


def main() -> None:
    port = int(sys.argv[1])
    delay = float(sys.argv[2]) / 1000 if len(sys.argv) > 2 else 0.0
    controller = Controller(Discard(delay), hostname="127.0.0.1", port=port)
    controller.start()
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    print(f"sink on 127.0.0.1:{port}, {delay * 1000:.0f} ms per message", flush=True)
    done.wait()
    controller.stop()


if __name__ == "__main__":
    main()
