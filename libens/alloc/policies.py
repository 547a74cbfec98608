"""The shipped allocation policies (libEnsemble's signatures and behaviour).

``alloc_f(W, H, sim_specs, gen_specs, alloc_specs, persis_info, libE_info)`` returns
``(Work, persis_info[, flag])``; flag 1 asks the manager to end the run. Each policy reads
pending and returned points from the manager's index sets in ``libE_info``: O(work given).

Each policy is a thin ``alloc_f`` around its body (a ``Core``), which writes its orders to an
``Orders``: the ``alloc_f`` collects them as libEnsemble's Work dict, while the manager
runs the body itself (``core_of``) and sends the typed orders as they are.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from libens.alloc.orders import Orders, WorkOrders
from libens.alloc.support import PendingPoints
from libens.alloc.workers import WorkerTable
from libens.errors import LibensError
from libens.history import as_ids
from libens.messages import EVAL_GEN_TAG
from libens.specs import AllocSpecs, GenSpecs

AllocResult = tuple[dict, dict] | tuple[dict, dict, int]
Chunk = Callable[[], int]  # points per simulation work order, asked when points are pending
# a policy's body: (run, H, persis_info, orders, chunk, sim_ended_count) -> flag, or None
# for a policy that returns no flag
Core = Callable[["PolicyRun", np.ndarray, dict, Orders, Chunk, int], "int | None"]


_GEN_FIELDS = frozenset(GenSpecs.model_fields)


def _user(alloc_specs: Any) -> dict:
    """``alloc_specs["user"]`` (typed specs or a plain dict)."""
    user = alloc_specs.user if isinstance(alloc_specs, AllocSpecs) else alloc_specs.get("user")
    return user or {}


def _opt(alloc_specs: Any, gen_specs: Any, key: str, default: Any) -> Any:
    """An option from ``alloc_specs["user"]``, else the GenSpecs field, else ``default``."""
    user = _user(alloc_specs)
    if key in user:
        return user[key]
    if gen_specs is None:
        return default
    if isinstance(gen_specs, GenSpecs):
        value = getattr(gen_specs, key) if key in _GEN_FIELDS else None
    else:
        value = gen_specs.get(key)
    return default if value is None else value


class PolicyRun:
    """What the shipped policies read on every call, resolved once per run and kept in the
    ``libE_info`` the manager passes to every call (keyed by the specs objects): options from
    the specs, and the manager's worker table and index sets."""

    __slots__ = (
        "alloc_specs",
        "gen_specs",
        "sim_specs",
        "sim_in",
        "gen_in",
        "persis_in",
        "active_recv",
        "num_active_gens",
        "async_return",
        "initial_batch_size",
        "same_priority_batch",
        "workers",
        "pending",
        "uninformed",
        "outstanding",
    )

    def __init__(self, sim_specs: Any, gen_specs: Any, alloc_specs: Any, libE_info: dict) -> None:
        if "worker_table" not in libE_info:
            raise LibensError(
                "the shipped allocation policies read the manager's libE_info (worker_table, "
                "pending_sim_ids, ...): pass on the libE_info your alloc_f was given"
            )
        self.alloc_specs, self.gen_specs, self.sim_specs = alloc_specs, gen_specs, sim_specs
        self.sim_in = sim_specs["in"]
        self.gen_in = (gen_specs.get("in") or []) if gen_specs is not None else []
        self.persis_in = (gen_specs.get("persis_in") or []) if gen_specs is not None else []
        self.active_recv = bool(_opt(alloc_specs, gen_specs, "active_recv_gen", False))
        self.num_active_gens = int(_opt(alloc_specs, gen_specs, "num_active_gens", 1))
        self.async_return = bool(_opt(alloc_specs, gen_specs, "async_return", False))
        self.initial_batch_size = int(_user(alloc_specs).get("initial_batch_size", 0))
        batch = _opt(alloc_specs, gen_specs, "batch_evaluate_same_priority", False)
        self.same_priority_batch = bool(
            _opt(alloc_specs, gen_specs, "give_all_with_same_priority", batch)
        )
        self.workers: WorkerTable = libE_info["worker_table"]
        self.pending: dict[int, None] = libE_info["pending_sim_ids"]
        self.uninformed: dict[int, dict[int, None]] = libE_info["uninformed_sim_ids"]
        self.outstanding: dict[int, int] = libE_info["outstanding"]

    @classmethod
    def of(cls, sim_specs: Any, gen_specs: Any, alloc_specs: Any, libE_info: dict) -> PolicyRun:
        run = libE_info.get("policy_run")
        if (
            run is None
            or run.alloc_specs is not alloc_specs
            or run.gen_specs is not gen_specs
            or run.sim_specs is not sim_specs
        ):
            run = libE_info["policy_run"] = cls(sim_specs, gen_specs, alloc_specs, libE_info)
        return run

    def give_points(
        self,
        out: Orders,
        wids: list[int],
        points: PendingPoints,
        persis_info: dict,
        chunk: Chunk,
    ) -> None:
        """Pending points to the workers ``wids`` without an order yet: each a chunk of up to
        ``chunk()`` in generation order, or the top priority; stops when no point is left."""
        if not points.pending:
            return
        k = chunk()
        same_priority = self.same_priority_batch
        for wid in wids:
            if not points.left():
                return
            if wid in out:
                continue
            ids = points.take(same_priority, k)
            split = len(ids) > 1 and points.priority is None
            out.sim(wid, self.sim_in, ids, persis_info.get(wid), split)

    def gen_rows(self, H: np.ndarray) -> np.ndarray:
        """What a starting generator gets: every row of H when it declares inputs."""
        return as_ids(range(len(H)) if self.gen_in else range(0))


def _call(
    core: Core,
    sim_specs: Any,
    gen_specs: Any,
    alloc_specs: Any,
    persis_info: dict,
    libE_info: dict,
    H: np.ndarray,
) -> AllocResult:
    """A policy body as an ``alloc_f``: its orders as libEnsemble's Work dict."""
    if libE_info["sim_max_given"] or not libE_info["any_idle_workers"]:
        return {}, persis_info
    run = PolicyRun.of(sim_specs, gen_specs, alloc_specs, libE_info)
    Work = WorkOrders()
    flag = core(
        run,
        H,
        persis_info,
        Work,
        lambda: libE_info["sim_batch_size"],
        libE_info["sim_ended_count"],
    )
    return (Work, persis_info, flag) if flag is not None else (Work, persis_info)


def give_sim_work_first(
    W, H, sim_specs, gen_specs, alloc_specs, persis_info, libE_info
) -> AllocResult:
    """Give every idle worker a pending point; when none is left, run the (non-persistent)
    generator on up to ``num_active_gens`` idle workers."""
    return _call(_sim_first, sim_specs, gen_specs, alloc_specs, persis_info, libE_info, H)


def _sim_first(
    run: PolicyRun, H: np.ndarray, persis_info: dict, out: Orders, chunk: Chunk, ended: int
) -> None:
    workers = run.workers
    points = PendingPoints(run.pending, H)
    idle = workers.avail(None, False, None, None)
    run.give_points(out, idle, points, persis_info, chunk)
    if points.left() or run.gen_specs is None:
        return None
    room = run.num_active_gens - workers.count_active(EVAL_GEN_TAG)
    for wid in idle:
        if room <= 0:
            break
        if wid not in out:
            out.gen(wid, run.gen_in, run.gen_rows(H), persis_info.get(wid))
            room -= 1
    return None


def only_persistent_gens(
    W, H, sim_specs, gen_specs, alloc_specs, persis_info, libE_info
) -> AllocResult:
    """Persistent generators: return results to them (a whole batch, or as they arrive with
    ``async_return``), give pending points to idle workers, start generators when nothing is
    pending. A generator that finishes ends the run (flag 1)."""
    return _call(_persistent, sim_specs, gen_specs, alloc_specs, persis_info, libE_info, H)


def start_only_persistent(
    W, H, sim_specs, gen_specs, alloc_specs, persis_info, libE_info
) -> AllocResult:
    """Like ``only_persistent_gens``, but starts the persistent generators before any pending
    point (e.g. from H0) is given out."""
    return _call(_gens_first, sim_specs, gen_specs, alloc_specs, persis_info, libE_info, H)


def _gens_first(
    run: PolicyRun, H: np.ndarray, persis_info: dict, out: Orders, chunk: Chunk, ended: int
) -> int:
    return _persistent(run, H, persis_info, out, chunk, ended, gens_first=True)


def _persistent(
    run: PolicyRun,
    H: np.ndarray,
    persis_info: dict,
    out: Orders,
    chunk: Chunk,
    ended: int,
    gens_first: bool = False,
) -> int:
    workers = run.workers
    gen_count = workers.count(EVAL_GEN_TAG)
    if gen_count < persis_info.get("num_gens_started", 0):
        return 1
    active_recv = run.active_recv
    if gen_count:
        async_return = run.async_return and ended >= run.initial_batch_size
        uninformed, outstanding = run.uninformed, run.outstanding
        for wid in workers.avail(EVAL_GEN_TAG, active_recv, None, True):
            done = uninformed.get(wid)
            # batch return: not before the whole batch is back
            if done and (async_return or not outstanding.get(wid)):
                ids = np.fromiter(done, dtype=np.int64, count=len(done))
                out.gen(wid, run.persis_in, ids, persis_info.get(wid), True, active_recv)
    room = run.num_active_gens - gen_count
    if gens_first and room > 0:
        room -= _start_persistent_gens(run, out, H, persis_info, room)
    pending = run.pending
    if pending:
        points = PendingPoints(pending, H)
        sim_workers = workers.avail(0, False, False, False)
        run.give_points(out, sim_workers, points, persis_info, chunk)
        if points.left():
            return 0
    if room > 0:
        _start_persistent_gens(run, out, H, persis_info, room)
    return 0


def _start_persistent_gens(
    run: PolicyRun, out: Orders, H: np.ndarray, persis_info: dict, room: int
) -> int:
    """Start up to ``room`` persistent generators on idle workers; returns how many."""
    started = 0
    for wid in run.workers.avail(0, False, True, True):
        if started >= room:
            break
        if wid in out:
            continue
        out.gen(wid, run.gen_in, run.gen_rows(H), persis_info.get(wid), True, run.active_recv)
        persis_info["num_gens_started"] = persis_info.get("num_gens_started", 0) + 1
        started += 1
    return started


def give_pregenerated_work(
    W, H, sim_specs, gen_specs, alloc_specs, persis_info, libE_info
) -> AllocResult:
    """Evaluate the points already in the history (H0) with no generator; flag 1 once every
    point was given out."""
    return _call(_pregenerated, sim_specs, gen_specs, alloc_specs, persis_info, libE_info, H)


def _pregenerated(
    run: PolicyRun, H: np.ndarray, persis_info: dict, out: Orders, chunk: Chunk, ended: int
) -> int:
    if not run.pending:
        return 1
    idle = run.workers.avail(None, False, None, None)
    run.give_points(out, idle, PendingPoints(run.pending, H), persis_info, chunk)
    return 0


def fast_alloc(W, H, sim_specs, gen_specs, alloc_specs, persis_info, libE_info) -> AllocResult:
    """One pending point per idle worker; when none is pending and no generator runs, run the
    generator once, telling it only the results it has not seen."""
    return _call(_fast, sim_specs, gen_specs, alloc_specs, persis_info, libE_info, H)


def _fast(
    run: PolicyRun, H: np.ndarray, persis_info: dict, out: Orders, chunk: Chunk, ended: int
) -> None:
    workers = run.workers
    idle = workers.avail(None, False, None, None)
    points = PendingPoints(run.pending, H)
    run.give_points(out, idle, points, persis_info, chunk)
    if points.left() or run.gen_specs is None or workers.count_active(EVAL_GEN_TAG):
        return None
    for wid in idle:
        if wid not in out:
            fields = run.gen_in
            rows = _all_uninformed(run) if fields else np.zeros(0, dtype=np.int64)
            out.gen(wid, fields, rows, persis_info.get(wid))
            break
    return None


def _all_uninformed(run: PolicyRun) -> np.ndarray:
    ids = [i for u in run.uninformed.values() for i in u]
    return np.array(sorted(ids), dtype=np.int64)


_CORES: dict[Callable, Core] = {
    give_sim_work_first: _sim_first,
    only_persistent_gens: _persistent,
    start_only_persistent: _gens_first,
    give_pregenerated_work: _pregenerated,
    fast_alloc: _fast,
}


def core_of(alloc_f: Callable) -> Core | None:
    """The body of a shipped policy, which the manager runs itself; None for any other."""
    return _CORES.get(alloc_f)
