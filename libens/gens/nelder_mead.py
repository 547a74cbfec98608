"""Nelder-Mead as a gest-api generator: a local optimizer that asks for one point at a time
(the initial simplex and shrink steps may ask for several at once)."""

from __future__ import annotations

from typing import Any

import numpy as np

from libens.gens.base import BuiltinGenerator


class NelderMead(BuiltinGenerator):
    """Downhill simplex on one objective, in the box given by the VOCS bounds.

    ``x0`` (dict or sequence; default: the box centre) and ``initial_step`` (fraction of each
    range) set the first simplex. Continuous variables only; no constraints. Points carry an
    ``_id``; results for them may arrive in any order, other (foreign) results are ignored.
    The state is plain data, so the generator pickles (for resumed runs).
    """

    returns_id = True
    needs_objective = True
    max_objectives = 1

    def __init__(
        self,
        vocs: Any,
        x0: Any = None,
        initial_step: float = 0.1,
        seed: int | None = None,
        tol: float = 1e-10,
    ) -> None:
        super().__init__(vocs, seed)
        span = self.ub - self.lb
        if x0 is None:
            start = (self.lb + self.ub) / 2
        elif isinstance(x0, dict):
            start = np.array([float(x0[n]) for n in self.names])
        else:
            start = np.asarray(x0, dtype=float)
        self.step = initial_step * span
        self.tol = tol
        self.X = self._simplex(start)
        self.F: list[float] = [np.inf] * len(self.X)
        self.waiting: dict[int, str] = {}
        self.next_id = 0
        self.c = self.xr = start
        self.fr = np.inf
        self._ask("init", {f"v{i}": x for i, x in enumerate(self.X)})

    def _clip(self, x: np.ndarray) -> np.ndarray:
        return np.clip(x, self.lb, self.ub)

    def _simplex(self, start: np.ndarray) -> list[np.ndarray]:
        return [start] + [self._clip(start + self.step * e) for e in np.eye(len(start))]

    def _ask(self, phase: str, points: dict[str, np.ndarray]) -> None:
        self.phase = phase
        self.asked = points
        self.todo = list(points)
        self.values: dict[str, float] = {}

    def suggest(self, num_points: int | None) -> list[dict]:
        n = len(self.todo) if num_points is None else min(num_points, len(self.todo))
        out = []
        for tag in self.todo[:n]:
            p = self.point(self.asked[tag])
            p["_id"] = self.next_id
            self.waiting[self.next_id] = tag
            self.next_id += 1
            out.append(p)
        del self.todo[:n]
        return out

    def ingest(self, results: list[dict]) -> None:
        for r in results:
            if "_id" not in r:
                continue  # a foreign point: the simplex only follows its own
            if r["_id"] not in self.waiting:
                raise ValueError(f"NelderMead never suggested _id {r['_id']}")
            self.values[self.waiting.pop(r["_id"])] = self.objective(r)
        if not self.waiting and not self.todo:
            self._advance()

    def _advance(self) -> None:
        v, c = self.values, self.c
        if self.phase in ("init", "shrink"):
            for tag, f in v.items():
                self.F[int(tag[1:])] = f
            self._iterate()
        elif self.phase == "reflect":
            self.xr, self.fr = self.asked["r"], v["r"]
            if self.fr < self.F[0]:
                self._ask("expand", {"e": self._clip(c + 2 * (self.xr - c))})
            elif self.fr < self.F[-2]:
                self._replace(self.xr, self.fr)
            elif self.fr < self.F[-1]:
                self._ask("outside", {"c": self._clip(c + 0.5 * (self.xr - c))})
            else:
                self._ask("inside", {"c": self._clip(c + 0.5 * (self.X[-1] - c))})
        elif self.phase == "expand":
            if v["e"] < self.fr:
                self._replace(self.asked["e"], v["e"])
            else:
                self._replace(self.xr, self.fr)
        elif (self.phase == "outside" and v["c"] <= self.fr) or (
            self.phase == "inside" and v["c"] < self.F[-1]
        ):
            self._replace(self.asked["c"], v["c"])
        else:
            best = self.X[0]
            self.X = [best] + [self._clip(best + 0.5 * (x - best)) for x in self.X[1:]]
            self._ask("shrink", {f"v{i}": self.X[i] for i in range(1, len(self.X))})

    def _replace(self, x: np.ndarray, f: float) -> None:
        self.X[-1], self.F[-1] = x, f
        self._iterate()

    def _iterate(self) -> None:
        order = np.argsort(self.F, kind="stable")
        self.X = [self.X[i] for i in order]
        self.F = [self.F[i] for i in order]
        spread = max(float(np.max(np.abs(x - self.X[0]))) for x in self.X[1:])
        if spread <= self.tol * float(np.max(self.ub - self.lb)):
            self.X = self._simplex(self.X[0])  # collapsed: restart around the best point
            self.F = [self.F[0]] + [np.inf] * (len(self.X) - 1)
            self._ask("init", {f"v{i}": self.X[i] for i in range(1, len(self.X))})
            return
        self.c = np.mean(self.X[:-1], axis=0)
        self._ask("reflect", {"r": self._clip(self.c + (self.c - self.X[-1]))})
