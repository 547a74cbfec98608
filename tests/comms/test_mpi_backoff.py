"""How a waiting MPI rank spaces its probes (libens.comms.mpi.Backoff), on a fake clock."""

from __future__ import annotations

import pytest

from libens.comms import mpi
from libens.comms.mpi import MAX_NAP, SPIN_SECONDS, Backoff


@pytest.fixture
def clock(monkeypatch):
    """A fake monotonic clock; every sleep, yield and select advances it and is recorded."""
    state = {"now": 100.0, "naps": [], "yields": 0}

    def sleep(t):
        state["naps"].append(t)
        state["now"] += t

    def sched_yield():
        state["yields"] += 1
        state["now"] += 1e-6

    monkeypatch.setattr(mpi.time, "monotonic", lambda: state["now"])
    monkeypatch.setattr(mpi.time, "sleep", sleep)
    monkeypatch.setattr(mpi.os, "sched_yield", sched_yield)
    return state


def test_first_milliseconds_of_a_wait_yield_instead_of_sleeping(clock):
    backoff = Backoff()
    clock["now"] += SPIN_SECONDS / 2
    backoff.nap(None)
    assert clock["yields"] == 1 and clock["naps"] == []


def test_naps_grow_with_the_wait_so_a_reply_is_at_most_one_percent_late(clock):
    backoff = Backoff()
    clock["now"] += 1.001 * SPIN_SECONDS
    while clock["now"] - 100.0 < 2.0:  # an idle rank, two seconds without a message
        waited = clock["now"] - 100.0
        backoff.nap(None)
        assert clock["naps"][-1] <= 0.01 * waited + 1e-12
    assert clock["yields"] == 0
    assert clock["naps"][0] == pytest.approx(0.01 * SPIN_SECONDS, rel=0.01)
    assert clock["naps"][-1] == MAX_NAP
    # far fewer wake-ups than a fixed 200 us nap (10,000 in two seconds)
    assert len(clock["naps"]) < 1000


def test_a_nap_never_outlasts_the_timeout(clock):
    backoff = Backoff()
    clock["now"] += 1.0
    backoff.nap(1e-4)
    assert clock["naps"] == [1e-4]
