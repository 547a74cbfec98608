"""The job's nodes, cores and GPUs, and each worker's share of them (for executors)."""

from libens.resources.assign import assign
from libens.resources.machine import GPU_ENV_VARS, Resources, dedicated, detect
from libens.resources.nodes import expand_hostlist, scheduler_nodes
from libens.resources.sets import InsufficientFreeResources, ResourceSets

__all__ = [
    "InsufficientFreeResources",
    "GPU_ENV_VARS",
    "ResourceSets",
    "Resources",
    "assign",
    "dedicated",
    "detect",
    "expand_hostlist",
    "scheduler_nodes",
]
