"""How often to ask the service: the polling schedule and the account's request budget."""

import threading
import time
from dataclasses import dataclass

from ..rodin import contract
from ..rodin.errors import Cancelled


@dataclass(frozen=True)
class PollSchedule:
    """When to check a task: first after ~5 s, then backing off to 30 s, giving up at 20 min."""

    first_delay: float = contract.FIRST_STATUS_DELAY
    growth: float = 1.5
    max_interval: float = contract.MAX_STATUS_INTERVAL
    deadline: float = contract.GENERATION_DEADLINE
    # An empty result list right after Done, an expired link, a cut-off body: try again (with
    # fresh links) a few times before calling the download a failure.
    download_retries: int = 3
    download_retry_delay: float = 2.0
    # After API_PARALLELISM_LIMIT_REACHED, or a retryable error on a step, try again after this.
    retry_delay: float = 15.0

    def next_interval(self, previous: float) -> float:
        return min(self.max_interval, max(previous, self.first_delay) * self.growth)


class RequestBudget:
    """A token bucket shared by every API call of the process: at most ``per_minute`` a minute.

    ``acquire`` blocks the calling worker thread until a request may go; bursts are limited to
    ``burst`` requests so the rate stays smooth.
    """

    def __init__(self, per_minute: float = 120.0, burst: int = 10, clock=time.monotonic):
        self._rate = per_minute / 60.0
        self._capacity = float(max(1, burst))
        self._tokens = self._capacity
        self._clock = clock
        self._stamp = clock()
        self._lock = threading.Lock()

    @property
    def per_minute(self) -> float:
        return self._rate * 60.0

    @per_minute.setter
    def per_minute(self, value: float):
        with self._lock:
            self._rate = value / 60.0

    def try_acquire(self) -> float:
        """Take a request's token: 0.0 when granted, else the seconds until one is free."""
        with self._lock:
            now = self._clock()
            self._tokens = min(self._capacity, self._tokens + (now - self._stamp) * self._rate)
            self._stamp = now
            if self._tokens >= 1.0:
                self._tokens -= 1.0
                return 0.0
            return (1.0 - self._tokens) / self._rate

    def acquire(self, cancel: threading.Event | None = None):
        """Block until a request may go; ``cancel`` cuts the wait short."""
        while (wait := self.try_acquire()) > 0.0:
            if cancel is None:
                time.sleep(wait)
            elif cancel.wait(wait):
                raise Cancelled("stopped while waiting for the request budget")
