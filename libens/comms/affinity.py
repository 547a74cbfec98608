"""One CPU for the threads of a thread-comms ensemble, while their hand-overs dominate.

Threads of one process take turns holding the GIL, and each message between them is a
hand-over. When the two threads sit on different CPUs, every hand-over wakes a CPU that was
idle and moves Python's objects from one CPU cache to the other: a round trip between two
threads costs about 22 us on our 2-core VM, 3-7 us when they share one CPU. So thread comms
keep the manager loop and the workers' message handling on one CPU (the one the manager ran on
when the pool opened).

User code is where that could hurt: a sim_f that starts an MPI application, or a generator
that starts BLAS threads, passes its CPUs on to them. So each thread times its stretches of
user code (a sim_f call, or a chunk of calls counted per call; a persistent generator's work
between two waits for results), per kind (sim, gen): a stretch runs on all the process's
CPUs unless that kind's recent stretches averaged under ``TINY_STRETCH`` (too short to start
a process), when leaving the CPU and coming back would cost more than the stretch itself.
The first stretch of each kind always gets all CPUs.

The pool's threads also run as ``SCHED_BATCH`` (when they were plain ``SCHED_OTHER``): a
thread woken by a message then waits for the sender to block instead of preempting it only
to find the GIL taken, which cut the context switches of a gest-api run threefold.

Placement is per thread (Linux ``sched_setaffinity`` on the calling thread); a thread no pool
placed (processes, MPI ranks, a user's own threads) is never touched.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from types import TracebackType

TINY_STRETCH = 1e-4  # s: user code shorter than this (on average) stays on the pool's CPU
_WEIGHT = 0.25  # of the newest stretch in the running average


class _Local(threading.local):
    """Per thread: the ``_ThreadState`` if a pool placed the thread. The class default
    spares an unplaced thread (a worker process, an MPI rank) the AttributeError a missing
    attribute raises inside ``getattr`` on every edge."""

    state: _ThreadState | None = None


_local = _Local()


class CorePlacement:
    """The CPU the threads of one pool share, and the CPUs user code gets back."""

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
        """The calling thread runs this pool's code from now on (on the pool's CPU)."""
        _local.state = state = _ThreadState(self)
        state.pin(True)
        if os.sched_getscheduler(0) == os.SCHED_OTHER:
            # a woken batch thread waits for the running one to block instead of preempting
            # it: the message it got cannot be handled before the sender lets the GIL go
            with contextlib.suppress(OSError):  # a sandbox may forbid it: placement still helps
                os.sched_setscheduler(0, os.SCHED_BATCH, os.sched_param(0))
                state.batch = True

    def leave(self) -> None:
        """The calling thread is done with this pool: all CPUs again, no more placement."""
        state = _local.state
        if state is not None and state.placement is self:
            if state.pinned:
                state.pin(False)
            if state.batch:
                with contextlib.suppress(OSError):
                    os.sched_setscheduler(0, os.SCHED_OTHER, os.sched_param(0))
            _local.state = None


class _ThreadState:
    """Where one placed thread is, and how long its recent stretches of user code took (per
    kind of user function: a worker may run both a generator and simulations)."""

    def __init__(self, placement: CorePlacement) -> None:
        self.placement = placement
        self.pinned = False
        self.batch = False  # switched to SCHED_BATCH by join
        # user code entered and not left (its kind, the placement to restore when it ends)
        self.entered: list[tuple[str, bool]] = []
        self.since = 0.0  # start of the current stretch of user code
        self.average: dict[str, float] = {}  # of recent stretches per kind, seconds

    def pin(self, on: bool) -> None:
        """Onto the pool's CPU (``on``) or all CPUs; callers check ``pinned`` first (the
        edges run on every call of user code)."""
        try:
            os.sched_setaffinity(0, self.placement.home if on else self.placement.everywhere)
        except OSError:  # the CPU set changed under us (cgroups): stay where we are
            return
        self.pinned = on

    def start_stretch(self, kind: str) -> None:
        tiny = self.average.get(kind, TINY_STRETCH) < TINY_STRETCH
        if tiny != self.pinned:
            self.pin(tiny)
        self.since = time.perf_counter()

    def end_stretch(self, kind: str, calls: int = 1) -> None:
        took = (time.perf_counter() - self.since) / calls
        self.average[kind] = running_average(self.average.get(kind), took)


def running_average(average: float | None, newest: float) -> float:
    """A running average of recent durations with ``newest`` counted in (the first one
    when ``average`` is None): recent ones weigh most, one long one lifts it at once."""
    return newest if average is None else average + _WEIGHT * (newest - average)


class UserCode:
    """``with edge:`` around the calls of a user function of one kind (``sim``, ``gen``). Set
    ``calls`` first when the stretch holds several calls (a chunk of points): what counts
    is the time per call. One instance per thread (``calls`` is the thread's own)."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.calls = 1

    def __enter__(self) -> None:
        state = _local.state
        if state is not None:
            state.entered.append((self.kind, state.pinned))
            state.start_stretch(self.kind)

    def __exit__(
        self, kind: type | None, value: BaseException | None, tb: TracebackType | None
    ) -> None:
        state = _local.state
        if state is not None:
            code, was = state.entered.pop()
            state.end_stretch(code, max(self.calls, 1))
            if state.pinned != was:
                state.pin(was)


class StayPut:
    """The edge of user code that runs where its thread already is, untimed: tiny work a
    sender runs for a worker. Its worker's own timing chose it as tiny, and that timing (not
    this thread's) sends a call that turned long back to the worker's thread."""

    calls = 1

    def __enter__(self) -> None:
        pass

    def __exit__(
        self, kind: type | None, value: BaseException | None, tb: TracebackType | None
    ) -> None:
        pass


class _Waiting:
    """``with waiting:`` around a blocking receive. Inside user code (a persistent generator
    waiting for results) it ends one stretch of user code, waits on the pool's CPU, so the
    message's sender wakes the thread there, and starts the next stretch. Outside user code
    there is nothing to do: the pool's own code always runs on the pool's CPU."""

    def __enter__(self) -> None:
        state = _local.state
        if state is not None and state.entered:
            state.end_stretch(state.entered[-1][0])
            if not state.pinned:
                state.pin(True)

    def __exit__(
        self, kind: type | None, value: BaseException | None, tb: TracebackType | None
    ) -> None:
        state = _local.state
        if state is not None and state.entered:
            state.start_stretch(state.entered[-1][0])


waiting = _Waiting()


def _current_cpu() -> int:
    """The CPU the calling thread runs on (field 39 of /proc/thread-self/stat), or -1."""
    try:
        with open("/proc/thread-self/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return -1
    fields = stat[stat.rindex(b")") + 2 :].split()
    return int(fields[36])  # fields from "state" (3rd) on: processor is the 39th
