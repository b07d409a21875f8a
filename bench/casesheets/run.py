"""Field accuracy of the case-sheet import over tests/casesheets/corpus, per format and field.

Usage: .venv/bin/python -m bench.casesheets.run [--wrong]

Prints fields right ÷ fields expected per field and format (see
tests/casesheets/corpus/scoring.py for what counts as a field), proposed people
and targets the sheets do not expect, and the slowest read + extraction of one
sheet, which must stay under a second.
"""

from __future__ import annotations

import statistics
import sys
import time

from tests.casesheets.corpus.scoring import FORMATS, run, sheets, summary

MAX_SECONDS_PER_SHEET = 1.0


def main(argv: list[str]) -> int:
    started = time.perf_counter()
    results = run()
    elapsed = time.perf_counter() - started
    table = summary(results)
    fields = sorted({f for fmt in table.values() for f in fmt} - {"all"})
    columns = [*FORMATS, "all"]
    print(f"{len(sheets())} sheets × {len(FORMATS)} formats, {elapsed:.1f} s in all")
    print(f"{'field':<22}" + "".join(f"{c:>14}" for c in columns))
    for name in [*fields, "all"]:
        cells = []
        for fmt in columns:
            right, total = table.get(fmt, {}).get(name, (0, 0))
            cells.append(f"{right}/{total} {right / total:>5.0%}" if total else "-")
        print(f"{name:<22}" + "".join(f"{c:>14}" for c in cells))
    slowest = max(results, key=lambda r: r.seconds)
    median = statistics.median(r.seconds for r in results)
    print(
        f"read + extract one sheet: median {median * 1000:.0f} ms, slowest "
        f"{slowest.sheet}.{slowest.format} {slowest.seconds * 1000:.0f} ms (the first pays imports)"
    )
    extras = [e for r in results for e in r.extra]
    print(f"proposed but not expected: {len(extras)}")
    if "--wrong" in argv:
        for r in results:
            for line in r.wrong:
                print("  wrong:", line)
        for line in extras:
            print("  extra:", line)
    if slowest.seconds > MAX_SECONDS_PER_SHEET:
        print(f"FAIL: {slowest.sheet}.{slowest.format} took over {MAX_SECONDS_PER_SHEET} s")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
