"""``libens clean``: make failed evaluations of a stopped run pending again, so a resumed run
evaluates them (unfinished ones are pending on resume anyway). The journal stays
append-only: a ``reset`` event records it."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np

from libens.errors import RunDirError
from libens.store.journal import Event, Journal, read_journal
from libens.store.replay import replay
from libens.store.rundir import RunDir


def cleanable(H: np.ndarray) -> np.ndarray:
    """sim_ids of failed evaluations."""
    return H["sim_id"][H["sim_failed"]]


def clean_run(
    run_dir: str | Path, dry_run: bool = False, ids: Iterable[int] | None = None
) -> list[int]:
    """Reset the cleanable evaluations (only ``ids`` among them, if given); returns them."""
    rundir = RunDir(Path(run_dir))
    if not rundir.exists:
        raise RunDirError(f"{run_dir} is not a libens run directory (no spec.json)")
    H = replay(read_journal(rundir.journal_path))
    chosen = cleanable(H)
    if ids is not None:
        wanted = set(ids)
        unknown = wanted - set(chosen.tolist())
        if unknown:
            raise RunDirError(
                f"sim_ids {sorted(unknown)} did not fail in {run_dir} (unfinished ones are "
                f"evaluated again on resume anyway); failed: {chosen.tolist()}"
            )
        chosen = np.array(sorted(wanted), dtype=np.int64)
    if not dry_run and len(chosen):
        rundir.lock()  # never write while a manager runs
        try:
            journal = Journal(rundir.journal_path)
            rows = np.zeros(len(chosen), dtype=[("sim_id", np.int64)])
            rows["sim_id"] = chosen
            journal.append(Event("reset", {}, rows))
            journal.close()
        finally:
            rundir.close()
    return chosen.tolist()
