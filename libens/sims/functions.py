"""Reference test functions as libEnsemble-style sim_f's (field ``x`` in, ``f`` out)."""

from __future__ import annotations

from typing import Any

import numpy as np


def six_hump_camel_func(x: np.ndarray) -> float:
    """Six-hump camel; global minimum -1.0316 at (0.0898, -0.7126) and (-0.0898, 0.7126)."""
    x1, x2 = float(x[0]), float(x[1])
    return (4 - 2.1 * x1**2 + x1**4 / 3) * x1**2 + x1 * x2 + (-4 + 4 * x2**2) * x2**2


def rosenbrock_func(x: np.ndarray) -> float:
    """Rosenbrock in any dimension; global minimum 0 at (1, ..., 1)."""
    x = np.asarray(x, dtype=float)
    return float(np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2))


def branin_func(x: np.ndarray) -> float:
    """Branin; global minimum 0.397887 at (-pi, 12.275), (pi, 2.275), (9.42478, 2.475)."""
    x1, x2 = float(x[0]), float(x[1])
    a, b, c, r, s, t = 1.0, 5.1 / (4 * np.pi**2), 5 / np.pi, 6.0, 10.0, 1 / (8 * np.pi)
    return a * (x2 - b * x1**2 + c * x1 - r) ** 2 + s * (1 - t) * np.cos(x1) + s


def _apply(func, H: np.ndarray, persis_info: dict, sim_specs: Any):
    H_o = np.zeros(len(H), dtype=sim_specs["out"])
    for i, x in enumerate(H["x"]):
        H_o["f"][i] = func(x)
    return H_o, persis_info


def six_hump_camel(H: np.ndarray, persis_info: dict, sim_specs: Any, libE_info: Any = None):
    """Evaluate six-hump camel on every row's ``x`` into ``f``."""
    return _apply(six_hump_camel_func, H, persis_info, sim_specs)


def rosenbrock(H: np.ndarray, persis_info: dict, sim_specs: Any, libE_info: Any = None):
    """Evaluate Rosenbrock on every row's ``x`` into ``f``."""
    return _apply(rosenbrock_func, H, persis_info, sim_specs)


def branin(H: np.ndarray, persis_info: dict, sim_specs: Any, libE_info: Any = None):
    """Evaluate Branin on every row's ``x`` into ``f``."""
    return _apply(branin_func, H, persis_info, sim_specs)


def norm_squared(H: np.ndarray, persis_info: dict, sim_specs: Any, libE_info: Any = None):
    """``f = sum(x**2)`` for every row, vectorized: the trivial simulation of the benchmarks."""
    H_o = np.zeros(len(H), dtype=sim_specs["out"])
    H_o["f"] = np.sum(np.reshape(H["x"], (len(H), -1)) ** 2, axis=1)
    return H_o, persis_info
