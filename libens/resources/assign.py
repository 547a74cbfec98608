"""Share the job's resources among the workers that launch applications."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import replace

from libens.resources.machine import Resources


def assign(
    resources: Resources, worker_ids: Iterable[int], zero_resource_workers: Iterable[int] = ()
) -> dict[int, Resources]:
    """Each worker's share, in worker-id order: with no more workers than nodes, an equal
    number of whole nodes each (the rest unused); with more, an equal share of one node's
    cores and GPUs, workers filling one node before the next. Zero-resource workers (such
    as a generator's) get nothing and are left out."""
    skip = set(zero_resource_workers)
    workers = sorted(w for w in worker_ids if w not in skip)
    nodes = resources.nodes
    if not workers:
        return {}
    if len(workers) <= len(nodes):
        per = len(nodes) // len(workers)
        return {
            w: replace(resources, nodes=nodes[i * per : (i + 1) * per])
            for i, w in enumerate(workers)
        }
    on_node = math.ceil(len(workers) / len(nodes))
    cores = max(1, resources.cores_per_node // on_node)
    gpus = len(resources.gpu_ids) // on_node
    shares = {}
    for i, w in enumerate(workers):
        slot = i % on_node
        shares[w] = replace(
            resources,
            nodes=(nodes[i // on_node],),
            cores_per_node=cores,
            gpu_ids=resources.gpu_ids[slot * gpus : (slot + 1) * gpus],
        )
    return shares
