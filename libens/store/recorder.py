"""RunStore: what the manager calls to make a run durable. Events are collected while the
manager handles a batch of messages and written in one append before any result is handed
to a generator; checkpoints and summaries are written at the end (or on abort).

Journaled: points generated (whole rows), evaluations finished (outputs, worker, start and
end times, failure and its error text) and cancels. Starts and hand-overs to the generator
are not: on resume every unfinished point is pending again, and the generator's own
checkpoint records what it has ingested.
"""

from __future__ import annotations

import logging
import os
import pickle
from pathlib import Path

import numpy as np

from libens.history import subarray
from libens.store import summary
from libens.store.journal import Event, Journal, SyncPolicy, read_journal
from libens.store.replay import replay
from libens.store.rundir import GENERATOR_FILE, HISTORY_FILE, PERSIS_INFO_FILE, RunDir

logger = logging.getLogger("libens.store")

_IDS = np.dtype([("sim_id", np.int64)])


def _ids(ids: np.ndarray) -> np.ndarray:
    out = np.empty(len(ids), dtype=_IDS)
    out["sim_id"] = ids
    return out


class RunStore:
    """The manager's handle on a run directory (journal, checkpoints, summaries)."""

    def __init__(self, rundir: RunDir, sync: SyncPolicy = "os") -> None:
        self.rundir = rundir
        self.journal = Journal(rundir.journal_path, sync)
        self.pending: list[Event] = []

    @classmethod
    def open(
        cls, path: Path, spec: dict, overwrite: bool = False, sync: SyncPolicy = "os"
    ) -> tuple[RunStore, np.ndarray | None]:
        """Open (creating or resuming) a run directory; returns the store and, when resuming,
        the history recorded so far."""
        rundir = RunDir(path)
        resuming = rundir.open(spec, overwrite)
        H = replay(read_journal(rundir.journal_path)) if resuming else None
        return cls(rundir, sync), H

    @property
    def generator_path(self) -> Path:
        return self.rundir.path / GENERATOR_FILE

    def generated(self, H: np.ndarray, ids: np.ndarray) -> None:
        self.pending.append(Event("gen", {}, H[ids]))

    def ended(
        self, H: np.ndarray, ids: np.ndarray, fields: list[str], error: str | None = None
    ) -> None:
        names = [
            "sim_id",
            "sim_worker",
            "sim_started_time",
            "sim_ended_time",
            "sim_failed",
            *fields,
        ]
        info = {"error": error} if error else {}
        self.pending.append(Event("end", info, subarray(H, names, ids)))

    def cancelled(self, ids: np.ndarray) -> None:
        self.pending.append(Event("cancel", {}, _ids(ids)))

    def flush(self) -> None:
        """Write what was collected (one append); called before results reach a generator."""
        if self.pending:
            self.journal.append(*self.pending)
            self.pending.clear()

    def checkpoint(self, H: np.ndarray, persis_info: dict) -> Path:
        """history.npy (atomically) and persis_info; the journal stays the source of truth."""
        self.flush()
        path = self.rundir.path / HISTORY_FILE
        tmp = path.with_name("history.tmp.npy")
        np.save(tmp, H)
        os.replace(tmp, path)
        try:
            with open(self.rundir.path / PERSIS_INFO_FILE, "wb") as f:
                pickle.dump(persis_info, f)
        except (pickle.PicklingError, TypeError, AttributeError) as e:
            logger.warning("persis_info could not be pickled: %s", e)
        return path

    def write_summaries(self, H: np.ndarray, objective: str | None) -> None:
        summary.write_all(self.rundir.path / "summary", H, objective)

    def close(self) -> None:
        self.flush()
        self.journal.close()
        self.rundir.close()
