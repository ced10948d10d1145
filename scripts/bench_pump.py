"""Main-thread time per pump tick with 1, 10 and 100 jobs in flight, and proof that no tick
touches the network or the disk.

    .venv/bin/python scripts/bench_pump.py [--seconds 5]

Each job is a real task on the emulator (in another process), kept Waiting for an hour. Two
paces: "as shipped" (the default poll schedule, the request budget at the highest the
preferences allow, 600 a minute) and "stress" (first check after 0.1 s, then every 0.3 s at
most, the budget lifted: far more requests than any account may make), where nearly every job
posts a snapshot for nearly every tick, the pump's worst case. The ticks run as Blender's timer
runs them (every ``pump.PUMP_INTERVAL``) while the worker threads talk to the emulator in
this process.

During each tick, on the main thread only, it counts: Python audit events for files, sockets
and processes (``sys.addaudithook``); calls into socket objects (wrapped); and the main
thread's read and write system calls (``/proc/thread-self/io``) beyond those of reading that
counter itself, measured around empty ticks.
"""

import argparse
import socket
import sys
import threading
import time

import bench_common as bench

IO_EVENTS = ("open", "os.", "shutil.", "socket.", "subprocess.", "http.", "urllib.", "glob.")
SOCKET_METHODS = ("send", "sendall", "sendto", "recv", "recv_into", "recvfrom", "connect")


class MainThreadWatch:
    """Counts I/O by the main thread while ``active``."""

    def __init__(self):
        self.active = False
        self.main = threading.main_thread().ident
        self.events: dict[str, int] = {}
        sys.addaudithook(self._audit)
        for name in SOCKET_METHODS:
            self._wrap(socket.socket, name)

    def _counts(self) -> bool:
        return self.active and threading.get_ident() == self.main

    def _audit(self, event: str, _arguments):
        if self._counts() and event.startswith(IO_EVENTS):
            self.events[event] = self.events.get(event, 0) + 1

    def _wrap(self, cls, name):
        original = getattr(cls, name)
        watch = self

        def wrapped(self, *arguments, **keywords):
            if watch._counts():
                watch.events[f"socket {name}"] = watch.events.get(f"socket {name}", 0) + 1
            return original(self, *arguments, **keywords)

        setattr(cls, name, wrapped)


def system_calls() -> tuple[int, int]:
    """The calling thread's (read, write) system call counts."""
    with open("/proc/thread-self/io") as counters:
        fields = dict(line.split(": ") for line in counters.read().splitlines())
    return int(fields["syscr"]), int(fields["syscw"])


def tick(function, watch: MainThreadWatch) -> tuple[float, tuple[int, int]]:
    """(seconds, (reads, writes)) of one call, the system calls counted around it."""
    before = system_calls()
    watch.active = True
    start = time.perf_counter()
    function()
    seconds = time.perf_counter() - start
    watch.active = False
    after = system_calls()
    return seconds, (after[0] - before[0], after[1] - before[1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="of ticks per job count")
    arguments = parser.parse_args()

    addon = bench.blender_with_addon()
    import bpy

    session, pump, operators, jobs = (addon(name) for name in (
        "blender.session", "blender.pump", "blender.operators", "jobs"))  # fmt: skip
    operators.finish_headless = lambda operator, job_ids: {"FINISHED"}
    folder = bench.scratch_folder("bench-pump-")
    image = bench.reference_image(folder)
    watch = MainThreadWatch()
    _, empty_calls = tick(lambda: None, watch)
    rows = []
    with bench.EmulatorProcess("--waiting", "3600", "--balance", "1000") as emulator:
        bench.use_emulator(emulator.base_url)
        for pace, count in [(pace, count) for pace in ("as shipped", "stress")
                            for count in (1, 10, 100)]:  # fmt: skip
            session.shutdown()
            bpy.ops.wm.read_homefile(use_empty=True)
            objects = [bench.make_grid_object(f"Grid {i}", 200) for i in range(count)]
            for obj in objects:
                obj.select_set(True)
            live = session.get()
            if pace == "stress":
                live.manager.schedule = jobs.PollSchedule(first_delay=0.1, max_interval=0.3)
            bpy.ops.rodin_texture.generate(image_path=str(image), seed=1)
            if pace == "stress":
                live.budget.per_minute = 1_000_000
            deadline = time.monotonic() + 60
            while not all(obj.rodin_texture.task_uuid for obj in objects):
                if time.monotonic() > deadline:
                    raise RuntimeError("the jobs were not all submitted within a minute")
                pump.pump()
                time.sleep(0.05)
            assert live.manager.running_count == count
            times, drained, extra_calls = [], [], [0, 0]
            watch.events.clear()
            end = time.monotonic() + arguments.seconds
            while time.monotonic() < end:
                time.sleep(pump.PUMP_INTERVAL)
                drained.append(live.manager.updates.qsize())
                seconds, calls = tick(pump.pump, watch)
                times.append(seconds)
                extra_calls[0] += calls[0] - empty_calls[0]
                extra_calls[1] += calls[1] - empty_calls[1]
            assert live.manager.running_count == count, "a job ended during the measurement"
            rows.append([
                pace, count, len(times), f"{bench.median(drained):.0f}", f"{max(drained)}",
                f"{bench.median(times) * 1000:.3f} ms", f"{max(times) * 1000:.3f} ms",
                ", ".join(f"{name} x{n}" for name, n in sorted(watch.events.items())) or "none",
                f"{extra_calls[0]} / {extra_calls[1]}",
            ])  # fmt: skip
        session.shutdown()
    bench.print_table(
        f"Pump ticks with jobs in flight, {arguments.seconds:g} s of ticks each",
        ["pace", "jobs", "ticks", "snapshots/tick (median)", "max", "tick median", "tick max",
         "file/socket/process events on the main thread", "extra read / write syscalls"],
        rows,
    )  # fmt: skip


if __name__ == "__main__":
    main()
