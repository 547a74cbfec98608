"""CSV summaries for humans: every evaluation, the best ones, the best-so-far trajectory."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from libens.report import best_so_far

SKIP = ("gen_informed_time", "kill_sent")


def _columns(H: np.ndarray) -> list[str]:
    return [n for n in H.dtype.names if n not in SKIP]


def _write(path: Path, H: np.ndarray, rows: np.ndarray) -> None:
    cols = _columns(H)
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(cols)
        w.writerows(zip(*(rows[c].tolist() for c in cols), strict=True))


def write_all(directory: Path, H: np.ndarray, objective: str | None, best_n: int = 10) -> None:
    """summary/full.csv, best.csv (lowest ``objective``) and trajectory.csv."""
    directory.mkdir(parents=True, exist_ok=True)
    _write(directory / "full.csv", H, H)
    if objective is None or objective not in H.dtype.names:
        return
    ok = H["sim_ended"] & ~H["sim_failed"] & np.isfinite(H[objective])
    order = np.argsort(H[objective][ok], kind="stable")[:best_n]
    _write(directory / "best.csv", H, H[ok][order])
    n, best = best_so_far(H, objective)
    with open(directory / "trajectory.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["evaluations", f"best_{objective}"])
        w.writerows(zip(n.tolist(), best.tolist(), strict=True))
