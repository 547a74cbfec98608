"""Summaries of a history for humans: counts, best points, best-so-far trajectory, and a
dependency-free SVG plot of the trajectory."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

HISTORY_FILES = ("history.npy", "libE_history.npy")


def load_history(path: str | Path) -> np.ndarray:
    """A history from a ``.npy`` file or a run directory (newest history file in it)."""
    p = Path(path)
    if p.is_dir():
        for name in HISTORY_FILES:
            if (p / name).exists():
                return np.load(p / name, allow_pickle=False)
        found = sorted(p.glob("*.npy"), key=lambda f: f.stat().st_mtime)
        if not found:
            raise FileNotFoundError(f"no history (.npy) in {p}; pass the file itself")
        p = found[-1]
    return np.load(p, allow_pickle=False)


@dataclass
class Summary:
    """What happened in a run, in numbers."""

    generated: int
    started: int
    ended: int
    failed: int
    objective: str | None
    best_value: float | None
    best_row: np.void | None
    by_worker: dict[int, int]

    def text(self) -> str:
        lines = [
            f"points generated {self.generated}, evaluations started {self.started}, "
            f"ended {self.ended}, failed {self.failed}",
        ]
        if self.objective is not None and self.best_row is not None:
            lines.append(
                f"best {self.objective} = {self.best_value:.6g} at sim_id "
                f"{int(self.best_row['sim_id'])}: {_inputs(self.best_row)}"
            )
        if self.by_worker:
            per = ", ".join(f"{w}: {n}" for w, n in sorted(self.by_worker.items()))
            lines.append(f"evaluations per worker: {per}")
        return "\n".join(lines)


def _inputs(row: np.void) -> str:
    skip = {
        "sim_id",
        "gen_worker",
        "gen_started_time",
        "gen_ended_time",
        "sim_worker",
        "sim_started",
        "sim_started_time",
        "sim_ended",
        "sim_ended_time",
        "gen_informed",
        "gen_informed_time",
        "cancel_requested",
        "kill_sent",
        "sim_failed",
    }
    parts = []
    for name in row.dtype.names:
        if name not in skip:
            v = row[name]
            parts.append(f"{name}={np.round(v, 6).tolist() if np.ndim(v) else v}")
    return ", ".join(parts)


def _ok(H: np.ndarray) -> np.ndarray:
    ok = H["sim_ended"].copy()
    if "sim_failed" in H.dtype.names:
        ok &= ~H["sim_failed"]
    return ok


def summarize(H: np.ndarray, objective: str | None = "f") -> Summary:
    """Counts and the best (lowest ``objective``) successful evaluation."""
    ok = _ok(H)
    best_row = best_value = None
    if objective is not None and objective in H.dtype.names and ok.any():
        vals = H[objective][ok]
        finite = np.isfinite(vals)
        if finite.any():
            i = np.nonzero(ok)[0][np.nonzero(finite)[0][np.argmin(vals[finite])]]
            best_row, best_value = H[i], float(H[objective][i])
    else:
        objective = None
    workers, counts = np.unique(H["sim_worker"][H["sim_ended"]], return_counts=True)
    return Summary(
        generated=len(H),
        started=int(H["sim_started"].sum()),
        ended=int(H["sim_ended"].sum()),
        failed=int(H["sim_failed"].sum()) if "sim_failed" in H.dtype.names else 0,
        objective=objective,
        best_value=best_value,
        best_row=best_row,
        by_worker=dict(zip(workers.tolist(), counts.tolist(), strict=True)),
    )


def best_so_far(H: np.ndarray, objective: str = "f") -> tuple[np.ndarray, np.ndarray]:
    """(evaluation number, best value so far), in the order evaluations ended."""
    ok = _ok(H) & np.isfinite(H[objective])
    order = np.argsort(H["sim_ended_time"][ok], kind="stable")
    vals = H[objective][ok][order]
    return np.arange(1, len(vals) + 1), np.minimum.accumulate(vals) if len(vals) else vals


def trajectory_svg(
    H: np.ndarray, objective: str = "f", width: int = 640, height: int = 360
) -> str:
    """An SVG line plot of the best-so-far value against the number of evaluations."""
    x, y = best_so_far(H, objective)
    pad = 50
    if len(y) == 0:
        return (
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}">'
            '<text x="20" y="40">no finished evaluations</text></svg>'
        )
    y_lo, y_hi = float(y.min()), float(y.max())
    span = (y_hi - y_lo) or 1.0
    px = pad + (x - 1) / max(len(x) - 1, 1) * (width - 2 * pad)
    py = height - pad - (y - y_lo) / span * (height - 2 * pad)
    points = " ".join(f"{a:.1f},{b:.1f}" for a, b in zip(px, py, strict=True))
    return "\n".join(
        [
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            'font-family="sans-serif" font-size="12">',
            f'<rect width="{width}" height="{height}" fill="white"/>',
            f'<line x1="{pad}" y1="{height - pad}" x2="{width - pad}" y2="{height - pad}" '
            'stroke="black"/>',
            f'<line x1="{pad}" y1="{pad}" x2="{pad}" y2="{height - pad}" stroke="black"/>',
            f'<polyline fill="none" stroke="#1f77b4" stroke-width="2" points="{points}"/>',
            f'<text x="{width / 2}" y="{height - 15}" text-anchor="middle">evaluations</text>',
            f'<text x="15" y="{height / 2}" transform="rotate(-90 15 {height / 2})" '
            f'text-anchor="middle">best {objective} so far</text>',
            f'<text x="{pad - 5}" y="{pad + 4}" text-anchor="end">{y_hi:.4g}</text>',
            f'<text x="{pad - 5}" y="{height - pad + 4}" text-anchor="end">{y_lo:.4g}</text>',
            f'<text x="{width - pad}" y="{height - pad + 18}" text-anchor="end">{len(x)}</text>',
            "</svg>",
        ]
    )
