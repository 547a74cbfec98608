"""The history: one structured array, one row per point, plus index sets that let the manager
and the shipped allocation policies work in O(batch) per event instead of scanning all rows.

Index sets (plain dicts used as insertion-ordered sets):
- ``pending``: generated, not yet given to a simulation, not cancelled;
- ``uninformed[gen_worker]``: simulation ended, generator not yet told;
- ``outstanding[gen_worker]``: generated and not yet ended (cancelled-unstarted rows excluded).
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Mapping, Sequence
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from libens.errors import GeneratorError, SimulatorError

RESERVED_FIELDS: list[tuple[str, type]] = [
    ("sim_id", int),
    ("gen_worker", int),
    ("gen_started_time", float),
    ("gen_ended_time", float),
    ("sim_worker", int),
    ("sim_started", bool),
    ("sim_started_time", float),
    ("sim_ended", bool),
    ("sim_ended_time", float),
    ("gen_informed", bool),
    ("gen_informed_time", float),
    ("cancel_requested", bool),
    ("kill_sent", bool),
    ("sim_failed", bool),
]
RESERVED_NAMES = frozenset(name for name, _ in RESERVED_FIELDS)
_UNSET_TIMES = ("sim_started_time", "sim_ended_time", "gen_informed_time")


class _FieldRun(NamedTuple):
    """Reserved fields the manager sets together on one event, and the layout of one row's
    values (struct: native order, no padding). They lie side by side in every H (build_dtype
    puts RESERVED_FIELDS first, in order), so one write of a row's packed bytes through a
    byte view sets them all: one NumPy call where a call per field costs about 3k
    instructions."""

    names: tuple[str, ...]
    packing: struct.Struct


_GEN_DONE = _FieldRun(("gen_worker", "gen_started_time", "gen_ended_time"), struct.Struct("=qdd"))
_SIM_STARTED = _FieldRun(("sim_worker", "sim_started", "sim_started_time"), struct.Struct("=q?d"))
_SIM_ENDED = _FieldRun(("sim_ended", "sim_ended_time"), struct.Struct("=?d"))
_GEN_INFORMED = _FieldRun(("gen_informed", "gen_informed_time"), struct.Struct("=?d"))

IdArray = npt.NDArray[np.int64]
_INT64 = np.dtype(np.int64)


def as_ids(rows: Iterable[int] | npt.ArrayLike) -> IdArray:
    """Row ids as a 1-d int64 array (an array that already is one passes through)."""
    if type(rows) is np.ndarray and rows.dtype is _INT64 and rows.ndim == 1:
        return rows
    if isinstance(rows, range):
        return np.arange(rows.start, rows.stop, rows.step, dtype=np.int64)
    return np.atleast_1d(np.asarray(rows, dtype=np.int64))


def build_dtype(*field_lists: Iterable[tuple]) -> np.dtype:
    """Reserved fields, then user fields in order of first appearance (later duplicates must
    agree with the first)."""
    seen: dict[str, tuple] = {}
    for fields in (RESERVED_FIELDS, *field_lists):
        for spec in fields:
            name = spec[0]
            if name not in seen:
                seen[name] = tuple(spec)
            elif np.dtype([spec]) != np.dtype([seen[name]]) and name not in RESERVED_NAMES:
                raise SimulatorError(
                    f"field {name!r} is declared twice with different dtypes: "
                    f"{seen[name][1:]} and {tuple(spec)[1:]}; make the specs agree"
                )
    return np.dtype(list(seen.values()))


_PACKED: dict[tuple[np.dtype, tuple[str, ...]], np.dtype] = {}  # work-order dtypes


def packed_dtype(dtype: np.dtype, fields: Sequence[str]) -> np.dtype:
    """The dtype of ``fields`` of ``dtype`` with no padding between them (cached)."""
    key = (dtype, tuple(fields))
    dt = _PACKED.get(key)
    if dt is None:
        dt = _PACKED[key] = np.dtype([(f, dtype.fields[f][0]) for f in fields])
    return dt


def subarray(
    H: np.ndarray,
    fields: Sequence[str],
    rows: IdArray,
    columns: Mapping[str, np.ndarray] | None = None,
) -> np.ndarray:
    """A packed copy of ``H[fields][rows]`` (no padding bytes travel); ``columns``, views of
    H's fields, spare a field lookup per field."""
    out = np.empty(len(rows), dtype=packed_dtype(H.dtype, fields))
    source = H if columns is None else columns
    for f in fields:
        out[f] = source[f][rows]
    return out


# how History.rows reads a list of fields: the packed dtype, a byte view of all of them when
# they lie side by side in H's rows, else per field the array to read and the dtype to view
# what it reads as (None: read as it is)
_Reading = tuple[np.dtype, "np.ndarray | None", list[tuple[str, np.ndarray, "np.dtype | None"]]]


class History:
    """The manager's history array; grows by doubling (amortized O(1) append)."""

    __slots__ = (
        "n",
        "pending",
        "uninformed",
        "outstanding",
        "sim_started_count",
        "sim_ended_count",
        "errors",
        "requeues",
        "gen_informed_count",
        "offset",
        "_H",
        "col",
        "_filled",
        "_readings",
        "_gen_done",
        "_sim_started",
        "_sim_ended",
        "_gen_informed",
    )

    def __init__(
        self, dtype: np.dtype, H0: np.ndarray | None = None, capacity: int = 1024
    ) -> None:
        given = [_descr(H0.dtype)] if H0 is not None and len(H0) else []
        dtype = build_dtype(_descr(dtype), *given)  # reserved fields first, side by side
        self._store(self._blank(dtype, max(capacity, 1, 2 * len(H0) if H0 is not None else 0)))
        self.n = 0
        self.pending: dict[int, None] = {}
        self.uninformed: dict[int, dict[int, None]] = {}
        self.outstanding: dict[int, int] = {}
        self.sim_started_count = 0
        self.sim_ended_count = 0
        self.errors: dict[int, str] = {}
        self.requeues: dict[int, int] = {}
        self.gen_informed_count = 0
        self.offset = 0
        if H0 is not None and len(H0):
            self._load_H0(H0)

    @staticmethod
    def _blank(dtype: np.dtype, n: int) -> np.ndarray:
        H = np.zeros(n, dtype=dtype)
        H["sim_id"] = -1
        for f in _UNSET_TIMES:
            H[f] = np.inf
        return H

    def _store(self, H: np.ndarray) -> None:
        """Adopt new storage; ``col`` holds a view of each field (a field lookup on a
        structured array costs more than the small updates the manager makes with it)."""
        self._H = H
        self.col = {name: H[name] for name in H.dtype.names}
        self._filled: dict[np.dtype, list[str]] = {}  # fields that incoming rows fill
        self._readings: dict[tuple[str, ...], _Reading] = {}
        self._gen_done = self._run_bytes(_GEN_DONE)
        self._sim_started = self._run_bytes(_SIM_STARTED)
        self._sim_ended = self._run_bytes(_SIM_ENDED)
        self._gen_informed = self._run_bytes(_GEN_INFORMED)

    def _run_bytes(self, run: _FieldRun) -> np.ndarray:
        """A byte view of reserved fields that lie side by side, the size of their packing."""
        names, packing = run
        fields = self._H.dtype.fields
        start = fields[names[0]][1]
        assert fields[names[-1]][1] + fields[names[-1]][0].itemsize - start == packing.size
        return self._bytes(start, packing.size)

    def rows(self, fields: Sequence[str], ids: IdArray) -> np.ndarray:
        """``subarray`` of the live rows (what a work order carries). Fields that lie side by
        side in H are read as one block of bytes per row, and a field with a shape through a
        byte view: NumPy gathers a 1-d array at about a quarter of the cost of the strided
        (n, k) view of such a field."""
        key = tuple(fields)
        reading = self._readings.get(key)
        if reading is None:
            reading = self._readings[key] = self._reading(key)
        packed, block, parts = reading
        if block is not None:
            return block[ids].view(packed)
        out = np.empty(len(ids), dtype=packed)
        for name, source, as_dtype in parts:
            values = source[ids]
            out[name] = values if as_dtype is None else values.view(as_dtype)
        return out

    def _reading(self, fields: tuple[str, ...]) -> _Reading:
        H, col = self._H, self.col
        packed = packed_dtype(H.dtype, fields)
        if H.dtype.hasobject:  # no byte views over object references
            return packed, None, [(f, col[f], None) for f in fields]
        where = {f: H.dtype.fields[f][1] for f in fields}
        start = where[fields[0]]
        if all(where[f] - start == packed.fields[f][1] for f in fields):
            return packed, self._bytes(start, packed.itemsize), []
        parts: list[tuple[str, np.ndarray, np.dtype | None]] = [
            (f, col[f], None)
            if H.dtype[f].shape == ()
            else (f, self._bytes(where[f], H.dtype[f].itemsize), H.dtype[f])
            for f in fields
        ]
        return packed, None, parts

    def _bytes(self, offset: int, size: int) -> np.ndarray:
        """A 1-d view of ``size`` bytes at ``offset`` in every row of the storage."""
        H = self._H
        return np.ndarray(
            len(H),
            dtype=np.dtype((np.void, size)),
            buffer=H,
            offset=offset,
            strides=(H.dtype.itemsize,),
        )

    @property
    def H(self) -> np.ndarray:
        """The live rows (a view: no copy)."""
        return self._H[: self.n]

    @property
    def dtype(self) -> np.dtype:
        return self._H.dtype

    def _load_H0(self, H0: np.ndarray) -> None:
        n = len(H0)
        self._reserve(n)
        H = self._H
        for f in H0.dtype.names:
            H[f][:n] = H0[f]
        H["sim_id"][:n] = np.arange(n)
        names = H0.dtype.names
        ended = H0["sim_ended"] if "sim_ended" in names else np.zeros(n, bool)
        H["sim_started"][:n] = ended  # started-but-unfinished H0 rows are run again
        informed = H0["gen_informed"] if "gen_informed" in names else np.zeros(n, bool)
        gw = H["gen_worker"][:n]
        self.n = n
        self.offset = n
        self.sim_started_count = self.sim_ended_count = int(np.count_nonzero(ended))
        todo = np.flatnonzero(~ended & ~H["cancel_requested"][:n])
        self.pending.update(dict.fromkeys(todo.tolist()))
        for g, count in zip(*np.unique(gw[todo], return_counts=True), strict=True):
            self.outstanding[int(g)] = int(count)
        told = np.flatnonzero(ended & ~informed)
        for g in np.unique(gw[told]).tolist():
            self.uninformed[g] = dict.fromkeys(told[gw[told] == g].tolist())

    def _reserve(self, extra: int) -> None:
        need = self.n + extra
        if need > len(self._H):
            bigger = self._blank(self._H.dtype, max(need, 2 * len(self._H)))
            bigger[: self.n] = self._H[: self.n]
            self._store(bigger)

    def add_fields(self, fields: Iterable[tuple]) -> None:
        """Widen the dtype with fields not declared in the specs (rare: copies once)."""
        dtype = build_dtype(_descr(self._H.dtype), fields)
        if dtype == self._H.dtype:
            return
        wider = self._blank(dtype, len(self._H))
        for f in self._H.dtype.names:
            wider[f] = self._H[f]
        self._store(wider)

    def _fields_filled(self, rows: np.ndarray) -> list[str]:
        """The user fields that rows of this dtype fill, after adding any the history lacks
        (worked out once per dtype: this runs on every message)."""
        names = self._filled.get(rows.dtype)
        if names is not None:
            return names
        new = [
            (f, *_shape_spec(rows.dtype.fields[f][0]))
            for f in rows.dtype.names
            if f not in self.col
        ]
        if new:
            self.add_fields(new)
        names = self._filled[rows.dtype] = [f for f in rows.dtype.names if f not in RESERVED_NAMES]
        return names

    def append_generated(
        self, rows: np.ndarray, gen_worker: int, now: float, gen_started: float = 0.0
    ) -> IdArray:
        """Add rows from a generator (rows carrying existing ``sim_id`` values update those
        rows instead); returns the sim_ids of the new rows. ``gen_started``: when the
        generator was last given work (0: unknown)."""
        if rows.dtype.names is None:
            raise GeneratorError(
                "a generator must return a NumPy structured array (gen_specs.out)"
            )
        names = self._fields_filled(rows)
        if "sim_id" in rows.dtype.names:
            ids = rows["sim_id"].astype(np.int64)
            old = ids < self.n
            if old.any():
                self._update_existing(rows[old], names)
                rows = rows[~old]
                ids = ids[~old]
            expect = np.arange(self.n, self.n + len(rows))
            if not np.array_equal(np.sort(ids), expect):
                raise GeneratorError(
                    f"generator rows carry sim_ids {ids.tolist()[:8]} but new rows must be "
                    "numbered "
                    f"{self.n}..{self.n + len(rows) - 1} (or omit the sim_id field)"
                )
            order = np.argsort(ids, kind="stable")
            rows = rows[order]
        k = len(rows)
        start, stop = self.n, self.n + k
        if stop > len(self._H):
            self._reserve(k)
        col = self.col
        for f in names:
            col[f][start:stop] = rows[f]
        ids = np.arange(start, stop, dtype=np.int64)
        col["sim_id"][start:stop] = ids
        self._gen_done[ids] = _GEN_DONE.packing.pack(gen_worker, gen_started, now)
        self.n = stop
        self.pending.update(dict.fromkeys(range(start, stop)))
        self.outstanding[gen_worker] = self.outstanding.get(gen_worker, 0) + k
        return ids

    def _update_existing(self, rows: np.ndarray, names: list[str]) -> None:
        ids = rows["sim_id"]
        for f in names:
            self.col[f][ids] = rows[f]

    def mark_started(self, ids: IdArray, worker: int, now: float) -> None:
        """Rows handed to a simulation worker."""
        self._sim_started[ids] = _SIM_STARTED.packing.pack(worker, True, now)
        pending = self.pending
        for i in ids.tolist():
            pending.pop(i, None)
        self.sim_started_count += len(ids)

    def mark_ended(self, ids: IdArray, out: np.ndarray | None, now: float) -> None:
        """Rows whose simulation finished, with the simulation's output fields."""
        if out is not None and out.dtype.names:
            if len(out) != len(ids):
                raise SimulatorError(
                    f"sim_f returned {len(out)} rows for {len(ids)} input rows; "
                    "return one row per input"
                )
            names = self._fields_filled(out)  # may widen H: read col after it
            col = self.col
            for f in names:
                col[f][ids] = out[f]
        col = self.col
        self._sim_ended[ids] = _SIM_ENDED.packing.pack(True, now)
        uninformed, outstanding = self.uninformed, self.outstanding
        for i, g in zip(ids.tolist(), col["gen_worker"][ids].tolist(), strict=True):
            u = uninformed.get(g)
            if u is None:
                u = uninformed[g] = {}
            u[i] = None
            outstanding[g] = outstanding.get(g, 0) - 1
        self.sim_ended_count += len(ids)

    def mark_failed(self, ids: IdArray, error: str, now: float) -> None:
        """Rows whose simulation failed: ended, flagged ``sim_failed``, error text kept."""
        self._H["sim_failed"][ids] = True
        for i in ids.tolist():
            self.errors[i] = error
        self.mark_ended(ids, None, now)

    def requeue(self, ids: IdArray) -> None:
        """Rows given out but never finished (their worker was lost): pending again."""
        H = self._H
        H["sim_started"][ids] = False
        H["sim_started_time"][ids] = np.inf
        for i in ids.tolist():
            self.pending[i] = None
            self.requeues[i] = self.requeues.get(i, 0) + 1
        self.sim_started_count -= len(ids)

    def mark_informed(self, ids: IdArray, now: float) -> None:
        """Rows whose results were handed to a generator."""
        col = self.col
        told = col["gen_informed"][ids].tolist()
        fresh = ids[[not t for t in told]] if True in told else ids  # usually all are new
        self._gen_informed[fresh] = _GEN_INFORMED.packing.pack(True, now)
        uninformed = self.uninformed
        for i, g in zip(fresh.tolist(), col["gen_worker"][fresh].tolist(), strict=True):
            u = uninformed.get(g)
            if u is not None:
                u.pop(i, None)
        self.gen_informed_count += len(fresh)

    def cancel(self, ids: IdArray) -> IdArray:
        """Mark rows cancelled; return those that are running (candidates for a kill)."""
        H = self._H
        ids = ids[(ids >= 0) & (ids < self.n)]
        H["cancel_requested"][ids] = True
        running = []
        for i in ids.tolist():
            if i in self.pending:
                del self.pending[i]
                g = int(H["gen_worker"][i])
                self.outstanding[g] = self.outstanding.get(g, 0) - 1
            elif H["sim_started"][i] and not H["sim_ended"][i]:
                running.append(i)
        return np.array(running, dtype=np.int64)


def _descr(dtype: np.dtype) -> list[tuple]:
    return [(name, *_shape_spec(dtype.fields[name][0])) for name in dtype.names]


def _shape_spec(dt: np.dtype) -> tuple:
    if dt.subdtype is not None:
        base, shape = dt.subdtype
        return (base, shape)
    return (dt,)
