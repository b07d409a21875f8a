"""gunicorn reads this file from the working directory (docs/OPERATIONS.md, "Metrics").

Prometheus counters of HTTP requests live in each worker process; with
PROMETHEUS_MULTIPROC_DIR set before the workers start, prometheus_client
keeps them in files there and /metrics adds up all workers. Nothing here may
import prometheus_client at the top: the workers must import it after the
variable is set.
"""

import os
from pathlib import Path

_instance = os.environ.get("INSTANCE_PATH") or str(Path(__file__).resolve().parent / "instance")
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(Path(_instance) / "prometheus")


def on_starting(server):
    """Counts of a previous run would be added to this one's: start from zero."""
    folder = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("*.db"):
        stale.unlink()


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
