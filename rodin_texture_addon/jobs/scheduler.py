"""Where the account's requests go: which task to check next, and how many may run at once.

One dispatcher serves every task (``JobManager``), so these are plain policies it consults:
``PollPlanner`` orders status checks so that a small request budget goes where a result is
most likely waiting; ``TaskSlots`` caps the tasks in flight and learns the account's own cap
from ``API_PARALLELISM_LIMIT_REACHED``. No threads and no clock of their own: callers pass times.
"""

import bisect
from collections import deque
from dataclasses import dataclass, field

from .pacing import PollSchedule

# Completion ages remembered to estimate when the tasks still running will finish.
COMPLETION_SAMPLES = 64


@dataclass
class PollPlanner:
    """Learns how long tasks take (from submit to Done) and ranks the status checks.

    A /status call covers one task (all of its jobs), so with 100 tasks in flight the budget
    allows each only a check now and then. Checks go first to the task most likely to have
    finished since its last check, from the ages at which earlier tasks finished; until any
    has, to the task whose check is most overdue (round robin). No task is checked more often
    than its ``PollSchedule`` interval, so a light load still backs off.
    """

    schedule: PollSchedule = field(default_factory=PollSchedule)
    _ages: list[float] = field(default_factory=list)
    _recent: deque = field(default_factory=lambda: deque(maxlen=COMPLETION_SAMPLES))

    def finished(self, age_at_last_pending_check: float):
        """A task was seen Done; it was still running at this age (seconds since submit)."""
        if len(self._recent) == self._recent.maxlen:
            self._ages.remove(self._recent[0])
        self._recent.append(age_at_last_pending_check)
        bisect.insort(self._ages, age_at_last_pending_check)

    def next_interval(self, age: float, previous: float) -> float:
        """Seconds until a task of this age may be checked again: the usual back-off, but as
        often as at first once tasks of its age have been seen to finish."""
        if self._ages and age >= self._ages[0]:
            return self.schedule.first_delay
        return self.schedule.next_interval(previous)

    def likelihood(self, age_checked: float, age_now: float) -> float:
        """The chance a task still running at ``age_checked`` has finished by ``age_now``,
        from the finishing ages seen so far (0 when none has been seen)."""
        if not self._ages:
            return 0.0
        before, now = self._share_by(age_checked), self._share_by(age_now)
        return 1.0 if before >= 1.0 else (now - before) / (1.0 - before)

    def _share_by(self, age: float) -> float:
        return bisect.bisect_right(self._ages, age) / len(self._ages)


@dataclass
class TaskSlots:
    """How many tasks may be in flight: ``cap`` (None: no cap of our own), lowered to what the
    service accepted when it answers ``API_PARALLELISM_LIMIT_REACHED``. The learned cap is
    forgotten after ``memory`` seconds, in case the limit came from another program on the
    account and has since gone."""

    cap: int | None = None
    memory: float = 120.0
    _learned: int | None = None
    _learned_at: float = 0.0

    def limit(self, now: float) -> int | None:
        if self._learned is not None and now - self._learned_at > self.memory:
            self._learned = None
        caps = [cap for cap in (self.cap, self._learned) if cap is not None]
        return min(caps) if caps else None

    def free(self, in_flight: int, now: float) -> bool:
        limit = self.limit(now)
        return limit is None or in_flight < limit

    def refused(self, in_flight: int, now: float):
        """The service refused a submit with this many of ours in flight."""
        self._learned = max(1, in_flight)
        self._learned_at = now
