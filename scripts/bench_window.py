"""Responsiveness in Blender's real window: the main loop's longest gap and 99th percentile (a
10 ms heartbeat timer) while idle, while 1 and 10 jobs are in flight, when results arrive, and
while Apply to Original bakes at 1K and 2K, in one run, as ratios against idle; beside them,
the add-on's own main-thread work (its timers, panel draws and operators: the longest call)
and how often Blender redrew the viewport and the sidebar.

    .venv/bin/python scripts/bench_window.py [--idle-seconds 5] [--zip OTHER.zip]

Runs against the emulator with the service's pacing and 2K result textures, in a process of
its own at the lowest CPU priority (the real service's work happens elsewhere); needs the GUI
tier's Blender (scripts/setup-gui, or $BLENDER). The submit phases include the click's own
work (finding the button: the session's hovering). ``--zip`` measures another build of the
add-on, e.g. an older commit's.
"""

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import build_extension
import gui_blender
import numpy as np

SCRIPTS = Path(__file__).resolve().parent
OUT = gui_blender.REPO / "out" / "bench-window"
KEY = "bench-key"


def start_emulator() -> tuple[subprocess.Popen, str]:
    command = [
        "nice", "-n", "19", sys.executable, str(SCRIPTS / "emulator.py"),
        "--api-key", KEY, "--waiting", "3", "--generating", "6",
    ]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    first_line = process.stdout.readline()
    return process, first_line.rsplit(" ", 1)[-1].strip()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--idle-seconds", type=float, default=5.0)
    parser.add_argument(
        "--zip", type=Path, help="an extension zip to measure (default: this checkout's, built)"
    )
    options = parser.parse_args(argv)
    emulator, base_url = start_emulator()
    try:
        with tempfile.TemporaryDirectory(prefix="rodin-bench-window-") as folder:
            extension = options.zip or build_extension.build(Path(folder) / "dist")
            params = {
                "zip": str(extension),
                "base_url": base_url,
                "api_key": KEY,
                "results": str(Path(folder) / "results"),
                "image": str(SCRIPTS / "demo_assets" / "glaze.png"),
                "idle_seconds": options.idle_seconds,
            }
            report = gui_blender.run("responsiveness", OUT, params, timeout=900)
    finally:
        emulator.terminate()
        emulator.wait()
    print_table(report.facts)
    print(f"screenshots and log: {OUT}")
    return 0


def print_table(facts: dict) -> None:
    gaps = {name: np.array(values) * 1000 for name, values in facts["gaps"].items()}
    idle_max, idle_p99 = gaps["idle"].max(), np.percentile(gaps["idle"], 99)
    header = ["phase", "beats", "max ms", "p99 ms", "max/idle", "p99/idle", "add-on ms", "redraws"]
    print(f"{header[0]:<22}" + "".join(f"{title:>10}" for title in header[1:]))
    for name, values in gaps.items():
        longest, p99 = values.max(), np.percentile(values, 99)
        work = max(facts["addon_work"][name], default=0.0) * 1000
        redraws = facts["redraws"][name]
        drawn = f"{redraws['viewport']}v {redraws['sidebar']}s"
        print(
            f"{name:<22}{len(values):>10}{longest:>10.1f}{p99:>10.1f}{longest / idle_max:>10.2f}"
            f"{p99 / idle_p99:>10.2f}{work:>10.1f}{drawn:>10}"
        )
    print("add-on ms: its longest main-thread call; redraws: viewport (v) and sidebar (s)")


if __name__ == "__main__":
    sys.exit(main())
