"""WorkerTable: libEnsemble's worker array ``W`` plus Python-side indexes kept in step with
it, so the manager and the shipped policies find idle workers without NumPy calls on tiny
arrays (each costs a microsecond) and without scanning every worker per event."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from collections.abc import Set as AbstractSet

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

    __slots__ = (
        "_W",
        "slot",
        "active",
        "persis",
        "recv",
        "idle",
        "idle_in",
        "idle_plain",
        "active_count",
        "persis_count",
        "recv_count",
        "gen_ok",
        "zrw",
        "busy",
        "gen_started",
    )

    def __init__(
        self,
        worker_ids: Iterable[int],
        gen_workers: Iterable[int] = (),
        zero_resource_workers: Iterable[int] = (),
    ) -> None:
        ids = sorted(worker_ids)
        gen_set, zrw_set = set(gen_workers), set(zero_resource_workers)
        self._W = np.zeros(len(ids), dtype=WORKER_DTYPE)
        self._W["worker_id"] = ids
        self._W["gen_worker"] = [w in gen_set for w in ids] if gen_set else True
        self._W["zero_resource_worker"] = [w in zrw_set for w in ids]
        self.slot = {w: i for i, w in enumerate(ids)}
        self.active = dict.fromkeys(ids, 0)
        self.persis = dict.fromkeys(ids, 0)
        self.recv = dict.fromkeys(ids, False)
        self.idle = dict.fromkeys(ids)
        # idle workers by persistent state; [0]: idle and holding no persistent function
        self.idle_in: defaultdict[int, dict[int, None]] = defaultdict(dict)
        self.idle_plain = self.idle_in[0] = dict.fromkeys(ids)
        self.active_count: dict[int, int] = {}  # workers per active tag
        self.persis_count: dict[int, int] = {}  # workers per persistent state
        self.recv_count = 0  # workers in active-receive mode
        self.gen_ok = gen_set & set(ids) if gen_set else None
        self.zrw = zrw_set & set(ids)
        self.busy = 0
        self.gen_started: dict[int, float] = {}  # when each worker's last gen work was sent

    @property
    def W(self) -> np.ndarray:
        """libEnsemble's worker array (the same array on every read, until a worker
        joins), brought up to date from the tables when read: the setters keep only the
        tables, as NumPy field writes on every event cost 1% of a run."""
        W = self._W
        ids = W["worker_id"].tolist()
        W["active"] = [self.active.get(w, -1) for w in ids]
        W["persis_state"] = [self.persis.get(w, 0) for w in ids]
        W["active_recv"] = [self.recv.get(w, False) for w in ids]
        W["gen_started_time"] = [self.gen_started.get(w, 0.0) for w in ids]
        return W

    def set_active(self, wid: int, tag: int) -> None:
        """``tag`` 0 marks the worker idle; EVAL_SIM_TAG/EVAL_GEN_TAG busy with that work."""
        active = self.active
        was = active[wid]
        if was == tag:
            return
        active[wid] = tag
        counts = self.active_count  # as _recount does, inline: this runs on every event
        if was:
            counts[was] -= 1
            if not tag:
                self.idle[wid] = self.idle_in[self.persis[wid]][wid] = None
                self.busy -= 1
                return
        else:
            del self.idle[wid]
            del self.idle_in[self.persis[wid]][wid]
            self.busy += 1
        counts[tag] = counts.get(tag, 0) + 1

    def set_persistent(self, wid: int, tag: int, active_recv: bool = False) -> None:
        """A persistent user function started (tag) or ended (0) on ``wid``."""
        was = self.persis[wid]
        recv = bool(active_recv and tag)
        if was == tag and self.recv[wid] == recv:
            return
        _recount(self.persis_count, was, tag)
        if wid in self.idle:
            del self.idle_in[was][wid]
            self.idle_in[tag][wid] = None
        self.persis[wid] = tag
        self.recv_count += recv - self.recv[wid]
        self.recv[wid] = recv

    def add(self, wid: int, gen_ok: bool = False) -> None:
        """A worker that joined a running pool; it may run generators only if ``gen_ok``
        (or if no ``gen_workers`` restriction exists)."""
        row = np.zeros(1, dtype=self._W.dtype)
        row["worker_id"] = wid
        row["gen_worker"] = gen_ok or self.gen_ok is None
        self._W = np.concatenate([self._W, row])
        self.slot[wid] = len(self._W) - 1
        self.active[wid] = 0
        self.persis[wid] = 0
        self.recv[wid] = False
        self.idle[wid] = None
        self.idle_plain[wid] = None
        if gen_ok and self.gen_ok is not None:
            self.gen_ok.add(wid)

    def remove(self, wid: int) -> None:
        """A lost worker: never offered work again (its W row stays, marked busy)."""
        self.set_persistent(wid, 0)
        self.set_active(wid, -1)
        self.busy -= 1
        for d in (self.persis, self.recv):
            d.pop(wid, None)
        del self.slot[wid]

    def count(self, persis_state: int) -> int:
        """Workers whose persistent state is ``persis_state``."""
        return self.persis_count.get(persis_state, 0)

    def count_active(self, tag: int) -> int:
        """Workers busy with work of type ``tag``."""
        return self.active_count.get(tag, 0)

    def avail(
        self,
        persistent: int | None,
        active_recv: bool,
        zero_resource_workers: bool | None,
        gen_workers: bool | None,
    ) -> list[int]:
        """Same filter as AllocSupport.avail_worker_ids, over idle workers only (sorted);
        the filters are set operations on the idle indexes."""
        pool: AbstractSet[int]
        if active_recv:
            pool = {w for w, r in self.recv.items() if r}
        elif persistent is not None:
            pool, persistent = self.idle_in[persistent].keys(), None
        else:
            pool = self.idle.keys()
        if zero_resource_workers is not None and self.zrw:
            pool = pool & self.zrw if zero_resource_workers else pool - self.zrw
        if gen_workers is not None and self.gen_ok is not None:
            pool = pool & self.gen_ok if gen_workers else pool - self.gen_ok
        if persistent is None:
            return sorted(pool)
        persis = self.persis
        return sorted(w for w in pool if persis[w] == persistent)


def _recount(counts: dict[int, int], was: int, now: int) -> None:
    """Move one worker from tag ``was`` to tag ``now`` in a per-tag count (0 is not counted)."""
    if was:
        counts[was] -= 1
    if now:
        counts[now] = counts.get(now, 0) + 1
