"""Reference simulators: test functions as libEnsemble-style sim_f's."""

from libens.sims.functions import (
    branin,
    branin_func,
    norm_squared,
    rosenbrock,
    rosenbrock_func,
    six_hump_camel,
    six_hump_camel_func,
)

__all__ = [
    "branin",
    "branin_func",
    "norm_squared",
    "rosenbrock",
    "rosenbrock_func",
    "six_hump_camel",
    "six_hump_camel_func",
]
