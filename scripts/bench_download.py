"""Download: the add-on's client against a plain streaming ``requests`` download of the same URL.

    .venv/bin/python scripts/bench_download.py [--megabytes 200] [--runs 7]

A static file server in another process serves a file of random bytes over loopback. Each run
downloads it with a plain ``requests.get(url, stream=True)`` loop (1 MiB chunks into a file),
then with ``RodinClient.download`` (temporary file, size checks, progress, atomic rename); the
throughput ratio is taken per run, the median reported. A separate pass measures the peak
extra memory of each (Python allocations with tracemalloc; resident memory sampled every 2 ms)
for a file a tenth the size and for the full one: constant memory gives the same peaks.
"""

import argparse
import os
import subprocess
import sys
import threading
import tracemalloc
from pathlib import Path

import bench_common as bench
import requests

from rodin_texture_addon.rodin import ClientSettings, ResultFile, RodinClient

CHUNK = 1024 * 1024
SERVER = """
import functools, http.server, sys
handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=sys.argv[1])
handler.func.log_message = lambda *arguments: None
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
print(server.server_port, flush=True)
server.serve_forever()
"""
PAGE = os.sysconf("SC_PAGE_SIZE")


def plain_download(url: str, destination: Path):
    with requests.get(url, stream=True, timeout=60) as answer, destination.open("wb") as file:
        answer.raise_for_status()
        for chunk in answer.iter_content(CHUNK):
            file.write(chunk)


def addon_download(client: RodinClient, url: str, folder: Path):
    client.download(ResultFile(url=url, name="result.bin"), folder, progress=lambda *_: None)


def resident_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * PAGE


class ResidentPeak:
    """The highest resident memory seen, sampled by a thread, above what it was at the start."""

    def __enter__(self):
        self.start = self.peak = resident_bytes()
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self):
        while not self._done.wait(0.002):
            self.peak = max(self.peak, resident_bytes())

    def __exit__(self, *exc_info):
        self._done.set()
        self._thread.join()
        self.peak = max(self.peak, resident_bytes())
        self.extra = self.peak - self.start


def python_peak(download) -> int:
    """Peak Python allocations during ``download`` above those before it."""
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        download()
        return tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()


def write_random_file(path: Path, size: int):
    with path.open("wb") as file:
        for _ in range(size // CHUNK):
            file.write(os.urandom(CHUNK))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=int, default=200)
    parser.add_argument("--runs", type=int, default=7)
    arguments = parser.parse_args()

    served = bench.scratch_folder("bench-download-served-")
    target = bench.scratch_folder("bench-download-target-")
    sizes = {
        "small.bin": arguments.megabytes * CHUNK // 10,
        "full.bin": arguments.megabytes * CHUNK,
    }
    for name, size in sizes.items():
        write_random_file(served / name, size)
    server = subprocess.Popen(
        [sys.executable, "-c", SERVER, str(served)], stdout=subprocess.PIPE, text=True
    )
    client = RodinClient(ClientSettings(api_key=bench.API_KEY, base_url="http://127.0.0.1/api/v2"))
    try:
        base = f"http://127.0.0.1:{server.stdout.readline().strip()}"
        url = f"{base}/full.bin"
        plain_download(url, target / "warm-up.bin")
        plain_times, addon_times, ratios = [], [], []
        for _ in range(arguments.runs):
            plain, _ = bench.timed(plain_download, url, target / "plain.bin")
            addon, _ = bench.timed(addon_download, client, url, target)
            plain_times.append(plain)
            addon_times.append(addon)
            ratios.append(plain / addon)
            for leftover in target.iterdir():
                leftover.unlink()
        size = sizes["full.bin"]
        bench.print_table(
            f"Download of {bench.megabytes(size)} over loopback, median of {arguments.runs} runs",
            ["", "plain requests", "add-on client", "add-on / plain throughput"],
            [[
                "throughput",
                f"{size / bench.median(plain_times) / 2**20:.0f} MB/s",
                f"{size / bench.median(addon_times) / 2**20:.0f} MB/s",
                f"{bench.median(ratios):.3f} (runs: {min(ratios):.2f} to {max(ratios):.2f})",
            ]],
        )  # fmt: skip

        rows = []
        for name, size in sizes.items():
            url = f"{base}/{name}"
            for label, download in (
                ("plain requests", lambda url=url: plain_download(url, target / "plain.bin")),
                ("add-on client", lambda url=url: addon_download(client, url, target)),
            ):
                with ResidentPeak() as resident:
                    download()
                rows.append([bench.megabytes(size), label, bench.megabytes(python_peak(download)),
                             bench.megabytes(resident.extra)])  # fmt: skip
                for leftover in target.iterdir():
                    leftover.unlink()
        bench.print_table(
            "Peak extra memory while downloading",
            ["file", "downloader", "Python allocations (tracemalloc)", "resident (sampled)"],
            rows,
        )
    finally:
        client.close()
        server.terminate()
        server.wait(10)


if __name__ == "__main__":
    main()
