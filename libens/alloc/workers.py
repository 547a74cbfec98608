"""WorkerTable: libEnsemble's worker array ``W`` plus Python-side indexes kept in step with
it, so the manager and the shipped policies find idle workers without NumPy calls on tiny
arrays (each costs a microsecond) and without scanning every worker per event."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

WORKER_DTYPE = [
    ("worker_id", int),
    ("gen_worker", bool),
    ("active", int),
    ("persis_state", int),
    ("active_recv", bool),
    ("gen_started_time", float),
    ("zero_resource_worker", bool),
]


class WorkerTable:
    """The state of every worker. Only the manager changes it, through the setters."""

    def __init__(
        self,
        worker_ids: Iterable[int],
        gen_workers: Iterable[int] = (),
        zero_resource_workers: Iterable[int] = (),
    ) -> None:
        ids = sorted(worker_ids)
        gen_set, zrw_set = set(gen_workers), set(zero_resource_workers)
        self.W = np.zeros(len(ids), dtype=WORKER_DTYPE)
        self.W["worker_id"] = ids
        self.W["gen_worker"] = [w in gen_set for w in ids] if gen_set else True
        self.W["zero_resource_worker"] = [w in zrw_set for w in ids]
        self.slot = {w: i for i, w in enumerate(ids)}
        self.active = dict.fromkeys(ids, 0)
        self.persis = dict.fromkeys(ids, 0)
        self.recv = dict.fromkeys(ids, False)
        self.idle = dict.fromkeys(ids)
        self.gen_ok = gen_set & set(ids) if gen_set else None
        self.zrw = zrw_set & set(ids)
        self.busy = 0

    def set_active(self, wid: int, tag: int) -> None:
        """``tag`` 0 marks the worker idle; EVAL_SIM_TAG/EVAL_GEN_TAG busy with that work."""
        was = self.active[wid]
        if was == tag:
            return
        self.active[wid] = tag
        self.W["active"][self.slot[wid]] = tag
        if tag:
            self.idle.pop(wid, None)
            self.busy += 1 if not was else 0
        else:
            self.idle[wid] = None
            self.busy -= 1

    def set_persistent(self, wid: int, tag: int, active_recv: bool = False) -> None:
        """A persistent user function started (tag) or ended (0) on ``wid``."""
        self.persis[wid] = tag
        self.recv[wid] = bool(active_recv and tag)
        i = self.slot[wid]
        self.W["persis_state"][i] = tag
        self.W["active_recv"][i] = self.recv[wid]

    def add(self, wid: int, gen_ok: bool = False) -> None:
        """A worker that joined a running pool; it may run generators only if ``gen_ok``
        (or if no ``gen_workers`` restriction exists)."""
        row = np.zeros(1, dtype=self.W.dtype)
        row["worker_id"] = wid
        row["gen_worker"] = gen_ok or self.gen_ok is None
        self.W = np.concatenate([self.W, row])
        self.slot[wid] = len(self.W) - 1
        self.active[wid] = 0
        self.persis[wid] = 0
        self.recv[wid] = False
        self.idle[wid] = None
        if gen_ok and self.gen_ok is not None:
            self.gen_ok.add(wid)

    def remove(self, wid: int) -> None:
        """A lost worker: never offered work again (its W row stays, marked busy)."""
        self.set_active(wid, -1)
        self.busy -= 1
        for d in (self.persis, self.recv):
            d.pop(wid, None)
        del self.slot[wid]

    def count(self, persis_state: int) -> int:
        """Workers whose persistent state is ``persis_state``."""
        return sum(1 for s in self.persis.values() if s == persis_state)

    def count_active(self, tag: int) -> int:
        return sum(1 for s in self.active.values() if s == tag)

    def avail(
        self,
        persistent: int | None,
        active_recv: bool,
        zero_resource_workers: bool | None,
        gen_workers: bool | None,
    ) -> list[int]:
        """Same filter as AllocSupport.avail_worker_ids, over idle workers only."""
        pool = [w for w, r in self.recv.items() if r] if active_recv else sorted(self.idle)
        out = []
        for w in pool:
            if persistent is not None and self.persis[w] != persistent:
                continue
            if (
                zero_resource_workers is not None
                and self.zrw
                and (w in self.zrw) != zero_resource_workers
            ):
                continue
            if (
                gen_workers is not None
                and self.gen_ok is not None
                and (w in self.gen_ok) != gen_workers
            ):
                continue
            out.append(w)
        return out
