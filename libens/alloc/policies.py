"""The shipped allocation policies (libEnsemble's signatures and behaviour).

``alloc_f(W, H, sim_specs, gen_specs, alloc_specs, persis_info, libE_info)`` returns
``(Work, persis_info[, flag])``; flag 1 asks the manager to end the run. Each policy reads
pending and returned points from the manager's index sets in ``libE_info``: O(work given).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from libens.alloc.support import PendingPoints, order
from libens.alloc.workers import WorkerTable
from libens.errors import LibensError
from libens.history import as_ids
from libens.messages import EVAL_GEN_TAG, EVAL_SIM_TAG
from libens.specs import AllocSpecs, GenSpecs

AllocResult = tuple[dict, dict] | tuple[dict, dict, int]


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
        self, Work: dict, wids: list[int], points: PendingPoints, persis_info: dict, k: int
    ) -> None:
        """Pending points to the workers ``wids`` not in Work yet: each a chunk of up to ``k``
        in generation order, or the top priority; stops when no point is left."""
        same_priority = self.same_priority_batch
        for wid in wids:
            if wid in Work:
                continue
            ids = points.take(same_priority, k)
            if not len(ids):
                return
            info: dict[str, Any] = {"H_rows": ids}
            if len(ids) > 1 and points.priority is None:
                info["split_rows"] = True
            Work[wid] = order(EVAL_SIM_TAG, self.sim_in, persis_info.get(wid), info)


def _nothing_to_do(libE_info: dict) -> bool:
    return libE_info["sim_max_given"] or not libE_info["any_idle_workers"]


def _gen_rows(gen_specs: Any, H: np.ndarray) -> range:
    return range(len(H)) if gen_specs.get("in") else range(0)


def _gen_order(fields: list[str], rows: Any, persis_info: dict | None, **info: Any) -> dict:
    info["H_rows"] = as_ids(rows)
    return order(EVAL_GEN_TAG, fields, persis_info, info)


def give_sim_work_first(
    W, H, sim_specs, gen_specs, alloc_specs, persis_info, libE_info
) -> AllocResult:
    """Give every idle worker a pending point; when none is left, run the (non-persistent)
    generator on up to ``num_active_gens`` idle workers."""
    if _nothing_to_do(libE_info):
        return {}, persis_info
    run = PolicyRun.of(sim_specs, gen_specs, alloc_specs, libE_info)
    workers = run.workers
    points = PendingPoints(libE_info["pending_sim_ids"], H)
    idle = workers.avail(None, False, None, None)
    Work: dict[int, dict] = {}
    run.give_points(Work, idle, points, persis_info, libE_info["sim_batch_size"])
    if points.left() or gen_specs is None:
        return Work, persis_info
    room = run.num_active_gens - workers.count_active(EVAL_GEN_TAG)
    for wid in idle:
        if room <= 0:
            break
        if wid not in Work:
            Work[wid] = _gen_order(run.gen_in, _gen_rows(gen_specs, H), persis_info.get(wid))
            room -= 1
    return Work, persis_info


def only_persistent_gens(
    W, H, sim_specs, gen_specs, alloc_specs, persis_info, libE_info
) -> AllocResult:
    """Persistent generators: return results to them (a whole batch, or as they arrive with
    ``async_return``), give pending points to idle workers, start generators when nothing is
    pending. A generator that finishes ends the run (flag 1)."""
    return _persistent(H, sim_specs, gen_specs, alloc_specs, persis_info, libE_info, False)


def start_only_persistent(
    W, H, sim_specs, gen_specs, alloc_specs, persis_info, libE_info
) -> AllocResult:
    """Like ``only_persistent_gens``, but starts the persistent generators before any pending
    point (e.g. from H0) is given out."""
    return _persistent(H, sim_specs, gen_specs, alloc_specs, persis_info, libE_info, True)


def _persistent(
    H, sim_specs, gen_specs, alloc_specs, persis_info, libE_info, gens_first: bool
) -> AllocResult:
    if _nothing_to_do(libE_info):
        return {}, persis_info
    run = PolicyRun.of(sim_specs, gen_specs, alloc_specs, libE_info)
    workers = run.workers
    gen_count = workers.count(EVAL_GEN_TAG)
    if gen_count < persis_info.get("num_gens_started", 0):
        return {}, persis_info, 1
    Work: dict[int, dict] = {}
    active_recv = run.active_recv
    if gen_count:
        async_return = run.async_return and (
            libE_info["sim_ended_count"] >= run.initial_batch_size
        )
        uninformed, outstanding = run.uninformed, run.outstanding
        for wid in workers.avail(EVAL_GEN_TAG, active_recv, None, True):
            done = uninformed.get(wid)
            # batch return: not before the whole batch is back
            if done and (async_return or not outstanding.get(wid)):
                ids = np.fromiter(done, dtype=np.int64, count=len(done))
                Work[wid] = _gen_order(
                    run.persis_in,
                    ids,
                    persis_info.get(wid),
                    persistent=True,
                    active_recv=active_recv,
                )
    room = run.num_active_gens - gen_count
    if gens_first and room > 0:
        room -= _start_persistent_gens(run, Work, H, persis_info, room)
    pending = libE_info["pending_sim_ids"]
    if pending:
        points = PendingPoints(pending, H)
        sim_workers = workers.avail(0, False, False, False)
        run.give_points(Work, sim_workers, points, persis_info, libE_info["sim_batch_size"])
        if points.left():
            return Work, persis_info, 0
    if room > 0:
        _start_persistent_gens(run, Work, H, persis_info, room)
    return Work, persis_info, 0


def _start_persistent_gens(
    run: PolicyRun, Work: dict, H: np.ndarray, persis_info: dict, room: int
) -> int:
    """Start up to ``room`` persistent generators on idle workers; returns how many."""
    started = 0
    for wid in run.workers.avail(0, False, True, True):
        if started >= room:
            break
        if wid in Work:
            continue
        Work[wid] = _gen_order(
            run.gen_in,
            _gen_rows(run.gen_specs, H),
            persis_info.get(wid),
            persistent=True,
            active_recv=run.active_recv,
        )
        persis_info["num_gens_started"] = persis_info.get("num_gens_started", 0) + 1
        started += 1
    return started


def give_pregenerated_work(
    W, H, sim_specs, gen_specs, alloc_specs, persis_info, libE_info
) -> AllocResult:
    """Evaluate the points already in the history (H0) with no generator; flag 1 once every
    point was given out."""
    if _nothing_to_do(libE_info):
        return {}, persis_info
    pending = libE_info["pending_sim_ids"]
    if not pending:
        return {}, persis_info, 1
    run = PolicyRun.of(sim_specs, gen_specs, alloc_specs, libE_info)
    Work: dict[int, dict] = {}
    idle = run.workers.avail(None, False, None, None)
    k = libE_info["sim_batch_size"]
    run.give_points(Work, idle, PendingPoints(pending, H), persis_info, k)
    return Work, persis_info, 0


def fast_alloc(W, H, sim_specs, gen_specs, alloc_specs, persis_info, libE_info) -> AllocResult:
    """One pending point per idle worker; when none is pending and no generator runs, run the
    generator once, telling it only the results it has not seen."""
    if _nothing_to_do(libE_info):
        return {}, persis_info
    run = PolicyRun.of(sim_specs, gen_specs, alloc_specs, libE_info)
    idle = run.workers.avail(None, False, None, None)
    points = PendingPoints(libE_info["pending_sim_ids"], H)
    Work: dict[int, dict] = {}
    run.give_points(Work, idle, points, persis_info, libE_info["sim_batch_size"])
    if points.left() or gen_specs is None or run.workers.count_active(EVAL_GEN_TAG):
        return Work, persis_info
    for wid in idle:
        if wid not in Work:
            fields = run.gen_in
            rows = _all_uninformed(libE_info) if fields else np.zeros(0, dtype=np.int64)
            Work[wid] = _gen_order(fields, rows, persis_info.get(wid))
            break
    return Work, persis_info


def _all_uninformed(libE_info: dict) -> np.ndarray:
    ids = [i for u in libE_info["uninformed_sim_ids"].values() for i in u]
    return np.array(sorted(ids), dtype=np.int64)
