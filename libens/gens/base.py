"""Shared ground of the built-in gest-api generators: capability flags checked in one place,
numpy conversions, and id bookkeeping."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from gest_api import Generator

from libens.errors import SpecError


class BuiltinGenerator(Generator):
    """A gest-api generator that declares what it supports; ``_validate_vocs`` enforces it."""

    quick_suggest: ClassVar[bool] = True  # runs inside the manager's loop (see the driver)
    supports_discrete: ClassVar[bool] = False
    supports_constraints: ClassVar[bool] = False
    needs_objective: ClassVar[bool] = False
    max_objectives: ClassVar[int | None] = None

    def __init__(self, vocs: Any, seed: int | None = None) -> None:
        self.vocs = vocs
        self.rng = np.random.default_rng(seed)
        super().__init__(vocs)
        self.names = list(vocs.variables)
        self.constants = {k: _py(c.value) for k, c in vocs.constants.items()}
        if not self.supports_discrete:
            bounds = np.array([vocs.variables[n].domain for n in self.names], dtype=float)
            self.lb, self.ub = bounds[:, 0], bounds[:, 1]

    def learn_nothing(self, results: list[dict]) -> None:
        """The ``ingest`` of a generator whose points never depend on results (the
        samplers). libens sees it (unless a subclass overrides ``ingest``, see
        ``learns_nothing``): the history's rows are not read for it, nor made into dicts
        only to be dropped."""

    def _validate_vocs(self, vocs: Any) -> None:
        who = type(self).__name__
        if not vocs.variables:
            raise SpecError(f"{who} needs at least one VOCS variable")
        for name, var in vocs.variables.items():
            if not hasattr(var, "domain") and not self.supports_discrete:
                raise SpecError(
                    f"{who} supports only continuous variables; {name!r} is "
                    "discrete (use UniformSample, or make it continuous)"
                )
            if hasattr(var, "domain") and not np.all(np.isfinite(var.domain)):
                raise SpecError(f"{who} needs finite bounds; {name!r} has {var.domain}")
        if vocs.constraints and not self.supports_constraints:
            raise SpecError(
                f"{who} does not support constraints "
                f"({', '.join(vocs.constraints)}); remove them from the VOCS"
            )
        n_obj = len(vocs.objectives)
        if self.needs_objective and n_obj == 0:
            raise SpecError(f"{who} needs an objective in the VOCS")
        if self.max_objectives is not None and n_obj > self.max_objectives:
            raise SpecError(
                f"{who} supports at most {self.max_objectives} objective(s); the VOCS has {n_obj}"
            )
        for name, obj in vocs.objectives.items():
            kind = type(obj).__name__
            if self.needs_objective and kind not in ("MinimizeObjective", "MaximizeObjective"):
                raise SpecError(
                    f"{who} can only minimize or maximize; objective {name!r} is {kind}"
                )

    def point(self, x: np.ndarray) -> dict[str, Any]:
        """A suggestion dict: Python floats for the variables, plus the constants."""
        p = {n: float(v) for n, v in zip(self.names, x, strict=True)}
        p.update(self.constants)
        return p

    def objective(self, result: dict) -> float:
        """The single objective as a number to minimize (NaN/missing -> +inf)."""
        ((name, obj),) = self.vocs.objectives.items()
        v = result.get(name)
        if v is None or not np.isfinite(v):
            return np.inf
        return -float(v) if type(obj).__name__ == "MaximizeObjective" else float(v)

    def finalize(self) -> None:
        """Nothing to release."""


def learns_nothing(generator: Any) -> bool:
    """Whether ``generator``'s ``ingest`` is ``BuiltinGenerator.learn_nothing`` (a subclass
    that overrides ``ingest`` learns): such a generator is given no result fields, and its
    results are only counted."""
    return getattr(type(generator), "ingest", None) is BuiltinGenerator.learn_nothing


def _py(v: Any) -> Any:
    return v.item() if isinstance(v, np.generic) else v
