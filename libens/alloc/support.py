"""AllocSupport: the helpers allocation policies use to find idle workers, pick points and
build work orders (libEnsemble's API). Point selection reads the manager's index sets from
``libE_info`` so the shipped policies never scan the whole history."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import numpy.typing as npt

from libens.alloc.orders import order
from libens.alloc.workers import WORKER_DTYPE, WorkerTable
from libens.history import as_ids
from libens.messages import EVAL_GEN_TAG, EVAL_SIM_TAG

__all__ = ["WORKER_DTYPE", "AllocSupport", "PendingPoints", "order"]


class PendingPoints:
    """Hands out the manager's pending points, each at most once per policy call: the highest
    ``priority`` first when H has that field (all of the top priority with ``batch``), else in
    generation order, ``k`` at a time. ``chunk_starts`` holds the first id of every chunk of
    several points taken in order (their worker runs one sim_f call per point)."""

    __slots__ = ("pending", "priority", "chunk_starts", "_order", "_taken", "_count")

    def __init__(self, pending: dict[int, None], H: np.ndarray) -> None:
        self.pending = pending
        self.priority = H["priority"] if "priority" in H.dtype.names else None
        self.chunk_starts: set[int] = set()
        self._order = iter(pending)  # the policy's call ends before the manager changes it
        self._taken: set[int] = set()  # priority picks only
        self._count = 0

    def take(self, batch: bool = False, k: int = 1) -> npt.NDArray[np.int64]:
        """The next point(s); an empty array when none is left."""
        if self.priority is None:
            chosen = np.fromiter(itertools.islice(self._order, k), dtype=np.int64)
            if len(chosen) > 1:
                self.chunk_starts.add(int(chosen[0]))
        else:
            taken = self._taken
            avail = np.fromiter((i for i in self.pending if i not in taken), dtype=np.int64)
            if not len(avail):
                return avail
            pr = self.priority[avail]
            top = pr.max()
            chosen = avail[pr == top] if batch else avail[[int(np.argmax(pr))]]
            taken.update(chosen.tolist())
        self._count += len(chosen)
        return chosen

    def left(self) -> bool:
        """True while some pending point was not taken."""
        return len(self.pending) > self._count


class AllocSupport:
    """Read-only helpers over the worker array ``W`` and the manager's index sets."""

    def __init__(
        self,
        W: np.ndarray,
        manage_resources: bool = False,
        persis_info: dict | None = None,
        libE_info: dict | None = None,
        user_resources: Any = None,
        user_scheduler: Any = None,
    ) -> None:
        self.W = W
        self.persis_info = persis_info if persis_info is not None else {}
        self.libE_info = libE_info if libE_info is not None else {}
        self._points: PendingPoints | None = None
        self._scanned: set[int] = set()  # taken by a scan of H (no index sets given)
        table = self.libE_info.get("worker_table")
        self._table: WorkerTable | None = table if table is not None and table.W is W else None

    def avail_worker_ids(
        self,
        persistent: int | None = None,
        active_recv: bool = False,
        zero_resource_workers: bool | None = None,
        gen_workers: bool | None = None,
    ) -> list[int]:
        """Ids of workers free for work, filtered like libEnsemble's AllocSupport."""
        if self._table is not None:
            return self._table.avail(persistent, active_recv, zero_resource_workers, gen_workers)
        W = self.W
        mask = W["active_recv"] if active_recv else W["active"] == 0
        if persistent is not None:
            mask = mask & (W["persis_state"] == persistent)
        if zero_resource_workers is not None and W["zero_resource_worker"].any():
            mask = mask & (W["zero_resource_worker"] == zero_resource_workers)
        if gen_workers is not None and W["gen_worker"].any() and not W["gen_worker"].all():
            mask = mask & (W["gen_worker"] == gen_workers)
        return W["worker_id"][mask].tolist()

    def avail_gen_worker_ids(
        self,
        persistent: int | None = None,
        active_recv: bool = False,
        zero_resource_workers: bool | None = None,
    ) -> list[int]:
        """Idle workers allowed to run generators (all, unless ``gen_workers`` restricts)."""
        return self.avail_worker_ids(persistent, active_recv, zero_resource_workers, True)

    def count_gens(self) -> int:
        """Number of workers running a generator (persistent or not)."""
        if self._table is not None:
            return self._table.count_active(EVAL_GEN_TAG)
        return int(np.sum(self.W["active"] == EVAL_GEN_TAG))

    def test_any_gen(self) -> bool:
        """True if any worker runs a generator."""
        return self.count_gens() > 0

    def count_persis_gens(self) -> int:
        """Number of persistent generators running."""
        if self._table is not None:
            return self._table.count(EVAL_GEN_TAG)
        return int(np.sum(self.W["persis_state"] == EVAL_GEN_TAG))

    def sim_work(
        self,
        wid: int,
        H: np.ndarray,
        H_fields: list[str],
        H_rows: Any,
        persis_info: dict | None,
        **libE_info: Any,
    ) -> dict:
        """A simulation work order for worker ``wid``. With resource sets, the sets its
        points ask for are reserved for it (``rset_team``), or InsufficientFreeResources
        is raised while too few are free (an allocation function then stops giving work,
        as with libEnsemble)."""
        rows = libE_info["H_rows"] = as_ids(H_rows)
        lending = self.libE_info.get("resource_lending")
        if lending is not None and "rset_team" not in libE_info:
            libE_info["rset_team"] = list(lending.reserve(lending.sets.needed(H, rows)))
        points = self._points
        if points is not None and len(rows) > 1 and int(rows[0]) in points.chunk_starts:
            libE_info["split_rows"] = True
        return order(EVAL_SIM_TAG, H_fields, persis_info, libE_info)

    def gen_work(
        self,
        wid: int,
        H_fields: list[str],
        H_rows: Any,
        persis_info: dict | None,
        **libE_info: Any,
    ) -> dict:
        """A generator work order for worker ``wid`` (``persistent=True`` for a long-lived one)."""
        libE_info["H_rows"] = as_ids(H_rows)
        return order(EVAL_GEN_TAG, H_fields, persis_info, libE_info)

    def take_points(self, H: np.ndarray, batch: bool = False) -> npt.NDArray[np.int64]:
        """Next pending point(s) to evaluate, from the manager's pending set: the highest
        ``priority`` first when that field exists (all of equal priority when ``batch``),
        else in generation order. Points already taken by this instance are skipped.

        Without priorities, up to ``libE_info["sim_batch_size"]`` points are taken at once
        (the manager raises it when simulations are short); such a chunk is still evaluated
        one sim_f call per point.
        """
        pending = self.libE_info.get("pending_sim_ids")
        if pending is None:
            return self._scan_points(H, batch)
        if self._points is None:
            self._points = PendingPoints(pending, H)
        return self._points.take(batch, self.libE_info.get("sim_batch_size", 1))

    def pending_left(self) -> bool:
        """True while pending points remain that this instance has not taken."""
        if self._points is not None:
            return self._points.left()
        pending = self.libE_info.get("pending_sim_ids")
        return bool(pending) if pending is not None else True

    def _scan_points(self, H: np.ndarray, batch: bool) -> npt.NDArray[np.int64]:
        avail = ~H["sim_started"] & ~H["cancel_requested"]
        if self._scanned:
            avail[list(self._scanned)] = False
        chosen = self.points_by_priority(H, avail, batch)
        self._scanned.update(chosen.tolist())
        return chosen

    def points_by_priority(
        self, H: np.ndarray, points_avail: npt.NDArray[np.bool_], batch: bool = False
    ) -> npt.NDArray[np.int64]:
        """libEnsemble's selection over a boolean mask: highest ``priority`` first."""
        if "priority" in H.dtype.names:
            pr = H["priority"][points_avail]
            if not len(pr):
                return np.zeros(0, dtype=np.int64)
            if batch:
                q = points_avail & (H["priority"] == pr.max())
            else:
                q = np.zeros(len(H), bool)
                q[np.nonzero(points_avail)[0][np.argmax(pr)]] = True
        else:
            nz = np.nonzero(points_avail)[0]
            q = nz[:1]
            return q.astype(np.int64)
        return np.nonzero(q)[0].astype(np.int64)

    def all_sim_started(
        self, H: np.ndarray, pt_filter: Any = None, low_bound: int | None = None
    ) -> bool:
        """True when every (filtered) point has started."""
        H = H[low_bound:] if low_bound is not None else H
        ok = H["sim_started"] | H["cancel_requested"]
        return bool(np.all(ok if pt_filter is None else ok[pt_filter]))

    def all_sim_ended(
        self, H: np.ndarray, pt_filter: Any = None, low_bound: int | None = None
    ) -> bool:
        """True when every (filtered) point has ended or was cancelled before starting."""
        H = H[low_bound:] if low_bound is not None else H
        ok = H["sim_ended"] | (H["cancel_requested"] & ~H["sim_started"])
        return bool(np.all(ok if pt_filter is None else ok[pt_filter]))

    def all_gen_informed(
        self, H: np.ndarray, pt_filter: Any = None, low_bound: int | None = None
    ) -> bool:
        """True when the generator was told about every (filtered) point."""
        H = H[low_bound:] if low_bound is not None else H
        ok = H["gen_informed"]
        return bool(np.all(ok if pt_filter is None else ok[pt_filter]))

    def uninformed_ids(self, gen_worker: int) -> npt.NDArray[np.int64]:
        """Ended points made by ``gen_worker`` that it has not been told about (O(result))."""
        u = self.libE_info.get("uninformed_sim_ids", {}).get(gen_worker)
        return np.fromiter(u, dtype=np.int64) if u else np.zeros(0, dtype=np.int64)

    def outstanding(self, gen_worker: int) -> int:
        """Points made by ``gen_worker`` still to be evaluated or running."""
        return self.libE_info.get("outstanding", {}).get(gen_worker, 0)
