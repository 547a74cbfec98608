"""libens: dynamic ensembles of calculations.

A generator proposes points, workers evaluate them, and a manager that owns the history
decides who does what. The API follows libEnsemble, so its scripts port by changing imports.
"""

from typing import TYPE_CHECKING, Any

from libens.ensemble import Ensemble, libE
from libens.errors import (
    CommError,
    GeneratorError,
    LibensError,
    RunDirError,
    SimulatorError,
    SpecError,
    WorkerError,
)
from libens.specs import AllocSpecs, ExitCriteria, GenSpecs, LibeSpecs, SimSpecs

if TYPE_CHECKING:
    from gest_api.vocs import VOCS

__version__ = "0.1.0"

__all__ = [
    "VOCS",
    "AllocSpecs",
    "CommError",
    "Ensemble",
    "ExitCriteria",
    "GenSpecs",
    "GeneratorError",
    "LibeSpecs",
    "LibensError",
    "RunDirError",
    "SimSpecs",
    "SimulatorError",
    "SpecError",
    "WorkerError",
    "libE",
]


def __getattr__(name: str) -> Any:
    if name == "VOCS":  # gest-api's, loaded on first use (see libens.vocs)
        from libens import vocs

        return vocs.VOCS
    raise AttributeError(f"module 'libens' has no attribute {name!r}")
