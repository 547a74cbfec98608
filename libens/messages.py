"""Typed messages between the manager and workers, and libEnsemble-compatible tags.

Every message that crosses a process boundary is one of the dataclasses below. Rows travel
as NumPy structured arrays holding only the fields the receiver asked for.
"""

from __future__ import annotations

import traceback
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

import numpy as np
import numpy.typing as npt

from libens.errors import CalculationTimeout


class Tag(IntEnum):
    """Work types, manager signals and calculation statuses (libEnsemble's numbers)."""

    UNSET = 0
    EVAL_SIM = 1
    EVAL_GEN = 2
    STOP = 3
    PERSIS_STOP = 4
    FINISHED_PERSISTENT_SIM = 11
    FINISHED_PERSISTENT_GEN = 12
    MAN_SIGNAL_FINISH = 20
    MAN_SIGNAL_KILL = 21
    WORKER_KILL = 30
    WORKER_KILL_ON_ERR = 31
    WORKER_KILL_ON_TIMEOUT = 32
    TASK_FAILED = 33
    TASK_FAILED_TO_START = 34
    WORKER_DONE = 35
    CALC_EXCEPTION = 36


# Plain ints (as in libEnsemble): cheap to compare in NumPy masks and hot loops.
UNSET_TAG = int(Tag.UNSET)
EVAL_SIM_TAG = int(Tag.EVAL_SIM)
EVAL_GEN_TAG = int(Tag.EVAL_GEN)
STOP_TAG = int(Tag.STOP)
PERSIS_STOP = int(Tag.PERSIS_STOP)
FINISHED_PERSISTENT_SIM_TAG = int(Tag.FINISHED_PERSISTENT_SIM)
FINISHED_PERSISTENT_GEN_TAG = int(Tag.FINISHED_PERSISTENT_GEN)
MAN_SIGNAL_FINISH = int(Tag.MAN_SIGNAL_FINISH)
MAN_SIGNAL_KILL = int(Tag.MAN_SIGNAL_KILL)
WORKER_KILL = int(Tag.WORKER_KILL)
WORKER_KILL_ON_ERR = int(Tag.WORKER_KILL_ON_ERR)
WORKER_KILL_ON_TIMEOUT = int(Tag.WORKER_KILL_ON_TIMEOUT)
TASK_FAILED = int(Tag.TASK_FAILED)
TASK_FAILED_TO_START = int(Tag.TASK_FAILED_TO_START)
WORKER_DONE = int(Tag.WORKER_DONE)
CALC_EXCEPTION = int(Tag.CALC_EXCEPTION)

CALC_TYPE_NAMES = {EVAL_SIM_TAG: "sim", EVAL_GEN_TAG: "gen"}

Rows = npt.NDArray[np.void]


@dataclass(slots=True)
class WorkerSetup:
    """First message to every worker: its id and what it runs (specs travel as objects)."""

    worker_id: int
    sim_specs: Any
    gen_specs: Any
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class Work:
    """Manager -> worker: evaluate (sim) or generate (gen) on these rows.

    For a persistent worker that is already running, a Work carries new rows (results for a
    generator, points for a persistent sim) and no new call starts. ``persis_info=None`` means
    "the worker's own": the manager leaves out the persis_info a worker already holds.
    """

    tag: int
    rows: Rows | None
    sim_ids: npt.NDArray[np.int64]
    persis_info: dict[str, Any] | None = None
    persistent: bool = False
    active_recv: bool = False
    info: dict[str, Any] | None = None


@dataclass(slots=True)
class Result:
    """Worker -> manager: a calculation finished (a persistent one finishes once, at its end).

    ``sim_ids=None`` means "all the rows of the Work" (the manager remembers them).
    """

    tag: int
    status: int
    rows: Rows | None
    sim_ids: npt.NDArray[np.int64] | None
    persis_info: dict[str, Any] | None
    started: float
    ended: float
    call_times: npt.NDArray[np.float64] | None = None  # (start, end) per point of a chunk


@dataclass(slots=True)
class GenOutput:
    """Persistent user function -> manager: rows produced while it keeps running."""

    tag: int
    rows: Rows | None
    keep_state: bool = False


@dataclass(slots=True)
class CancelRequest:
    """Persistent generator -> manager: do not evaluate (or kill) these points."""

    sim_ids: npt.NDArray[np.int64]


@dataclass(slots=True)
class Kill:
    """Manager -> worker: stop the running calculation on these rows (MAN_SIGNAL_KILL)."""

    sim_ids: npt.NDArray[np.int64]


@dataclass(slots=True)
class Stop:
    """Manager -> worker: PERSIS_STOP ends a persistent call (optionally with final rows);
    STOP ends the worker."""

    tag: Tag = Tag.STOP
    rows: Rows | None = None
    sim_ids: npt.NDArray[np.int64] | None = None


@dataclass(slots=True)
class Goodbye:
    """Worker -> manager, answering STOP: the worker's final persis_info (workers keep theirs
    between calculations and send it back only when the user function replaced it)."""

    persis_info: dict[str, Any] | None


@dataclass(slots=True)
class WorkerFailed:
    """Worker -> manager: a user function raised. Keeps the worker's traceback as text."""

    tag: int
    function: str
    error: str
    traceback: str
    sim_ids: npt.NDArray[np.int64] | None = None
    unrun_ids: npt.NDArray[np.int64] | None = None  # rest of a chunk, never started
    done: Result | None = None  # points of the chunk finished before the failure
    timed_out: bool = False  # stopped by SimSpecs.timeout: marked failed, the run goes on

    @classmethod
    def from_exception(
        cls, tag: int, function: str, e: Exception, sim_ids: npt.NDArray[np.int64] | None
    ) -> WorkerFailed:
        """The report of a user function that raised ``e`` (made inside the ``except``, so
        it keeps the traceback as text)."""
        return cls(
            tag,
            function,
            f"{type(e).__name__}: {e}",
            traceback.format_exc(),
            sim_ids,
            timed_out=isinstance(e, CalculationTimeout),
        )
