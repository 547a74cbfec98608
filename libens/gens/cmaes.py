"""An asynchronous CMA-ES as a gest-api generator: a batch-parallel optimizer that accepts
results in any order and any number, for continuous problems of modest dimension."""

from __future__ import annotations

from typing import Any

import numpy as np

from libens.gens.base import BuiltinGenerator


class AsyncCMAES(BuiltinGenerator):
    """Covariance matrix adaptation evolution strategy, made asynchronous.

    Suggestions are drawn from the current search distribution whenever asked, as many as
    asked. Results come back in any order; every ``popsize`` new results form a generation
    that updates the mean, step size and covariance (each point is re-expressed relative to
    the current distribution, so late results still count). When the step size collapses the
    search restarts from a random mean. Works in the unit box of the VOCS bounds, reflecting
    at the edges. One objective (minimize or maximize), continuous variables, no constraints.
    ``best`` holds the best result seen.
    """

    returns_id = True
    needs_objective = True
    max_objectives = 1

    def __init__(
        self,
        vocs: Any,
        seed: int | None = None,
        sigma0: float = 0.3,
        popsize: int | None = None,
        min_sigma: float = 1e-9,
    ) -> None:
        super().__init__(vocs, seed)
        n = len(self.names)
        self.n = n
        self.lam = popsize or 4 + int(3 * np.log(n))
        mu = self.lam // 2
        w = np.log(mu + 0.5) - np.log(np.arange(1, mu + 1))
        self.w = w / w.sum()
        self.mueff = 1 / np.sum(self.w**2)
        self.cc = (4 + self.mueff / n) / (n + 4 + 2 * self.mueff / n)
        self.cs = (self.mueff + 2) / (n + self.mueff + 5)
        self.c1 = 2 / ((n + 1.3) ** 2 + self.mueff)
        self.cmu = min(
            1 - self.c1, 2 * (self.mueff - 2 + 1 / self.mueff) / ((n + 2) ** 2 + self.mueff)
        )
        self.damps = 1 + 2 * max(0.0, np.sqrt((self.mueff - 1) / (n + 1)) - 1) + self.cs
        self.chin = np.sqrt(n) * (1 - 1 / (4 * n) + 1 / (21 * n**2))
        self.sigma0, self.min_sigma = sigma0, min_sigma
        self.best: tuple[float, dict | None] = (np.inf, None)
        self.pending: dict[int, np.ndarray] = {}
        self.next_id = 0
        self._restart()

    def _restart(self) -> None:
        self.mean = self.rng.uniform(0.2, 0.8, self.n)
        self.sigma = self.sigma0
        self.C = np.eye(self.n)
        self.pc = np.zeros(self.n)
        self.ps = np.zeros(self.n)
        self.generation = 0
        self.done: list[tuple[float, np.ndarray]] = []

    def suggest(self, num_points: int | None) -> list[dict]:
        vals, vecs = np.linalg.eigh(self.C)
        A = vecs * np.sqrt(np.maximum(vals, 1e-20))
        out = []
        for _ in range(num_points or self.lam):
            u = self.mean + self.sigma * A @ self.rng.standard_normal(self.n)
            u = 1 - np.abs(1 - np.abs(u) % 2)  # reflect into [0, 1]
            p = self.point(self.lb + u * (self.ub - self.lb))
            p["_id"] = self.next_id
            self.pending[self.next_id] = u
            self.next_id += 1
            out.append(p)
        return out

    def ingest(self, results: list[dict]) -> None:
        for r in results:
            if "_id" in r:
                if r["_id"] not in self.pending:
                    raise ValueError(f"AsyncCMAES never suggested _id {r['_id']}")
                u = self.pending.pop(r["_id"])
            else:
                x = np.array([float(r[n]) for n in self.names])
                u = (x - self.lb) / (self.ub - self.lb)
            f = self.objective(r)
            if f < self.best[0]:
                self.best = (f, dict(r))
            if np.isfinite(f):
                self.done.append((f, u))
            if len(self.done) >= self.lam:
                self._update()

    def _update(self) -> None:
        self.done.sort(key=lambda t: t[0])
        mu = len(self.w)
        y = np.array([(u - self.mean) / self.sigma for _, u in self.done[:mu]])
        self.done = []
        self.generation += 1
        step = self.w @ y
        self.mean = self.mean + self.sigma * step
        vals, vecs = np.linalg.eigh(self.C)
        inv_sqrt = vecs @ np.diag(1 / np.sqrt(np.maximum(vals, 1e-20))) @ vecs.T
        self.ps = (1 - self.cs) * self.ps + np.sqrt(self.cs * (2 - self.cs) * self.mueff) * (
            inv_sqrt @ step
        )
        norm = np.linalg.norm(self.ps) / np.sqrt(1 - (1 - self.cs) ** (2 * self.generation))
        hsig = norm / self.chin < 1.4 + 2 / (self.n + 1)
        self.pc = (1 - self.cc) * self.pc + hsig * np.sqrt(
            self.cc * (2 - self.cc) * self.mueff
        ) * step
        rank_mu = (y.T * self.w) @ y
        self.C = (
            (1 - self.c1 - self.cmu) * self.C
            + self.c1
            * (np.outer(self.pc, self.pc) + (1 - hsig) * self.cc * (2 - self.cc) * self.C)
            + self.cmu * rank_mu
        )
        self.sigma *= np.exp((self.cs / self.damps) * (np.linalg.norm(self.ps) / self.chin - 1))
        if self.sigma * np.sqrt(np.max(np.diag(self.C))) < self.min_sigma or self.sigma > 1e3:
            self._restart()
