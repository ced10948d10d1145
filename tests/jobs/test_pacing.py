"""Polling schedule and the request budget, on a fake clock (no sleeping)."""

from rodin_texture_addon.jobs import PollSchedule, RequestBudget


def test_polling_backs_off_to_the_maximum():
    schedule = PollSchedule()
    intervals = [schedule.first_delay]
    for _ in range(10):
        intervals.append(schedule.next_interval(intervals[-1]))
    assert intervals[0] == 5.0
    assert intervals == sorted(intervals)
    assert intervals[-1] == 30.0


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_the_budget_allows_a_burst_then_the_rate():
    clock = FakeClock()
    budget = RequestBudget(per_minute=60, burst=3, clock=clock)
    assert [budget.try_acquire() for _ in range(3)] == [0.0, 0.0, 0.0]
    assert budget.try_acquire() == 1.0, "one token a second at 60 a minute"
    clock.now = 0.5
    assert budget.try_acquire() == 0.5
    granted = []
    for second in range(1, 6):
        clock.now = second
        granted.append(budget.try_acquire() == 0.0)
    assert granted == [True, True, True, True, True]
    assert budget.try_acquire() > 0.0


def test_changing_the_rate_applies_at_once():
    clock = FakeClock()
    budget = RequestBudget(per_minute=60, burst=1, clock=clock)
    budget.try_acquire()
    budget.per_minute = 120
    assert budget.per_minute == 120
    assert budget.try_acquire() == 0.5
