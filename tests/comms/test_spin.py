"""The adaptive spin budget of a waiting link end (libens.comms.spin)."""

from __future__ import annotations

import itertools

from libens.comms import spin
from libens.comms.spin import LONG_SPIN, SHORT_SPIN, Spinner


def test_budget_is_long_while_messages_come_close_together_and_short_once_they_do_not():
    spinner = Spinner()
    assert spinner.budget == LONG_SPIN
    for _ in range(20):
        spinner.record(0.05)  # simulations of 50 ms: polling would only burn CPU
    assert spinner.budget == SHORT_SPIN
    for _ in range(20):
        spinner.record(2e-4)  # a persistent generator's quick round trips
    assert spinner.budget == LONG_SPIN


def test_one_stall_does_not_end_spinning():
    spinner = Spinner()
    for _ in range(20):
        spinner.record(3e-4)
    spinner.record(5.0)
    assert spinner.budget == LONG_SPIN


def test_wait_polls_then_blocks_with_what_is_left_of_the_timeout():
    calls: list[float | None] = []

    def ready(seconds: float | None) -> list[str]:
        calls.append(seconds)
        return ["message"] if seconds != 0 else []

    spinner = Spinner()
    for _ in range(4):
        spinner.record(1.0)  # a short budget keeps the test quick
    assert spinner.wait(ready, timeout=10.0) == ["message"]
    assert calls[0] == 0 and all(c == 0 for c in calls[:-1])
    assert calls[-1] is not None and 9.0 < calls[-1] <= 10.0
    calls.clear()
    assert spinner.wait(ready, timeout=None) == ["message"]
    assert calls[-1] is None


def test_a_zero_timeout_polls_once_and_leaves_the_budget_alone():
    calls: list[float | None] = []
    spinner = Spinner()
    before = spinner.typical
    assert spinner.wait(lambda s: calls.append(s) or [], timeout=0) == []
    assert calls == [0] and spinner.typical == before


def test_a_timeout_shorter_than_the_budget_ends_the_wait_in_time(monkeypatch):
    clock = itertools.count(0.0, 5e-5)  # each look at the clock: 50 us later
    monkeypatch.setattr(spin.time, "perf_counter", lambda: next(clock))
    spinner = Spinner()
    for _ in range(20):
        spinner.record(2e-4)  # a 2 ms budget
    calls: list[float | None] = []
    assert spinner.wait(lambda s: calls.append(s) or [], timeout=1e-4) == []
    assert len(calls) == 3 and calls[-1] == 0.0  # 100 us of polls, not 2 ms (40 polls)
