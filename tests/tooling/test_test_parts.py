"""scripts/test_parts.py, which runs the test command's parts side by side: a failure in any part
fails the whole and names the part; the table says what each part took."""

import subprocess
import sys
import time
from pathlib import Path

RUNNER = Path(__file__).resolve().parents[2] / "scripts" / "test_parts.py"
SUITE = """
import time
import pytest

@pytest.mark.first
def test_first_passes():
    time.sleep(0.2)

@pytest.mark.second
def test_second_fails():
    assert 1 + 1 == 3, "deliberately broken"

@pytest.mark.hangs
def test_hangs():
    time.sleep(600)
"""
CONFIG = """
[pytest]
markers =
    first: the first part
    second: the second part
    third: selects nothing
    hangs: never ends
"""


def run_parts(folder: Path, *parts: str, timeout_minutes: float = 1) -> subprocess.CompletedProcess:
    (folder / "test_suite.py").write_text(SUITE)
    (folder / "pytest.ini").write_text(CONFIG)
    command = [sys.executable, str(RUNNER), "--out", str(folder / "out"), "--jobs", "2"]
    command += ["--timeout-minutes", str(timeout_minutes), *parts]
    command += ["--", "-p", "no:cacheprovider", "test_suite.py"]
    return subprocess.run(command, cwd=folder, capture_output=True, text=True, timeout=120)


def test_a_failing_part_fails_the_whole_and_is_named_with_its_log(tmp_path):
    python = sys.executable
    ran = run_parts(tmp_path, f"old={python}:first", f"new={python}:second", f"gui={python}:third")

    assert ran.returncode == 1
    assert "scripts/test: failed: new" in ran.stderr
    assert "=== new: FAILED" in ran.stdout and "deliberately broken" in ran.stdout
    assert "=== old: passed" in ran.stdout
    assert "=== gui: passed" in ran.stdout, "a part whose markers select nothing passes"
    rows = {line.split()[0]: line.split() for line in ran.stdout.splitlines() if " s " in line}
    assert rows["old"][3:] == ["1", "passed"] and rows["new"][3:] == ["1", "FAILED"]
    assert "test_suite.py::test_first_passes" in ran.stdout.split("slowest ten tests:")[1]
    assert "against a budget of 30 min" in ran.stdout
    assert ran.stdout.splitlines()[-1] == "scripts/test: 1 passed, 1 failed, 0 skipped"
    assert (tmp_path / "out" / "new.log").read_text().count("deliberately broken") >= 1


def test_parts_that_pass_pass_the_whole(tmp_path):
    ran = run_parts(tmp_path, f"a={sys.executable}:first", f"b={sys.executable}:first")

    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "OVER BUDGET" not in ran.stdout


def test_a_hung_part_is_ended_at_its_time_limit_and_fails_the_whole(tmp_path):
    started = time.monotonic()
    ran = run_parts(
        tmp_path,
        f"hung={sys.executable}:hangs",
        f"fine={sys.executable}:first",
        timeout_minutes=0.05,
    )

    assert ran.returncode == 1 and "scripts/test: failed: hung" in ran.stderr
    assert "=== hung: FAILED (hung: ended at its time limit)" in ran.stdout
    assert "=== fine: passed" in ran.stdout
    assert time.monotonic() - started < 60, "the sleeping test was killed, not waited for"
