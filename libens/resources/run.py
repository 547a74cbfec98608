"""What a run's calculations may launch on: the job's resources as the specs shape them
(given or detected, less the ensemble's node in ``dedicated_mode``), as fixed shares per
worker or as resource sets the manager lends."""

from __future__ import annotations

from collections.abc import Iterable

from libens.resources.assign import assign
from libens.resources.machine import Resources, dedicated, detect
from libens.resources.sets import Lending, ResourceSets
from libens.specs import LibeSpecs


def job_resources(libE: LibeSpecs) -> Resources:
    """The resources applications may use: given or detected, less this node in
    ``dedicated_mode``."""
    job = libE.resources or detect()
    return dedicated(job) if libE.dedicated_mode else job


def lending(libE: LibeSpecs) -> Lending | None:
    """The book of the job's resource sets, when calculations are lent them
    (``num_resource_sets``)."""
    if libE.num_resource_sets is None:
        return None
    sets = ResourceSets(job_resources(libE), libE.num_resource_sets)
    return Lending(sets, sets.sets_for(libE.gen_num_procs, libE.gen_num_gpus, "LibeSpecs.gen_"))


def worker_shares(libE: LibeSpecs, worker_ids: Iterable[int]) -> dict[int, Resources]:
    """Each worker's fixed share (never for the generator on the manager, worker 0, nor
    the zero-resource workers)."""
    return assign(job_resources(libE), worker_ids, [0, *libE.zero_resource_workers])
