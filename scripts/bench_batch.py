"""Benchmark: 100 tasks in flight on a 120 requests/minute account, the shared scheduler
(``JobManager``) against a naive client that polls every task every 5 s on a thread of its own.

    .venv/bin/python scripts/bench_batch.py [--tasks 100] [--scale 4]

The emulator runs in this process with the account's limit switched on (429 above 120 API
requests in any minute); each client runs in a child process, so that its memory and threads
are its own. Time is scaled by ``--scale``: every duration (the emulator's timeline, the rate
window, poll intervals, back-offs) is divided by it, and every figure printed is multiplied
back, so the numbers read as on the real service: seconds and minutes of service time.
"""

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the add-on package, from source

from PIL import Image
from rodin_emulator import Emulator, glb

from rodin_texture_addon.jobs import JobManager, Phase, PollSchedule, RequestBudget
from rodin_texture_addon.rodin import ClientSettings, RetryPolicy, RodinClient, TextureRequest
from rodin_texture_addon.rodin.errors import RodinError

API_KEY = "bench-key"
BUDGET_PER_MINUTE = 120
NAIVE_INTERVAL = 5.0
# Service-time timeline of each task: Waiting, then Generating for 60 s plus up to 120 s more.
WAITING, GENERATING, JITTER = 10.0, 60.0, 120.0


def parse_arguments(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=100)
    parser.add_argument("--scale", type=float, default=4.0, help="time runs this much faster")
    parser.add_argument("--client", choices=["scheduler", "naive"], help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("folder", nargs="?", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


# --- the clients (child processes) ----------------------------------------------------------


def usage() -> dict:
    """This process's resident memory (MB) and thread count."""
    status = Path("/proc/self/status").read_text()
    rss_kb = int(next(line for line in status.splitlines() if line.startswith("VmRSS")).split()[1])
    return {"rss_mb": rss_kb / 1024, "threads": threading.active_count()}


def inputs(folder: Path) -> TextureRequest:
    (folder / "model.glb").write_bytes(glb.cube_glb())
    Image.new("RGB", (16, 16), (180, 90, 40)).save(folder / "reference.png")
    return TextureRequest(folder / "reference.png", folder / "model.glb")


def run_scheduler(url: str, tasks: int, scale: float, folder: Path) -> dict:
    schedule = PollSchedule(
        first_delay=5.0 / scale,
        max_interval=30.0 / scale,
        deadline=3600.0 / scale,
        download_retry_delay=2.0 / scale,
        retry_delay=15.0 / scale,
    )
    window = 60.0 / scale
    budget = RequestBudget(BUDGET_PER_MINUTE, window=window, margin=window / 60)
    manager = JobManager(schedule, budget=budget)
    client = RodinClient(ClientSettings(API_KEY, base_url=url), request_gate=manager.request_gate)
    request = inputs(folder)
    job_ids = [f"job-{index}" for index in range(tasks)]
    for job_id in job_ids:
        manager.submit(job_id, client, request, folder / "results")
    downloaded, peak = {}, {}
    for snapshot in manager.drain(job_ids):
        if snapshot is not None and snapshot.phase is Phase.DONE:
            downloaded[snapshot.task_uuid] = snapshot.finished_at
        if manager.in_flight_count >= tasks and not peak:
            peak = usage()
    manager.shutdown()
    client.close()
    return {"downloaded": downloaded, "at_peak": peak or usage()}


def run_naive(url: str, tasks: int, scale: float, folder: Path) -> dict:
    """One thread a task: submit, then sleep 5 s and ask, until Done; then download."""
    client = RodinClient(ClientSettings(API_KEY, base_url=url, retry=RetryPolicy()))
    request = inputs(folder)
    downloaded, lock, started = {}, threading.Lock(), threading.Barrier(tasks + 1)

    def follow(index: int):
        while True:
            try:
                task = client.submit(request)
                break
            except RodinError:
                time.sleep(NAIVE_INTERVAL / scale)
        started.wait()
        while True:
            time.sleep(NAIVE_INTERVAL / scale)
            try:
                if not client.status(task.subscription_key).done:
                    continue
                files = client.list_results(task.task_uuid)
                model = next(f for f in files if f.file_name.endswith(".glb"))
                client.download(model, folder / "results" / task.task_uuid)
            except (RodinError, StopIteration):
                continue
            with lock:
                downloaded[task.task_uuid] = time.time()
            return

    threads = [threading.Thread(target=follow, args=(i,), daemon=True) for i in range(tasks)]
    for thread in threads:
        thread.start()
    started.wait()
    peak = usage()
    for thread in threads:
        thread.join()
    client.close()
    return {"downloaded": downloaded, "at_peak": peak}


# --- the measurement (this process) ---------------------------------------------------------


def measure(emulator: Emulator, mode: str, arguments) -> dict:
    scale = arguments.scale
    emulator.reset(
        waiting_seconds=WAITING / scale,
        generating_seconds=GENERATING / scale,
        generating_jitter=JITTER / scale,
        requests_per_window=BUDGET_PER_MINUTE,
        rate_window=60.0 / scale,
    )
    started = time.time()
    with tempfile.TemporaryDirectory() as folder:
        child = subprocess.run(
            [sys.executable, __file__, "--client", mode, "--url", emulator.base_url,
             "--tasks", str(arguments.tasks), "--scale", str(scale), folder],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
    result = json.loads(child.stdout.splitlines()[-1])
    api = [r for r in emulator.requests if r.server == "api"]
    delays = [
        (downloaded_at - done_at(emulator.tasks[task_uuid])) * scale
        for task_uuid, downloaded_at in result["downloaded"].items()
    ]
    minutes = (time.time() - started) * scale / 60
    return {
        "finished": f"{len(result['downloaded'])}/{arguments.tasks}",
        "run time (service min)": f"{minutes:.1f}",
        "requests/min, busiest minute": emulator.most_requests_in(60.0 / scale),
        "requests/min, mean": f"{len(api) / minutes:.0f}",
        "429 responses": emulator.rate_limited_count,
        "Done->downloaded median (s)": f"{statistics.median(delays):.1f}",
        "Done->downloaded p95 (s)": f"{percentile(delays, 95):.1f}",
        "threads with all in flight": result["at_peak"]["threads"],
        "RSS MB with all in flight": f"{result['at_peak']['rss_mb']:.0f}",
    }


def done_at(task) -> float:
    return task.submit_time + task.waiting_seconds + task.generating_seconds


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share / 100 * (len(ordered) - 1)))]


def main() -> int:
    arguments = parse_arguments()
    if arguments.client:
        run = run_scheduler if arguments.client == "scheduler" else run_naive
        folder = Path(arguments.folder)
        print(json.dumps(run(arguments.url, arguments.tasks, arguments.scale, folder)))
        return 0
    print(
        f"{arguments.tasks} tasks, budget {BUDGET_PER_MINUTE} requests/minute (the emulator "
        f"answers 429 above it); tasks take {WAITING:g} s waiting + {GENERATING:g}-"
        f"{GENERATING + JITTER:g} s generating; time scaled x{arguments.scale:g}, figures in "
        "service time",
        flush=True,
    )
    with Emulator(api_key=API_KEY, texture_size=64) as emulator:
        results = {}
        for mode in ("scheduler", "naive"):
            results[mode] = measure(emulator, mode, arguments)
            print(f"  {mode}: done", flush=True)
    print(f"{'':32}{'scheduler':>12}{'naive 5 s':>12}")
    for name in results["scheduler"]:
        print(f"{name:32}{results['scheduler'][name]!s:>12}{results['naive'][name]!s:>12}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
