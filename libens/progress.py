"""A progress line on stderr while a run goes (``LibeSpecs.progress_interval``): how many
evaluations ended, how fast, how many failed, and the best value so far. The best is kept
as results arrive (O(batch) per result), never by a scan of the history."""

from __future__ import annotations

import math
import sys
import time
from typing import TextIO

import numpy as np


class Progress:
    """Counts and the best value of a run, written every ``interval`` seconds."""

    def __init__(
        self,
        interval: float,
        total: int | None,
        objective: str | None,
        offset: int = 0,
        out: TextIO | None = None,
    ) -> None:
        self.interval = interval
        self.total = total
        self.objective = objective
        self.offset = offset  # evaluations done before this run (H0, a resumed run)
        self.out = out if out is not None else sys.stderr
        self.start = time.time()
        self.next = self.start + interval
        self.best: float = math.inf
        self.best_id = -1

    @classmethod
    def of(
        cls, interval: float | None, total: int | None, objective: str | None, done_before: int
    ) -> Progress | None:
        """A keeper for a run whose ``LibeSpecs.progress_interval`` is ``interval`` (None:
        no progress line)."""
        return None if interval is None else cls(interval, total, objective, done_before)

    def ended(self, H: np.ndarray, ids: np.ndarray) -> None:
        """Results for points ``ids`` were recorded: keep the lowest objective."""
        if self.objective is None or not len(ids):
            return
        ok = ids[~H["sim_failed"][ids]]
        values = H[self.objective][ok]
        finite = np.isfinite(values)
        if finite.any():
            i = int(np.argmin(np.where(finite, values, np.inf)))
            if values[i] < self.best:
                self.best, self.best_id = float(values[i]), int(ok[i])

    def tick(self, ended: int, failed: int, final: bool = False) -> None:
        """Write the line if ``interval`` has passed since the last one (or ``final``)."""
        now = time.time()
        if now < self.next and not final:
            return
        self.next = now + self.interval
        self.out.write(self.line(ended, failed, now - self.start, final) + "\n")
        self.out.flush()

    def line(self, ended: int, failed: int, elapsed: float, final: bool = False) -> str:
        done = ended - self.offset
        of = f" of {self.total - self.offset:,}" if self.total is not None else ""
        rate = done / elapsed if elapsed > 0 else 0.0
        parts = [f"libens: {done:,}{of} evaluated", f"{rate:,.0f}/s", f"{failed:,} failed"]
        if self.best_id >= 0:
            parts.append(f"best {self.objective} = {self.best:.6g} (sim_id {self.best_id})")
        parts.append(f"{elapsed:.1f} s" + (", done" if final else ""))
        return ", ".join(parts)
