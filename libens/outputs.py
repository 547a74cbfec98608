"""Files a run leaves for humans and for libEnsemble tools: history ``.npy``, persis_info
pickle, a stats file (one line per calculation) and the log file."""

from __future__ import annotations

import logging
import pickle
from pathlib import Path
from typing import Any

import numpy as np

from libens.messages import CALC_TYPE_NAMES, Tag

logger = logging.getLogger("libens")

STATS_FILE = "stats.txt"
LOG_FILE = "ensemble.log"


class OutputFiles:
    """Writes the run's output files into ``directory`` (each kind switchable off)."""

    def __init__(
        self,
        directory: Path,
        prefix: str,
        *,
        save_on_completion: bool,
        save_on_abort: bool,
        log_files: bool,
    ) -> None:
        self.dir = Path(directory)
        self.prefix = prefix
        self.save_on_completion = save_on_completion
        self.save_on_abort = save_on_abort
        self.log_files = log_files
        self._stats = None
        self._log_handler: logging.Handler | None = None
        self._periodic: dict[str, Path] = {}
        if log_files or save_on_completion or save_on_abort:
            self.dir.mkdir(parents=True, exist_ok=True)
        if log_files:
            self._stats = open(self.dir / STATS_FILE, "a", buffering=1 << 16)  # noqa: SIM115
            self._log_handler = logging.FileHandler(self.dir / LOG_FILE)
            self._log_handler.setFormatter(
                logging.Formatter("%(asctime)s %(name)s %(levelname)s: %(message)s")
            )
            logger.addHandler(self._log_handler)
            if logger.level == logging.NOTSET or logger.level > logging.INFO:
                logger.setLevel(logging.INFO)

    def stats(
        self,
        worker: int,
        tag: int,
        sim_ids: Any,
        start: float,
        end: float,
        status: int,
        call_times: np.ndarray | None = None,
    ) -> None:
        """One line per finished calculation; a chunk of points gives one line per point."""
        if self._stats is None:
            return
        kind = CALC_TYPE_NAMES.get(tag, "calc")
        name = Tag(status).name if status in Tag._value2member_map_ else str(status)
        if sim_ids is None or not len(sim_ids) or tag != Tag.EVAL_SIM:
            ids = ",".join(map(str, sim_ids)) if sim_ids is not None and len(sim_ids) else "-"
            lines = [(ids, start, end)]
        elif call_times is not None:
            lines = [
                (str(i), t0, t1)
                for i, (t0, t1) in zip(sim_ids.tolist(), call_times.tolist(), strict=True)
            ]
        else:
            lines = [(",".join(map(str, sim_ids.tolist())), start, end)]
        self._stats.write(
            "".join(
                f"worker {worker} {kind} sim_id {ids} start {t0:.6f} end {t1:.6f} "
                f"time {t1 - t0:.6f} status {name}\n"
                for ids, t0, t1 in lines
            )
        )

    def save_periodic(self, kind: str, count: int, H: np.ndarray) -> None:
        """Save the history after every k sims/gens, replacing the previous periodic save."""
        path = self.dir / f"{self.prefix}_after_{kind}_{count}.npy"
        np.save(path, H)
        old = self._periodic.get(kind)
        if old is not None and old != path and old.exists():
            old.unlink()
        self._periodic[kind] = path

    def save_final(self, H: np.ndarray, persis_info: dict, aborted: bool) -> Path | None:
        """Save history and persis_info at the end (or at an abort); returns the .npy path."""
        if not (self.save_on_abort if aborted else self.save_on_completion):
            return None
        suffix = "_at_abort" if aborted else ""
        path = self.dir / f"{self.prefix}{suffix}.npy"
        np.save(path, H)
        try:
            with open(self.dir / f"{self.prefix}_persis_info{suffix}.pickle", "wb") as f:
                pickle.dump(persis_info, f)
        except (pickle.PicklingError, TypeError, AttributeError) as e:
            logger.warning("persis_info could not be pickled (%s); history saved to %s", e, path)
        return path

    def close(self) -> None:
        if self._stats is not None:
            self._stats.close()
            self._stats = None
        if self._log_handler is not None:
            logger.removeHandler(self._log_handler)
            self._log_handler.close()
            self._log_handler = None
