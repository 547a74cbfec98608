"""How long a waiting end of a link polls before it blocks.

Waking a process blocked in ``poll``/``epoll`` costs tens to hundreds of microseconds on a
VM (measured on a persistent generator's round trips over pipes, 2 cores: a hop took 50 us
median when its reader was polling, 90-140 us median and 200-300 us mean when it slept).
When messages follow each other within about a millisecond (short simulations, a persistent
generator's exchanges) the waiting end polls, yielding the CPU between polls so that a
process with work on the same core runs at once. When waits are longer, polling would only
burn CPU for a wake-up cost that no longer matters, so the budget drops to a token.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import TypeVar

SHORT_SPIN = 1e-4  # seconds polled when messages have been far apart
LONG_SPIN = 2e-3  # seconds polled while they come close together
DENSE_BELOW = 1e-3  # typical wait under which messages count as close together
_WEIGHT = 0.25  # weight of the newest wait in the running typical wait

T = TypeVar("T")


class Spinner:
    """One waiting end's spin budget, adapted to how long its recent waits took."""

    __slots__ = ("typical",)

    def __init__(self) -> None:
        # long until waits are long: a budget measured only from short polls would see every
        # wait inflated by the wake-up it failed to avoid, and might never spin long again
        self.typical = 0.0

    @property
    def budget(self) -> float:
        """Seconds the next wait polls before it blocks."""
        return LONG_SPIN if self.typical < DENSE_BELOW else SHORT_SPIN

    def record(self, waited: float) -> None:
        """Fold one wait into the typical wait (clipped: one stall must not end spinning)."""
        self.typical += _WEIGHT * (min(waited, LONG_SPIN) - self.typical)

    def wait(self, ready: Callable[[float | None], T], timeout: float | None) -> T:
        """``ready(0)`` polled for the budget, then ``ready(rest of timeout)`` blocking.

        ``ready(seconds)`` waits up to ``seconds`` (``None``: for ever) and returns something
        false when nothing came. A zero ``timeout`` polls once and leaves the budget alone.
        """
        start = time.perf_counter()
        found = ready(0)
        if timeout == 0:
            return found
        deadline = start + (self.budget if timeout is None else min(self.budget, timeout))
        while not found and time.perf_counter() < deadline:
            os.sched_yield()
            found = ready(0)
        if not found:
            left = None if timeout is None else max(0.0, timeout - (time.perf_counter() - start))
            found = ready(left)
        self.record(time.perf_counter() - start)
        return found
