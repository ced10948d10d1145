"""Responsiveness in Blender's real window: the main loop's longest gap and 99th percentile (a
10 ms heartbeat timer) while idle, while 1 and 10 jobs are in flight, when results arrive, and
while Apply to Original bakes at 1K and 2K, in one run, as ratios against idle.

    .venv/bin/python scripts/bench_window.py [--idle-seconds 5]

Runs against the emulator with the service's pacing (results with 2K textures); needs the GUI
tier's Blender (scripts/setup-gui, or $BLENDER).
"""

import argparse
import sys
import tempfile
from pathlib import Path

import build_extension
import gui_blender
import numpy as np
from rodin_emulator import Emulator

SCENE = Path(__file__).resolve().parent / "demo_assets"
OUT = gui_blender.REPO / "out" / "bench-window"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--idle-seconds", type=float, default=5.0)
    options = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="rodin-bench-window-") as folder:
        extension = build_extension.build(Path(folder) / "dist")
        settings = {"api_key": "bench-key", "waiting_seconds": 3.0, "generating_seconds": 6.0}
        with Emulator(**settings) as emulator:
            params = {
                "zip": str(extension),
                "base_url": emulator.base_url,
                "api_key": "bench-key",
                "results": str(Path(folder) / "results"),
                "image": str(SCENE / "glaze.png"),
                "idle_seconds": options.idle_seconds,
            }
            report = gui_blender.run("responsiveness", OUT, params, timeout=900)
    rows = {name: np.array(gaps) * 1000 for name, gaps in report.facts["gaps"].items()}
    idle = rows["idle"]
    idle_max, idle_p99 = idle.max(), np.percentile(idle, 99)
    print(f"{'phase':<22}{'beats':>7}{'max ms':>10}{'p99 ms':>10}{'max/idle':>10}{'p99/idle':>10}")
    for name, gaps in rows.items():
        longest, p99 = gaps.max(), np.percentile(gaps, 99)
        print(
            f"{name:<22}{len(gaps):>7}{longest:>10.1f}{p99:>10.1f}"
            f"{longest / idle_max:>10.2f}{p99 / idle_p99:>10.2f}"
        )
    print("gaps over 50 ms (phase: ms at s after its start):")
    starts = dict(report.facts["marks"])
    for when, gap, phase in report.facts["long_gaps"]:
        if phase:
            print(f"  {phase}: {gap * 1000:.0f} at {when - starts[phase]:.2f}")
    print(f"screenshots and log: {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
