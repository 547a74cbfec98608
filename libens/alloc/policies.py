"""The shipped allocation policies (libEnsemble's signatures and behaviour).

``alloc_f(W, H, sim_specs, gen_specs, alloc_specs, persis_info, libE_info)`` returns
``(Work, persis_info[, flag])``; flag 1 asks the manager to end the run. Each policy reads
pending and returned points from the manager's index sets in ``libE_info``: O(work given).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from libens.alloc.support import AllocSupport
from libens.messages import EVAL_GEN_TAG
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


@dataclass(frozen=True)
class PolicyOptions:
    """The options the shipped policies read, resolved once per run: the manager passes the
    same ``libE_info`` dict to every call, which keeps them (keyed by the specs objects)."""

    alloc_specs: Any
    gen_specs: Any
    sim_specs: Any
    sim_in: list[str]
    gen_in: list[str]
    persis_in: list[str]
    active_recv: bool
    num_active_gens: int
    async_return: bool
    initial_batch_size: int
    same_priority_batch: bool

    @classmethod
    def of(
        cls, sim_specs: Any, gen_specs: Any, alloc_specs: Any, libE_info: dict
    ) -> PolicyOptions:
        cached = libE_info.get("policy_options")
        if (
            isinstance(cached, cls)
            and cached.alloc_specs is alloc_specs
            and cached.gen_specs is gen_specs
            and cached.sim_specs is sim_specs
        ):
            return cached
        batch = _opt(alloc_specs, gen_specs, "batch_evaluate_same_priority", False)
        options = cls(
            alloc_specs,
            gen_specs,
            sim_specs,
            sim_in=sim_specs["in"],
            gen_in=(gen_specs.get("in") or []) if gen_specs is not None else [],
            persis_in=(gen_specs.get("persis_in") or []) if gen_specs is not None else [],
            active_recv=bool(_opt(alloc_specs, gen_specs, "active_recv_gen", False)),
            num_active_gens=int(_opt(alloc_specs, gen_specs, "num_active_gens", 1)),
            async_return=bool(_opt(alloc_specs, gen_specs, "async_return", False)),
            initial_batch_size=int(_user(alloc_specs).get("initial_batch_size", 0)),
            same_priority_batch=bool(
                _opt(alloc_specs, gen_specs, "give_all_with_same_priority", batch)
            ),
        )
        libE_info["policy_options"] = options
        return options


def _nothing_to_do(libE_info: dict) -> bool:
    return libE_info["sim_max_given"] or not libE_info["any_idle_workers"]


def _gen_rows(gen_specs: Any, H: np.ndarray) -> range:
    return range(len(H)) if gen_specs.get("in") else range(0)


def give_sim_work_first(
    W, H, sim_specs, gen_specs, alloc_specs, persis_info, libE_info
) -> AllocResult:
    """Give every idle worker a pending point; when none is left, run the (non-persistent)
    generator on up to ``num_active_gens`` idle workers."""
    if _nothing_to_do(libE_info):
        return {}, persis_info
    support = AllocSupport(W, persis_info=persis_info, libE_info=libE_info)
    options = PolicyOptions.of(sim_specs, gen_specs, alloc_specs, libE_info)
    gen_count = support.count_gens()
    Work: dict[int, dict] = {}
    for wid in support.avail_worker_ids():
        ids = support.take_points(H, options.same_priority_batch)
        if len(ids):
            Work[wid] = support.sim_work(wid, H, options.sim_in, ids, persis_info.get(wid))
        elif gen_specs is not None and gen_count < options.num_active_gens:
            rows = _gen_rows(gen_specs, H)
            Work[wid] = support.gen_work(wid, options.gen_in, rows, persis_info.get(wid))
            gen_count += 1
        else:
            break
    return Work, persis_info


def only_persistent_gens(
    W, H, sim_specs, gen_specs, alloc_specs, persis_info, libE_info
) -> AllocResult:
    """Persistent generators: return results to them (a whole batch, or as they arrive with
    ``async_return``), give pending points to idle workers, start generators when nothing is
    pending. A generator that finishes ends the run (flag 1)."""
    return _persistent(W, H, sim_specs, gen_specs, alloc_specs, persis_info, libE_info, False)


def start_only_persistent(
    W, H, sim_specs, gen_specs, alloc_specs, persis_info, libE_info
) -> AllocResult:
    """Like ``only_persistent_gens``, but starts the persistent generators before any pending
    point (e.g. from H0) is given out."""
    return _persistent(W, H, sim_specs, gen_specs, alloc_specs, persis_info, libE_info, True)


def _persistent(
    W, H, sim_specs, gen_specs, alloc_specs, persis_info, libE_info, gens_first: bool
) -> AllocResult:
    if _nothing_to_do(libE_info):
        return {}, persis_info
    support = AllocSupport(W, persis_info=persis_info, libE_info=libE_info)
    Work: dict[int, dict] = {}
    gen_count = support.count_persis_gens()
    if gen_count < persis_info.get("num_gens_started", 0):
        return Work, persis_info, 1
    options = PolicyOptions.of(sim_specs, gen_specs, alloc_specs, libE_info)
    active_recv = options.active_recv
    room = options.num_active_gens - gen_count
    async_return = options.async_return and (
        libE_info["sim_ended_count"] >= options.initial_batch_size
    )
    if gen_count:
        for wid in support.avail_gen_worker_ids(persistent=EVAL_GEN_TAG, active_recv=active_recv):
            if not (async_return or support.outstanding(wid) == 0):
                continue  # batch return: not before the whole batch is back
            ids = support.uninformed_ids(wid)
            if len(ids):
                Work[wid] = support.gen_work(
                    wid,
                    options.persis_in,
                    ids,
                    persis_info.get(wid),
                    persistent=True,
                    active_recv=active_recv,
                )
    if gens_first and room > 0:
        room -= _start_persistent_gens(support, Work, H, gen_specs, persis_info, active_recv, room)
    if support.pending_left():
        for wid in support.avail_worker_ids(
            persistent=False, zero_resource_workers=False, gen_workers=False
        ):
            if wid in Work:
                continue
            ids = support.take_points(H, options.same_priority_batch)
            if not len(ids):
                break
            Work[wid] = support.sim_work(wid, H, options.sim_in, ids, persis_info.get(wid))
    if room > 0 and not support.pending_left():
        _start_persistent_gens(support, Work, H, gen_specs, persis_info, active_recv, room)
    return Work, persis_info, 0


def _start_persistent_gens(
    support: AllocSupport,
    Work: dict,
    H: np.ndarray,
    gen_specs: Any,
    persis_info: dict,
    active_recv: bool,
    room: int,
) -> int:
    """Start up to ``room`` persistent generators on idle workers; returns how many."""
    started = 0
    for wid in support.avail_gen_worker_ids(persistent=False, zero_resource_workers=True):
        if started >= room:
            break
        if wid in Work:
            continue
        Work[wid] = support.gen_work(
            wid,
            gen_specs["in"],
            _gen_rows(gen_specs, H),
            persis_info.get(wid),
            persistent=True,
            active_recv=active_recv,
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
    support = AllocSupport(W, persis_info=persis_info, libE_info=libE_info)
    if not libE_info.get("pending_sim_ids"):
        return {}, persis_info, 1
    Work: dict[int, dict] = {}
    for wid in support.avail_worker_ids():
        ids = support.take_points(H)
        if not len(ids):
            break
        Work[wid] = support.sim_work(wid, H, sim_specs["in"], ids, persis_info.get(wid))
    return Work, persis_info, 0


def fast_alloc(W, H, sim_specs, gen_specs, alloc_specs, persis_info, libE_info) -> AllocResult:
    """One pending point per idle worker; when none is pending and no generator runs, run the
    generator once, telling it only the results it has not seen."""
    if _nothing_to_do(libE_info):
        return {}, persis_info
    support = AllocSupport(W, persis_info=persis_info, libE_info=libE_info)
    gen_running = support.test_any_gen()
    Work: dict[int, dict] = {}
    for wid in support.avail_worker_ids():
        ids = support.take_points(H)
        if len(ids):
            Work[wid] = support.sim_work(wid, H, sim_specs["in"], ids, persis_info.get(wid))
        elif not gen_running and gen_specs is not None:
            fields = gen_specs["in"]
            rows = _all_uninformed(libE_info) if fields else np.zeros(0, dtype=np.int64)
            Work[wid] = support.gen_work(wid, fields, rows, persis_info.get(wid))
            gen_running = True
        else:
            break
    return Work, persis_info


def _all_uninformed(libE_info: dict) -> np.ndarray:
    ids = [i for u in libE_info.get("uninformed_sim_ids", {}).values() for i in u]
    return np.array(sorted(ids), dtype=np.int64)
