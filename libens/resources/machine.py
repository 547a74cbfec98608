"""What the job has to run applications on: its nodes, and the cores and GPUs of each."""

from __future__ import annotations

import os
import re
import socket
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

import psutil

from libens.errors import ResourceError
from libens.resources.nodes import scheduler_nodes

# variables that list the GPUs a process may use, in the order they are looked for
GPU_ENV_VARS = ("CUDA_VISIBLE_DEVICES", "ROCR_VISIBLE_DEVICES", "HIP_VISIBLE_DEVICES")


@dataclass(frozen=True)
class Resources:
    """Nodes (assumed alike) with the cores and GPU ids of each: the whole job's, or the
    share of it one worker may launch applications on.

    ``local`` means the nodes are this machine alone (no batch job), so a launcher needs no
    host list. ``gpu_env_var`` is the variable that tells an application which GPUs to use.
    """

    nodes: tuple[str, ...]
    cores_per_node: int
    gpu_ids: tuple[str, ...] = ()
    gpu_env_var: str = "CUDA_VISIBLE_DEVICES"
    local: bool = False

    def summary(self) -> str:
        """One line for people: nodes, cores per node, GPUs."""
        nodes = ", ".join(self.nodes[:4]) + (", ..." if len(self.nodes) > 4 else "")
        gpus = ",".join(self.gpu_ids) or "none"
        return (
            f"{len(self.nodes)} node(s) ({nodes}), {self.cores_per_node} core(s) per node, "
            f"GPUs {gpus} ({self.gpu_env_var})"
        )

    def __post_init__(self) -> None:
        if not self.nodes:
            raise ResourceError("Resources.nodes is empty; give at least one node name")
        if self.cores_per_node < 1:
            raise ResourceError(
                f"Resources.cores_per_node is {self.cores_per_node}; give 1 or more"
            )


def dedicated(resources: Resources, host: str | None = None) -> Resources:
    """The job without the node this process runs on (``LibeSpecs.dedicated_mode``: the
    manager's and workers' node launches nothing); unchanged if that node is not the
    job's (the run started on a login node)."""
    host = (host or socket.gethostname()).split(".")[0]
    kept = tuple(n for n in resources.nodes if n.split(".")[0] != host)
    if not kept:
        raise ResourceError(
            f"LibeSpecs.dedicated_mode=True leaves no node to launch on: the job's only "
            f"node(s) {', '.join(resources.nodes)} run(s) the ensemble; ask for more "
            "nodes, or set dedicated_mode=False"
        )
    return replace(resources, nodes=kept) if len(kept) < len(resources.nodes) else resources


def detect(env: Mapping[str, str] | None = None, dev: Path = Path("/dev")) -> Resources:
    """Read the job's resources: nodes from the scheduler (else this host), physical cores
    from psutil, GPUs from the scheduler, the visible-devices variables or ``/dev``."""
    env = os.environ if env is None else env
    nodes = scheduler_nodes(env)
    cores = psutil.cpu_count(logical=False) or psutil.cpu_count() or 1
    gpu_ids, var = _gpus(env, dev)
    return Resources(
        nodes=tuple(nodes) if nodes else (socket.gethostname(),),
        cores_per_node=cores,
        gpu_ids=gpu_ids,
        gpu_env_var=var,
        local=nodes is None,
    )


def _gpus(env: Mapping[str, str], dev: Path) -> tuple[tuple[str, ...], str]:
    for var in GPU_ENV_VARS:
        value = env.get(var)
        if value is not None:
            return tuple(v for v in (s.strip() for s in value.split(",")) if v and v != "-1"), var
    count = env.get("SLURM_GPUS_ON_NODE")
    if count and count.isdigit():
        return tuple(str(i) for i in range(int(count))), GPU_ENV_VARS[0]
    try:
        names = [p.name for p in dev.iterdir()]
    except OSError:
        names = []
    nvidia = sorted(int(m.group(1)) for n in names if (m := re.fullmatch(r"nvidia(\d+)", n)))
    return tuple(str(i) for i in nvidia), GPU_ENV_VARS[0]
