"""Generators: persistent support for gen_f's, the gest-api driver and built-in generators."""

from libens.gens.base import BuiltinGenerator
from libens.gens.cmaes import AsyncCMAES
from libens.gens.external import ExternalGenerator
from libens.gens.nelder_mead import NelderMead
from libens.gens.persistent import PersistentSupport
from libens.gens.samplers import LatinHypercube, UniformSample

__all__ = [
    "AsyncCMAES",
    "BuiltinGenerator",
    "ExternalGenerator",
    "LatinHypercube",
    "NelderMead",
    "PersistentSupport",
    "UniformSample",
]
