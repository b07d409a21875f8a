"""One measured import in a process of its own, so its peak memory is its own.

Prints one JSON line: seconds, rows, counts and peak resident memory (MB).
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("database_url")
    parser.add_argument("path", nargs="?")
    parser.add_argument("--fresh", action="store_true", help="create the schema first")
    parser.add_argument("--policy", default="keep")
    parser.add_argument("--schema-only", action="store_true", help="create the schema, no import")
    args = parser.parse_args()

    from campaign import create_app
    from campaign.extensions import db
    from campaign.supporters import imports

    instance = tempfile.mkdtemp(prefix="ua-bench-")
    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": args.database_url, "INSTANCE_PATH": instance, "SECRET_KEY": "b"}
    )
    with app.app_context():
        if args.fresh or args.schema_only:
            db.drop_all()
            db.create_all()
        if args.schema_only:
            return
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        started = time.perf_counter()
        job = imports.from_path(None, args.path)
        imports.configure(
            None, job, mapping=job.mapping, consent_source="benchmark", policy=args.policy,
            dry_run=False,
        )  # fmt: skip
        db.session.commit()
        counts = imports.execute(job)
        seconds = time.perf_counter() - started
        # Any child process the import starts counts too (the sum of the
        # peaks, an upper bound of what ran at once); the import starts none now.
        own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        reader = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        peak = own + reader
        print(
            json.dumps(
                {
                    "seconds": seconds,
                    "counts": counts.as_dict(),
                    "peak_mb": round(peak, 1),
                    "app_mb": round(before, 1),
                    "writer_mb": round(own, 1),
                    "reader_mb": round(reader, 1),
                }
            )
        )


if __name__ == "__main__":
    main()
