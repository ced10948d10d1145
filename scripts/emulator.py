"""Run the local Rodin texture-only emulator until SIGINT or SIGTERM.

Prints the API and file host addresses, so a test or demo in another process can use them;
``/_emulator/...`` routes on the API server drive it (see ``rodin_emulator``).
"""

import argparse
import signal
import threading

from rodin_emulator import Emulator


def parse_arguments(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="API port (0: any free port)")
    parser.add_argument("--file-port", type=int, default=0, help="file host port (0: any)")
    parser.add_argument("--api-key", default="emulator-key")
    parser.add_argument("--balance", type=float, default=100.0)
    parser.add_argument("--waiting", type=float, default=3.0, help="seconds in Waiting")
    parser.add_argument("--generating", type=float, default=10.0, help="seconds in Generating")
    parser.add_argument("--generating-jitter", type=float, default=0.0, help="random extra s")
    parser.add_argument("--queue-length", type=int, default=2)
    parser.add_argument(
        "--requests-per-minute", type=int, default=None, help="answer 429 above this"
    )
    parser.add_argument("--texture-size", type=int, default=None, help="default: 2048 / 4096")
    parser.add_argument("--max-parallel-tasks", type=int, default=None)
    parser.add_argument("--link-lifetime", type=float, default=600.0, help="seconds")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    arguments = parse_arguments(argv)
    stopping = threading.Event()
    for signal_number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signal_number, lambda *_: stopping.set())
    emulator = Emulator(
        host=arguments.host,
        port=arguments.port,
        file_port=arguments.file_port,
        api_key=arguments.api_key,
        balance=arguments.balance,
        waiting_seconds=arguments.waiting,
        generating_seconds=arguments.generating,
        generating_jitter=arguments.generating_jitter,
        requests_per_window=arguments.requests_per_minute,
        queue_length=arguments.queue_length,
        texture_size=arguments.texture_size,
        max_parallel_tasks=arguments.max_parallel_tasks,
        link_lifetime=arguments.link_lifetime,
    )
    with emulator:
        print(f"Rodin emulator API: {emulator.base_url}", flush=True)
        print(f"Rodin emulator files: {emulator.file_base_url}", flush=True)
        stopping.wait()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
