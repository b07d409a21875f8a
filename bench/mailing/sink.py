"""An aiosmtpd sink for the mailing benchmark: accepts and discards every message.

    python -m bench.mailing.sink PORT [DELAY_MS] [LOG] [--pipelining]

Each message's final reply (after DATA) waits DELAY_MS milliseconds, like a relay
that takes its time to queue a message; the other replies come at once. With
LOG, each accepted message's recipient is appended to that file, one a line
(the benchmark counts doubles). With ``--pipelining`` it announces PIPELINING
(RFC 2920), as Postfix does. Runs until terminated.
"""

from __future__ import annotations

import asyncio
import signal
import sys
import threading

from aiosmtpd.controller import Controller


class Discard:
    def __init__(self, delay: float, log_path: str = "", pipelining: bool = False):
        self.delay = delay
        self.log = open(log_path, "a", buffering=1) if log_path else None  # noqa: SIM115
        self.pipelining = pipelining

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname  # what aiosmtpd leaves to a handler with this hook
        if self.pipelining:
            responses.insert(1, "250-PIPELINING")
        return responses

    async def handle_DATA(self, server, session, envelope):
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.log is not None:
            self.log.write("".join(f"{rcpt}\n" for rcpt in envelope.rcpt_tos))
        return "250 2.0.0 discarded"


def main() -> None:
    args = [arg for arg in sys.argv[1:] if arg != "--pipelining"]
    port = int(args[0])
    delay = float(args[1]) / 1000 if len(args) > 1 else 0.0
    log_path = args[2] if len(args) > 2 else ""
    handler = Discard(delay, log_path, pipelining="--pipelining" in sys.argv)
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    print(f"sink on 127.0.0.1:{port}, {delay * 1000:.0f} ms per message", flush=True)
    done.wait()
    controller.stop()


if __name__ == "__main__":
    main()
