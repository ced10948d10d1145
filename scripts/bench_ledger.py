"""What the task ledger costs: one durable write (a worker thread's, or the main thread's when
a result is applied); reading it whole, as a new session does first (in the window, on a
worker thread); and reading what one more task appended, as the History section does on the
main thread when the file changed; and compacting it (past 1 MB: a line per task of the last
month), as a session's first read does in the window. For ledgers of 100, 1,000 and 10,000
tasks; medians of 5.

    .venv/bin/python scripts/bench_ledger.py

Each task is four lines, as the add-on writes them: submitted, downloaded, applied, and one
more applied (a variant chosen again).
"""

import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the add-on package, from source

from rodin_texture_addon.jobs.ledger import (
    APPLIED,
    COMPACT_ABOVE,
    DOWNLOADED,
    SUBMITTED,
    TaskLedger,
)

SIZES = (100, 1_000, 10_000)
SETTINGS = {"material": "PBR", "resolution": "Basic", "seed": "1234", "prompt": "weathered bronze"}


def fill(ledger: TaskLedger, tasks: int) -> list[float]:
    """Write the records of ``tasks`` tasks; the seconds of each write."""
    times = []
    for number in range(tasks):
        uuid = f"{number:08d}-0000-4000-8000-000000000000"
        for event, fields in (
            (SUBMITTED, {"submitted_at": time.time(), "object_name": "Suzanne", "file_path":
                         "/projects/props/chair.blend", "settings": SETTINGS,
                         "subscription_key": "k" * 160, "job_uuids": [uuid]}),
            (DOWNLOADED, {"model_path": f"/results/{uuid}/base.glb", "preview_path": "p.webp"}),
            (APPLIED, {"applied_to": "Suzanne"}),
            (APPLIED, {"applied_to": "Suzanne"}),
        ):  # fmt: skip
            start = time.perf_counter()
            ledger.record(event, uuid, **fields)
            times.append(time.perf_counter() - start)
    return times


def main() -> int:
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-ledger-") as folder:
        for size in SIZES:
            ledger = TaskLedger(Path(folder) / f"{size}.jsonl")
            writes = fill(ledger, size)
            firsts, laters = [], []
            for _ in range(5):
                fresh = TaskLedger(ledger.path)  # a new session reads the whole file
                start = time.perf_counter()
                assert len(fresh.tasks()) == size
                firsts.append(time.perf_counter() - start)
                fill(ledger, 1)  # one task more, from anyone: read on its own
                start = time.perf_counter()
                fresh.tasks()
                laters.append(time.perf_counter() - start)
            before = ledger.path.stat().st_size
            start = time.perf_counter()
            ledger.compact()  # all the tasks are from today: only the folding to one line
            compacting = time.perf_counter() - start
            compacted = TaskLedger(ledger.path)
            start = time.perf_counter()
            compacted.tasks()
            read_compacted = time.perf_counter() - start
            rows.append(
                [
                    f"{size:,}",
                    f"{before / 2**20:.2f} MB",
                    f"{statistics.median(writes) * 1e3:.2f} ms",
                    f"{max(writes) * 1e3:.1f} ms",
                    f"{statistics.median(firsts) * 1e3:.0f} ms",
                    f"{statistics.median(laters) * 1e3:.1f} ms",
                    f"{compacting * 1e3:.0f} ms" if before > COMPACT_ABOVE else "-",
                    f"{ledger.path.stat().st_size / 2**20:.2f} MB, {read_compacted * 1e3:.0f} ms",
                ]
            )
    headers = ["tasks", "file", "write", "worst write", "first read", "read after a task more",
               "compaction", "compacted: file, first read"]  # fmt: skip
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    print("\nThe task ledger (fsync'd appends under the file's lock)")
    print("  ".join(h.rjust(w) for h, w in zip(headers, widths, strict=True)))
    for row in rows:
        print("  ".join(cell.rjust(w) for cell, w in zip(row, widths, strict=True)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
