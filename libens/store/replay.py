"""Rebuild a history from its journal, for resuming a run and for tools that read runs."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np

from libens.history import RESERVED_FIELDS, build_dtype
from libens.store.journal import Event, read_journal

_END_FIELDS = ("sim_worker", "sim_started_time", "sim_ended_time", "sim_failed")


def _fields(dtype: np.dtype) -> list[tuple]:
    out = []
    for name in dtype.names:
        dt = dtype.fields[name][0]
        out.append((name, dt.base, dt.shape) if dt.shape else (name, dt))
    return out


def replay(events: Iterable[Event]) -> np.ndarray:
    """The history the events describe (rows ordered by sim_id)."""
    events = list(events)
    field_lists = [_fields(e.rows.dtype) for e in events if e.rows is not None]
    dtype = build_dtype(*field_lists)
    n = 1 + max(
        (
            int(e.rows["sim_id"].max())
            for e in events
            if e.kind == "gen" and e.rows is not None and len(e.rows)
        ),
        default=-1,
    )
    H = np.zeros(n, dtype=dtype)
    H["sim_id"] = np.arange(n)
    for f in ("sim_started_time", "sim_ended_time", "gen_informed_time"):
        H[f] = np.inf
    reserved = {name for name, _ in RESERVED_FIELDS}
    for e in events:
        ids = e.rows["sim_id"] if e.rows is not None else np.zeros(0, dtype=int)
        if e.kind == "gen":
            for f in e.rows.dtype.names:
                H[f][ids] = e.rows[f]
        elif e.kind == "end":
            for f in e.rows.dtype.names:
                if f not in reserved or f in _END_FIELDS:
                    H[f][ids] = e.rows[f]
            H["sim_started"][ids] = H["sim_ended"][ids] = True
        elif e.kind == "cancel":
            H["cancel_requested"][ids] = True
        elif e.kind == "reset":
            H["sim_started"][ids] = H["sim_ended"][ids] = H["sim_failed"][ids] = False
            H["gen_informed"][ids] = False
            for f in ("sim_started_time", "sim_ended_time", "gen_informed_time"):
                H[f][ids] = np.inf
    return H


def load_history(journal_path: Path) -> np.ndarray:
    """The history recorded in a journal file."""
    return replay(read_journal(journal_path))
