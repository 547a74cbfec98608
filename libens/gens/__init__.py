"""Generators: persistent support for gen_f's, the gest-api driver and built-in generators.

Names load on first use, so a run that needs none of them (a classic gen_f) does not pay
for importing every generator at start-up.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from libens.gens.base import BuiltinGenerator
    from libens.gens.cmaes import AsyncCMAES
    from libens.gens.external import ExternalGenerator
    from libens.gens.nelder_mead import NelderMead
    from libens.gens.persistent import PersistentSupport
    from libens.gens.samplers import LatinHypercube, UniformSample

_HOMES = {
    "AsyncCMAES": "libens.gens.cmaes",
    "BuiltinGenerator": "libens.gens.base",
    "ExternalGenerator": "libens.gens.external",
    "LatinHypercube": "libens.gens.samplers",
    "NelderMead": "libens.gens.nelder_mead",
    "PersistentSupport": "libens.gens.persistent",
    "UniformSample": "libens.gens.samplers",
}

__all__ = [
    "AsyncCMAES",
    "BuiltinGenerator",
    "ExternalGenerator",
    "LatinHypercube",
    "NelderMead",
    "PersistentSupport",
    "UniformSample",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'libens.gens' has no attribute {name!r}")
    return getattr(importlib.import_module(home), name)
