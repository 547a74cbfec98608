"""Transport backends looked up by name; a backend's module is imported only when used."""

from __future__ import annotations

import importlib

from libens.comms.base import Comms
from libens.errors import CommError

_BACKENDS = {
    "local": ("libens.comms.local", "LocalComms"),
    "threads": ("libens.comms.threads", "ThreadComms"),
    "mpi": ("libens.comms.mpi", "MPIComms"),
    "tcp": ("libens.comms.tcp", "TCPComms"),
}


def names() -> list[str]:
    """Names of all known backends."""
    return list(_BACKENDS)


def get(name: str) -> type[Comms]:
    """Return the backend class registered as ``name``."""
    try:
        module_name, class_name = _BACKENDS[name]
    except KeyError:
        raise CommError(
            f"unknown comms {name!r}: LibeSpecs.comms must be one of {', '.join(_BACKENDS)}"
        ) from None
    return getattr(importlib.import_module(module_name), class_name)


_MPI_ENV = (
    "PMI_SIZE",
    "PMI_RANK",
    "OMPI_COMM_WORLD_SIZE",
    "PMIX_RANK",
    "MPI_LOCALNRANKS",
    "SLURM_STEP_NUM_TASKS",
    "HYDRA_CONTROL_FD",
)


def launched_under_mpi() -> bool:
    """True when this process was started by an MPI launcher with more than one rank (read
    from the environment, without importing mpi4py)."""
    import os

    size = os.environ.get("PMI_SIZE") or os.environ.get("OMPI_COMM_WORLD_SIZE")
    if size is not None:
        return int(size) > 1
    return any(k in os.environ for k in _MPI_ENV[3:6])
