"""Built-in gest-api generators: the conformance suite, what each refuses, and that the
optimizers beat random search."""

from __future__ import annotations

import numpy as np
import pytest

from libens import VOCS, SpecError
from libens.gens import AsyncCMAES, LatinHypercube, NelderMead, UniformSample
from libens.sims import rosenbrock_func, six_hump_camel_func
from libens.testing.generators import check_generator, run_optimizer

MIXED = VOCS(
    variables={"x": [-1.0, 2.0], "k": {1, 2, 3}, "s": {"a", "b"}},
    objectives={"f": "MINIMIZE"},
    constants={"c": 7},
)
BOX = VOCS(
    variables={"x0": [-2.0, 2.0], "x1": [-1.0, 3.0]},
    objectives={"f": "MAXIMIZE"},
    constants={"c": 1.5},
)
ROSEN = VOCS(variables={"x0": [-2.0, 2.0], "x1": [-2.0, 2.0]}, objectives={"f": "MINIMIZE"})
CAMEL = VOCS(variables={"x0": [-3.0, 3.0], "x1": [-2.0, 2.0]}, objectives={"f": "MINIMIZE"})


@pytest.mark.parametrize(
    "cls, vocs",
    [
        (UniformSample, MIXED),
        (UniformSample, BOX),
        (LatinHypercube, BOX),
        (NelderMead, BOX),
        (AsyncCMAES, BOX),
    ],
)
def test_conformance(cls, vocs):
    check_generator(lambda v: cls(v, seed=1), vocs)


def test_latin_hypercube_puts_one_point_in_each_stratum():
    pts = LatinHypercube(BOX, seed=0).suggest(10)
    for name, (lo, hi) in (("x0", (-2, 2)), ("x1", (-1, 3))):
        strata = np.floor((np.array([p[name] for p in pts]) - lo) / (hi - lo) * 10)
        assert sorted(strata.tolist()) == list(range(10))


@pytest.mark.parametrize("cls", [LatinHypercube, NelderMead, AsyncCMAES])
def test_continuous_only_generators_reject_discrete_variables(cls):
    with pytest.raises(
        SpecError, match=f"{cls.__name__} supports only continuous variables; 'k' is discrete"
    ):
        cls(MIXED)


@pytest.mark.parametrize("cls", [NelderMead, AsyncCMAES])
def test_optimizers_refuse_what_they_cannot_do(cls):
    two = VOCS(variables={"x": [0, 1]}, objectives={"f": "MINIMIZE", "g": "MAXIMIZE"})
    with pytest.raises(SpecError, match="at most 1 objective"):
        cls(two)
    cons = VOCS(
        variables={"x": [0, 1]}, objectives={"f": "MINIMIZE"}, constraints={"g": ["LESS_THAN", 0]}
    )
    with pytest.raises(SpecError, match="does not support constraints"):
        cls(cons)


def test_nelder_mead_minimizes_rosenbrock_one_point_at_a_time():
    gen = NelderMead(ROSEN, x0=[-1.2, 1.0])
    assert len(gen.suggest(5)) == 3  # the initial simplex
    best = run_optimizer(NelderMead(ROSEN, x0=[-1.2, 1.0]), rosenbrock_func, 400, in_flight=1)
    assert best < 1e-8


@pytest.mark.parametrize(
    "func, vocs, fmin",
    [(rosenbrock_func, ROSEN, 0.0), (six_hump_camel_func, CAMEL, -1.0316284535)],
)
def test_async_cmaes_beats_random_search(func, vocs, fmin):
    seeds = range(5)
    cma = np.median([run_optimizer(AsyncCMAES(vocs, seed=s), func, 400, seed=s) for s in seeds])
    rnd = np.median([run_optimizer(UniformSample(vocs, seed=s), func, 400, seed=s) for s in seeds])
    assert cma - fmin < (rnd - fmin) / 10
    if fmin < 0:
        assert cma - fmin < 1e-6
