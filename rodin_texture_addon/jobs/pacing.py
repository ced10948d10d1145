"""How often to ask the service: the polling schedule and the account's request budget."""

import threading
import time
from collections import deque
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
    """The account's request limit, shared by every API call of the process.

    Guarantees at most ``per_minute`` requests in any ``window`` seconds (a minute, unless scaled
    down for tests and benchmarks), counted from when each request leaves, plus ``margin``
    seconds so that network delays cannot squeeze more into the service's own window. Within
    that, a token bucket keeps the pace smooth: bursts of at most ``burst`` requests.
    ``acquire`` blocks the calling thread until a request may go.
    """

    def __init__(
        self,
        per_minute: float = 120.0,
        burst: int = 10,
        window: float = 60.0,
        margin: float = 1.0,
        clock=time.monotonic,
    ):
        self._limit = per_minute
        self._window = window
        self._margin = margin
        self._capacity = float(max(1, burst))
        self._tokens = self._capacity
        self._clock = clock
        self._stamp = clock()
        self._sent: deque[float] = deque()
        self._lock = threading.Lock()

    @property
    def per_minute(self) -> float:
        return self._limit

    @per_minute.setter
    def per_minute(self, value: float):
        with self._lock:
            self._limit = value

    def try_acquire(self) -> float:
        """Take a request's turn: 0.0 when granted, else the seconds until one is free."""
        with self._lock:
            now = self._clock()
            rate = self._limit / self._window
            self._tokens = min(self._capacity, self._tokens + (now - self._stamp) * rate)
            self._stamp = now
            span = self._window + self._margin
            while self._sent and self._sent[0] <= now - span:
                self._sent.popleft()
            wait = 0.0 if self._tokens >= 1.0 else (1.0 - self._tokens) / rate
            excess = len(self._sent) - max(1, int(self._limit)) + 1
            if excess > 0:
                wait = max(wait, self._sent[excess - 1] + span - now)
            if wait > 0.0:
                return wait
            self._tokens -= 1.0
            self._sent.append(now)
            return 0.0

    def acquire(self, cancel: threading.Event | None = None):
        """Block until a request may go; ``cancel`` cuts the wait short."""
        while (wait := self.try_acquire()) > 0.0:
            if cancel is None:
                time.sleep(wait)
            elif cancel.wait(wait):
                raise Cancelled("stopped while waiting for the request budget")
