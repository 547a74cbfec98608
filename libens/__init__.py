"""libens: dynamic ensembles of calculations.

A generator proposes points, workers evaluate them, and a manager that owns the history
decides who does what. The API follows libEnsemble, so its scripts port by changing imports.
"""

from gest_api.vocs import VOCS

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
