"""One CPU for the framework code of a thread-comms ensemble; all CPUs for user code.

Threads of one process take turns holding the GIL, and each message between them is a
hand-over. When the two threads sit on different CPUs, every hand-over wakes a CPU that was
idle and moves Python's objects from one CPU cache to the other: a round trip between two
threads costs about 22 us on our 2-core VM, 3-7 us when they share one CPU. So thread comms
keep the manager loop and the workers' message handling on one CPU (the one the manager ran on
when the pool opened). User functions run with the CPUs the process had: a sim_f that starts
an MPI application, or a generator that starts BLAS threads, passes the full set on.

Placement is per thread (Linux ``sched_setaffinity`` on the calling thread) and changes only
at the edges: a thread leaves its CPU when it enters user code and comes back when it waits
for a message (a persistent generator waits inside user code) or when the user code returns.
"""

from __future__ import annotations

import os
import threading
from types import TracebackType

_local = threading.local()  # .placement, .pinned, .before: see CorePlacement.join


class CorePlacement:
    """The CPU the framework threads of one pool share, and the CPUs user code gets back."""

    def __init__(self, home: int, everywhere: set[int]) -> None:
        self.home = {home}
        self.everywhere = everywhere

    @classmethod
    def here(cls) -> CorePlacement | None:
        """A placement on the CPU this thread runs on; None where it cannot help (no
        ``sched_setaffinity``, a single allowed CPU, or the current CPU unknown)."""
        if not hasattr(os, "sched_setaffinity"):
            return None
        everywhere = os.sched_getaffinity(0)
        cpu = _current_cpu()
        if len(everywhere) < 2 or cpu not in everywhere:
            return None
        return cls(cpu, everywhere)

    def join(self) -> None:
        """The calling thread runs framework code of this pool from now on."""
        _local.placement = self
        _local.pinned = False
        _local.before = []  # placements to restore when the edges entered are left
        _pin(True)

    def leave(self) -> None:
        """The calling thread is done with this pool: all CPUs again, no more placement."""
        if getattr(_local, "placement", None) is self:
            _pin(False)
            _local.placement = None


def _pin(on: bool) -> None:
    placement: CorePlacement | None = getattr(_local, "placement", None)
    if placement is None or _local.pinned == on:
        return
    os.sched_setaffinity(0, placement.home if on else placement.everywhere)
    _local.pinned = on


class _Edge:
    """A context manager that sets the calling thread's placement for a stretch of code and
    restores it after; a no-op in threads no pool placed (processes, ranks, plain threads)."""

    def __init__(self, pinned: bool) -> None:
        self.pinned = pinned

    def __enter__(self) -> None:
        if getattr(_local, "placement", None) is not None:
            _local.before.append(_local.pinned)
            _pin(self.pinned)

    def __exit__(
        self, kind: type | None, value: BaseException | None, tb: TracebackType | None
    ) -> None:
        if getattr(_local, "placement", None) is not None:
            _pin(_local.before.pop())


user_code = _Edge(pinned=False)  # ``with user_code:`` around calls of user functions
waiting = _Edge(pinned=True)  # ``with waiting:`` around a blocking receive


def _current_cpu() -> int:
    """The CPU the calling thread runs on (field 39 of /proc/thread-self/stat), or -1."""
    try:
        with open("/proc/thread-self/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return -1
    fields = stat[stat.rindex(b")") + 2 :].split()
    return int(fields[36])  # fields from "state" (3rd) on: processor is the 39th
