"""Sampling generators (gest-api): uniform random and Latin hypercube."""

from __future__ import annotations

from typing import Any

import numpy as np

from libens.gens.base import BuiltinGenerator


class UniformSample(BuiltinGenerator):
    """Independent uniform points over the VOCS (discrete variables: uniform over values).
    Ignores results; objectives and constraints may be anything."""

    supports_discrete = True
    supports_constraints = True

    def __init__(self, vocs: Any, seed: int | None = None) -> None:
        super().__init__(vocs, seed)
        # per variable: (name, values of a discrete one or None, low bound, width)
        self._draws = [
            (n, None, float(v.domain[0]), float(v.domain[1]) - float(v.domain[0]))
            if hasattr(v, "domain")
            else (n, sorted(v.values, key=str), 0.0, 0.0)
            for n, v in vocs.variables.items()
        ]
        self._continuous = sum(values is None for _, values, _, _ in self._draws)

    def suggest(self, num_points: int | None) -> list[dict]:
        n = num_points or 1
        # every continuous draw of the batch in one call (the same stream as one per value)
        u = iter(self.rng.random(n * self._continuous).tolist())
        out = []
        for _ in range(n):
            p = {
                name: low + width * next(u) if values is None else self._pick(values)
                for name, values, low, width in self._draws
            }
            if self.constants:
                p.update(self.constants)
            out.append(p)
        return out

    def _pick(self, values: list[Any]) -> Any:
        v = values[int(self.rng.integers(len(values)))]
        return v.item() if isinstance(v, np.generic) else v

    ingest = BuiltinGenerator.learn_nothing


class LatinHypercube(BuiltinGenerator):
    """Each ``suggest(n)`` returns a Latin hypercube of n points: every variable's range is
    cut into n strata and each stratum holds exactly one point. Continuous variables only."""

    supports_constraints = True

    def suggest(self, num_points: int | None) -> list[dict]:
        n = num_points or 1
        d = len(self.names)
        strata = np.array([self.rng.permutation(n) for _ in range(d)]).T
        unit = (strata + self.rng.uniform(size=(n, d))) / n
        return [self.point(x) for x in self.lb + unit * (self.ub - self.lb)]

    ingest = BuiltinGenerator.learn_nothing
