"""MPIExecutor: launch MPI applications on the submitting worker's nodes.

The command line is built for the MPI runner found (MPICH or Intel MPI's ``mpiexec``,
Open MPI's ``mpirun``, Slurm's ``srun``) from the process counts asked for and the worker's
share of the resources (``libens.resources``): a worker never starts ranks on another
worker's nodes or cores.
"""

from __future__ import annotations

import math
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from libens.errors import ExecutorError
from libens.executors.executor import Executor, as_args
from libens.executors.task import Task
from libens.resources import Resources, assign, detect

# flavour -> arguments for (executable, processes, processes per node, hosts or None)
RunnerArgs = Callable[[str, int, int, Sequence[str] | None], list[str]]


def _mpich(exe: str, n: int, ppn: int, hosts: Sequence[str] | None) -> list[str]:
    return [exe, "-n", str(n), "-ppn", str(ppn), *(["-hosts", ",".join(hosts)] if hosts else [])]


def _openmpi(exe: str, n: int, ppn: int, hosts: Sequence[str] | None) -> list[str]:
    host_args = ["--host", ",".join(f"{h}:{ppn}" for h in hosts)] if hosts else []
    return [exe, "-np", str(n), "-npernode", str(ppn), *host_args]


def _srun(exe: str, n: int, ppn: int, hosts: Sequence[str] | None) -> list[str]:
    nodes = ["-N", str(len(hosts)), "-w", ",".join(hosts)] if hosts else []
    # --exact: a step takes only the CPUs it asks for, so workers' steps share a node
    return [exe, "-n", str(n), "--ntasks-per-node", str(ppn), *nodes, "--exact"]


RUNNERS: dict[str, RunnerArgs] = {"mpich": _mpich, "openmpi": _openmpi, "srun": _srun}
_DEFAULT_EXECUTABLE = {"mpich": "mpiexec", "openmpi": "mpirun", "srun": "srun"}


def find_program(name: str) -> str | None:
    """``name`` next to this Python (a virtual environment's MPI), else on PATH."""
    beside = Path(sys.executable).parent / name
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which(name)


def detect_runner(env: Mapping[str, str] | None = None) -> tuple[str, str]:
    """The MPI runner to use, as ``(flavour, executable)``: ``srun`` inside a Slurm job,
    else the ``mpiexec``/``mpirun`` found, told apart by its ``--version``."""
    env = os.environ if env is None else env
    if env.get("SLURM_JOB_ID") and (srun := shutil.which("srun")):
        return "srun", srun
    for name in ("mpiexec", "mpirun"):
        exe = find_program(name)
        if exe is None:
            continue
        try:
            run = subprocess.run(
                [exe, "--version"], capture_output=True, text=True, timeout=30, check=False
            )
        except (OSError, subprocess.TimeoutExpired):
            continue
        said = run.stdout + run.stderr
        if "HYDRA" in said or "MPICH" in said or "Intel" in said:
            return "mpich", exe
        if "Open MPI" in said or "OpenRTE" in said or "open-mpi" in said:
            return "openmpi", exe
    raise ExecutorError(
        "no MPI runner found (mpiexec or mpirun next to this Python or on PATH, or srun in a "
        "Slurm job); install one (pip install 'libens[mpi]' brings MPICH's) or name it: "
        "MPIExecutor(mpi_runner='mpich' | 'openmpi' | 'srun', runner_path=...)"
    )


class MPIExecutor(Executor):
    """An Executor whose ``submit`` starts MPI applications on the worker's resources."""

    def __init__(
        self,
        mpi_runner: str | None = None,
        runner_path: str | None = None,
        extra_args: str | Sequence[str] = (),
        custom_info: dict[str, str] | None = None,
    ) -> None:
        super().__init__()
        if custom_info:  # libEnsemble's way of naming the runner
            unknown = set(custom_info) - {"mpi_runner", "runner_name"}
            if unknown:
                raise ExecutorError(
                    f"MPIExecutor: custom_info keys {sorted(unknown)} are not supported; "
                    "use mpi_runner and runner_name (or the mpi_runner/runner_path arguments)"
                )
            mpi_runner = custom_info.get("mpi_runner", mpi_runner)
            runner_path = custom_info.get("runner_name", runner_path)
        if mpi_runner is not None and mpi_runner not in RUNNERS:
            raise ExecutorError(
                f"MPIExecutor: mpi_runner={mpi_runner!r}; use one of {', '.join(RUNNERS)} "
                "(or leave it out to detect it)"
            )
        self.mpi_runner = mpi_runner
        self.runner_path = runner_path
        self.extra_args = as_args(extra_args)

    def runner(self) -> tuple[str, str]:
        """The runner's flavour and executable (detected on the first call, per worker)."""
        if self.mpi_runner is None:
            self.mpi_runner, found = detect_runner()
            self.runner_path = self.runner_path or found
        if self.runner_path is None:
            default = _DEFAULT_EXECUTABLE[self.mpi_runner]
            self.runner_path = find_program(default) or default
        return self.mpi_runner, self.runner_path

    def submit(  # type: ignore[override]  # adds the MPI layout to Executor.submit
        self,
        calc_type: str | None = None,
        app_name: str | None = None,
        num_procs: int | None = None,
        num_nodes: int | None = None,
        procs_per_node: int | None = None,
        num_gpus: int | None = None,
        extra_args: str | Sequence[str] = (),
        app_args: str | Sequence[str] | None = None,
        stdout: str | Path | None = None,
        stderr: str | Path | None = None,
        env: dict[str, str] | None = None,
        workdir: str | Path | None = None,
        dry_run: bool = False,
        match_procs_to_gpus: bool = False,
        auto_assign_gpus: bool = True,
    ) -> Task:
        """Launch an MPI application. With no counts it fills the worker's nodes (one
        process per core); ``num_procs`` alone takes as few of them as hold that many;
        ``num_gpus`` limits it to that many of the worker's GPUs on each node, and
        ``match_procs_to_gpus`` runs one process per GPU. ``auto_assign_gpus=False``
        leaves the GPU variable as it is."""
        app = self.get_app(app_name, calc_type)
        flavour, exe = self.runner()
        mine = self._my_resources()
        if match_procs_to_gpus:
            procs_per_node = num_gpus if num_gpus is not None else len(mine.gpu_ids)
            if not procs_per_node:
                raise ExecutorError(
                    f"submit: match_procs_to_gpus=True, but worker {self.worker_id} has no "
                    "GPUs (LibeSpecs.resources, or the GPUs found: docs/executors.md); "
                    "give num_procs instead"
                )
            num_procs = None
        nodes, ppn, n = layout(mine, num_procs, num_nodes, procs_per_node, self.worker_id)
        hosts = None if mine.local else mine.nodes[:nodes]
        command = [
            *RUNNERS[flavour](exe, n, ppn, hosts),
            *self.extra_args,
            *as_args(extra_args),
            *app.command(app_args),
        ]
        return self._launch(
            app, command, stdout, stderr, env, workdir, dry_run, num_gpus, auto_assign_gpus
        )

    def _my_resources(self) -> Resources:
        if self.resources is not None:
            return self.resources
        if self.worker_id is None:  # used outside an ensemble: the whole job
            self.resources = assign(detect(), [0])[0]
            return self.resources
        raise ExecutorError(
            f"worker {self.worker_id} has no resources to launch MPI applications on (it is "
            "in LibeSpecs.zero_resource_workers, or it joined after the run started, or, "
            "with LibeSpecs.num_resource_sets, this call was lent no sets: a generator, or "
            "a point with resource_sets=0); launch from a simulation that is lent sets, or "
            "take the worker out of zero_resource_workers"
        )


def layout(
    resources: Resources,
    num_procs: int | None,
    num_nodes: int | None,
    procs_per_node: int | None,
    worker_id: int | None = None,
) -> tuple[int, int, int]:
    """``(nodes, processes per node, processes)`` for a launch on ``resources``."""
    for name, value in (
        ("num_procs", num_procs),
        ("num_nodes", num_nodes),
        ("procs_per_node", procs_per_node),
    ):
        if value is not None and value < 1:
            raise ExecutorError(f"submit: {name}={value}; give 1 or more (or leave it out)")
    have = len(resources.nodes)
    if num_nodes is None:
        if num_procs is not None:
            per = procs_per_node or resources.cores_per_node
            num_nodes = min(have, math.ceil(num_procs / per))
        else:
            num_nodes = have
    if num_nodes > have:
        who = "this process" if worker_id is None else f"worker {worker_id}"
        raise ExecutorError(
            f"submit: num_nodes={num_nodes}, but {who} has {have} node(s) "
            f"({', '.join(resources.nodes)}); ask for fewer, or run fewer workers "
            "(each gets an equal share of the job's nodes)"
        )
    if procs_per_node is None:
        procs_per_node = (
            math.ceil(num_procs / num_nodes) if num_procs else resources.cores_per_node
        )
    if num_procs is None:
        num_procs = num_nodes * procs_per_node
    if num_procs > num_nodes * procs_per_node:
        raise ExecutorError(
            f"submit: num_procs={num_procs} do not fit on {num_nodes} node(s) with "
            f"procs_per_node={procs_per_node}; raise procs_per_node or num_nodes"
        )
    return num_nodes, procs_per_node, num_procs
