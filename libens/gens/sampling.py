"""Sampling generators with libEnsemble's signatures (``gen_specs["user"]``: lb, ub, sizes)."""

from __future__ import annotations

from typing import Any

import numpy as np

from libens.errors import SpecError
from libens.gens.persistent import STOP_TAGS, PersistentSupport
from libens.messages import EVAL_GEN_TAG, FINISHED_PERSISTENT_GEN_TAG


def _bounds(user: dict) -> tuple[np.ndarray, np.ndarray]:
    lb, ub = np.asarray(user["lb"], dtype=float), np.asarray(user["ub"], dtype=float)
    if not (np.isfinite(lb).all() and np.isfinite(ub).all()):
        raise SpecError(f"gen_specs.user lb {lb} and ub {ub} must be finite numbers")
    return lb, ub


def uniform(rng: np.random.Generator, low: Any, high: Any, size: Any = None) -> Any:
    """``rng.uniform(low, high, size)``: the same numbers, without NumPy's checks of the
    bounds on every call (7 of the 10 us a persistent sampler spends per batch)."""
    return low + (high - low) * rng.random(size)


def _rng(persis_info: dict) -> np.random.Generator:
    if "rand_stream" not in persis_info:
        persis_info["rand_stream"] = np.random.default_rng()
    return persis_info["rand_stream"]


def uniform_random_sample(H: Any, persis_info: dict, gen_specs: Any, libE_info: Any = None):
    """``gen_batch_size`` points drawn uniformly in [lb, ub] into field ``x``."""
    user = gen_specs["user"]
    lb, ub = _bounds(user)
    b = user.get("gen_batch_size", 1)
    H_o = np.zeros(b, dtype=gen_specs["out"])
    H_o["x"] = uniform(_rng(persis_info), lb, ub, (b, len(lb)))
    return H_o, persis_info


def latin_hypercube_sample(H: Any, persis_info: dict, gen_specs: Any, libE_info: Any = None):
    """``gen_batch_size`` points of a Latin hypercube over [lb, ub] into field ``x``."""
    user = gen_specs["user"]
    lb, ub = _bounds(user)
    b = user.get("gen_batch_size", 1)
    rng = _rng(persis_info)
    strata = np.array([rng.permutation(b) for _ in range(len(lb))]).T
    unit = (strata + rng.uniform(size=(b, len(lb)))) / b
    H_o = np.zeros(b, dtype=gen_specs["out"])
    H_o["x"] = lb + unit * (ub - lb)
    return H_o, persis_info


def persistent_uniform(H: Any, persis_info: dict, gen_specs: Any, libE_info: dict):
    """A persistent uniform sampler: sends ``initial_batch_size`` points, then as many new
    points as results come back, until told to stop."""
    user = gen_specs["user"]
    lb, ub = _bounds(user)
    b = (
        user.get("initial_batch_size")
        or gen_specs.get("initial_batch_size")
        or user.get("gen_batch_size")
        or gen_specs.get("batch_size")
        or 1
    )
    rng = _rng(persis_info)
    ps = PersistentSupport(libE_info, EVAL_GEN_TAG)
    out = np.dtype(gen_specs["out"])  # once: building a dtype costs more than the draws
    fixed_size = gen_specs.get("batch_size")
    tag = None
    while tag not in STOP_TAGS:
        H_o = np.zeros(b, dtype=out)
        H_o["x"] = uniform(rng, lb, ub, (b, len(lb)))
        tag, _, calc_in = ps.send_recv(H_o)
        if calc_in is not None and len(calc_in):
            b = fixed_size or len(calc_in)
    return None, persis_info, FINISHED_PERSISTENT_GEN_TAG
