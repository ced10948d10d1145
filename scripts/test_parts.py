"""Runs the parts of ``scripts/test`` side by side and prints what each took.

A part is one pytest run: the suite on one Blender (its own venv and ``bpy`` wheel), or the GUI
tier. Up to ``--jobs`` parts run at once (the machine has 2 cores, and a part spends much of its
time waiting on the emulator, timers and the window), longest first. Each part writes its
output to ``OUT/<part>.log`` and its results to ``OUT/<part>.xml``, and gets a temporary folder of
its own (so pytest's folders and Blender's crash reports never mix). A part that fails is named,
and the end of its log shown; any failure fails the whole.

Usage (scripts/test calls it, after setting up every venv):
    python scripts/test_parts.py --out out/test [--jobs 2] PART... [-- PYTEST ARGUMENTS]
where PART is ``NAME=PYTHON:MARKERS``, e.g. ``4.5=.venv/bin/python:not gui``.
"""

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass, field
from pathlib import Path

BUDGET_MINUTES = 30
PART_TIMEOUT_MINUTES = 45  # a part still running then is hung: it is ended and fails
TAIL_LINES = 60
NOTHING_SELECTED = 5  # pytest's exit code when the markers select no test
OUTCOMES = ("passed", "failure", "error", "skipped")  # as the JUnit XML tells them


@dataclass
class Part:
    name: str
    python: str
    markers: str
    status: int | None = None
    timed_out: bool = False
    seconds: float = 0.0
    tests: dict = field(default_factory=dict)  # outcome -> count
    durations: list = field(default_factory=list)  # (seconds, test id)

    @property
    def failed(self) -> bool:
        return self.timed_out or self.status not in (0, NOTHING_SELECTED)


def parse_part(text: str) -> Part:
    name, _, rest = text.partition("=")
    python, _, markers = rest.partition(":")
    if not (name and python and markers):
        raise argparse.ArgumentTypeError(f"a part is NAME=PYTHON:MARKERS, not {text!r}")
    return Part(name, python, markers)


def read_results(part: Part, junit: Path) -> None:
    """Test counts by outcome and each test's time, from the part's JUnit XML."""
    if not junit.is_file():
        return
    for case in ElementTree.parse(junit).getroot().iter("testcase"):
        kinds = {child.tag for child in case}
        outcome = next((name for name in OUTCOMES[1:] if name in kinds), "passed")
        part.tests[outcome] = part.tests.get(outcome, 0) + 1
        test_id = f"{case.get('classname', '').replace('.', '/')}.py::{case.get('name')}"
        part.durations.append((float(case.get("time", 0)), test_id))


def start(part: Part, out: Path, pytest_arguments: list[str]) -> subprocess.Popen:
    temp = Path(tempfile.mkdtemp(prefix=f"rodin-test-{part.name}-"))
    command = [
        part.python, "-m", "pytest", "-m", part.markers,
        f"--junitxml={out / part.name}.xml", *pytest_arguments,
    ]  # fmt: skip
    log = (out / f"{part.name}.log").open("w")
    process = subprocess.Popen(
        command,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        env={**os.environ, "TMPDIR": str(temp)},
        start_new_session=True,  # its Blenders, emulators and Xvfb end with it on a time-out
    )
    process.temp, process.log, process.started = temp, log, time.monotonic()
    return process


def finish(part: Part, process: subprocess.Popen, out: Path) -> None:
    part.status = process.returncode
    part.seconds = time.monotonic() - process.started
    process.log.close()
    shutil.rmtree(process.temp, ignore_errors=True)
    read_results(part, out / f"{part.name}.xml")
    counts = ", ".join(f"{count} {outcome}" for outcome, count in sorted(part.tests.items()))
    verdict = "FAILED" if part.failed else "passed"
    if part.timed_out:
        verdict += " (hung: ended at its time limit)"
    print(
        f"=== {part.name}: {verdict} in {part.seconds:.0f} s ({counts or 'no tests'})", flush=True
    )
    if part.failed:
        lines = (out / f"{part.name}.log").read_text(errors="replace").splitlines()
        print("\n".join(lines[-TAIL_LINES:]), flush=True)


def run(
    parts: list[Part],
    jobs: int,
    out: Path,
    pytest_arguments: list[str],
    timeout: float = PART_TIMEOUT_MINUTES * 60,
) -> float:
    """Runs every part, at most ``jobs`` at once, in the order given, each for ``timeout``
    seconds at most; returns the wall time."""
    out.mkdir(parents=True, exist_ok=True)
    began = time.monotonic()
    waiting, running = list(parts), {}
    while waiting or running:
        while waiting and len(running) < jobs:
            part = waiting.pop(0)
            print(f"=== {part.name}: started (-m '{part.markers}')", flush=True)
            running[part.name] = (part, start(part, out, pytest_arguments))
        time.sleep(0.5)
        for name, (part, process) in list(running.items()):
            if process.poll() is None and time.monotonic() - process.started > timeout:
                part.timed_out = True
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
            if process.poll() is not None:
                del running[name]
                finish(part, process, out)
    return time.monotonic() - began


def table(parts: list[Part], wall: float) -> str:
    lines = ["", "part        wall      tests  result"]
    for part in parts:
        counts = sum(part.tests.values())
        result = "FAILED" if part.failed else "passed"
        lines.append(f"{part.name:<10} {part.seconds:6.0f} s {counts:7d}  {result}")
    slowest = sorted(
        ((seconds, part.name, test) for part in parts for seconds, test in part.durations),
        reverse=True,
    )[:10]
    lines += ["", "slowest ten tests:"]
    lines += [f"{seconds:7.1f} s  {name:<10} {test}" for seconds, name, test in slowest]
    work = sum(part.seconds for part in parts)
    lines += [
        "",
        f"total: {wall:.0f} s wall ({wall / 60:.1f} min; the parts' own times add up to "
        f"{work / 60:.1f} min) against a budget of {BUDGET_MINUTES} min",
    ]
    if wall > BUDGET_MINUTES * 60:
        lines.append(
            f"OVER BUDGET: {wall / 60 - BUDGET_MINUTES:.1f} min past {BUDGET_MINUTES} min "
            "(not a failure; CI stops at 90)"
        )
    counts = {outcome: sum(part.tests.get(outcome, 0) for part in parts) for outcome in OUTCOMES}
    lines.append(
        f"scripts/test: {counts['passed']} passed, {counts['failure'] + counts['error']} failed, "
        f"{counts['skipped']} skipped"
    )
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    ours, pytest_arguments = argv, []
    if "--" in argv:
        split = argv.index("--")
        ours, pytest_arguments = argv[:split], argv[split + 1 :]
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--timeout-minutes", type=float, default=PART_TIMEOUT_MINUTES)
    parser.add_argument("parts", nargs="+", type=parse_part)
    options = parser.parse_args(ours)
    timeout = options.timeout_minutes * 60
    wall = run(options.parts, max(1, options.jobs), options.out, pytest_arguments, timeout)
    print(table(options.parts, wall))
    failed = [part.name for part in options.parts if part.failed]
    if failed:
        print(f"scripts/test: failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
