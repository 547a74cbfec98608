"""Allocation policies: functions that decide, on every event, which worker gets what work."""

from libens.alloc.policies import (
    fast_alloc,
    give_pregenerated_work,
    give_sim_work_first,
    only_persistent_gens,
    start_only_persistent,
)
from libens.alloc.support import AllocSupport
from libens.alloc.workers import WORKER_DTYPE, WorkerTable

__all__ = [
    "WORKER_DTYPE",
    "AllocSupport",
    "WorkerTable",
    "fast_alloc",
    "give_pregenerated_work",
    "give_sim_work_first",
    "only_persistent_gens",
    "start_only_persistent",
]
