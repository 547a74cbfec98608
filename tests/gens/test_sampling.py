"""The libEnsemble-style samplers (libens.gens.sampling)."""

from __future__ import annotations

import numpy as np
import pytest

from libens import SpecError
from libens.gens.sampling import uniform, uniform_random_sample


def test_uniform_draws_the_numbers_rng_uniform_draws():
    lb, ub = np.array([-3.0, -2.0]), np.array([3.0, 2.0])
    mine, numpys = np.random.default_rng(7), np.random.default_rng(7)
    assert np.array_equal(uniform(mine, lb, ub, (5, 2)), numpys.uniform(lb, ub, (5, 2)))
    assert uniform(mine, -1.0, 4.0) == numpys.uniform(-1.0, 4.0)


def test_bounds_that_are_not_finite_are_refused_with_the_field_named():
    gen_specs = {"out": [("x", float, (2,))], "user": {"lb": [0, 0], "ub": [1, np.inf]}}
    with pytest.raises(SpecError, match="gen_specs.user lb .* and ub .* must be finite"):
        uniform_random_sample(None, {}, gen_specs)
