"""MPIExecutor: command lines for each runner on a worker's share, and a real mpiexec run."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from libens.errors import ExecutorError
from libens.executors import MPIExecutor, detect_runner
from libens.executors.mpi import layout
from libens.messages import WORKER_DONE
from libens.resources import Resources

APPS = Path(__file__).parent / "apps"
MPIEXEC = str(Path(sys.executable).parent / "mpiexec")
TWO_NODES = Resources(nodes=("n1", "n2"), cores_per_node=8)


def dry(runner: str, resources: Resources = TWO_NODES, **counts) -> list[str]:
    exctr = MPIExecutor(mpi_runner=runner, runner_path=runner, extra_args="--x")
    exctr.register_app("/apps/sim", calc_type="sim")
    task = exctr.for_worker(1, resources).submit(
        calc_type="sim", app_args="-in a", dry_run=True, **counts
    )
    return task.command


def test_mpich_command_on_the_workers_nodes():
    assert dry("mpich", num_procs=12) == (
        "mpich -n 12 -ppn 6 -hosts n1,n2 --x /apps/sim -in a".split()
    )


def test_openmpi_and_srun_commands():
    assert dry("openmpi", num_nodes=1) == (
        "openmpi -np 8 -npernode 8 --host n1:8 --x /apps/sim -in a".split()
    )
    assert dry("srun", num_procs=3, procs_per_node=2) == (
        "srun -n 3 --ntasks-per-node 2 -N 2 -w n1,n2 --exact --x /apps/sim -in a".split()
    )


def test_local_resources_need_no_host_list():
    laptop = Resources(nodes=("me",), cores_per_node=4, local=True)
    assert dry("mpich", laptop) == "mpich -n 4 -ppn 4 --x /apps/sim -in a".split()


@pytest.mark.parametrize(
    "counts, expected",
    [
        ({}, (2, 8, 16)),
        ({"num_procs": 4}, (1, 4, 4)),
        ({"num_procs": 9}, (2, 5, 9)),
        ({"num_nodes": 2, "procs_per_node": 3}, (2, 3, 6)),
        ({"num_procs": 20, "procs_per_node": 10}, (2, 10, 20)),
    ],
)
def test_layout_fills_the_share(counts, expected):
    assert (
        layout(
            TWO_NODES,
            counts.get("num_procs"),
            counts.get("num_nodes"),
            counts.get("procs_per_node"),
        )
        == expected
    )


def test_layout_errors_name_the_argument():
    with pytest.raises(ExecutorError, match="num_nodes=3, but worker 1 has 2 node"):
        layout(TWO_NODES, None, 3, None, 1)
    with pytest.raises(ExecutorError, match="num_procs=7 do not fit .* procs_per_node=3"):
        layout(TWO_NODES, 7, 2, 3)
    with pytest.raises(ExecutorError, match="num_procs=0; give 1 or more"):
        layout(TWO_NODES, 0, None, None)


def test_unknown_runner_and_zero_resource_worker_are_refused():
    with pytest.raises(ExecutorError, match="mpi_runner='mvapich'; use one of mpich"):
        MPIExecutor(mpi_runner="mvapich")
    exctr = MPIExecutor(mpi_runner="mpich")
    exctr.register_app("/apps/sim", calc_type="sim")
    with pytest.raises(ExecutorError, match="worker 2 has no resources .*zero_resource_workers"):
        exctr.for_worker(2, None).submit(calc_type="sim", dry_run=True)


def test_custom_info_names_the_runner_as_in_libensemble():
    exctr = MPIExecutor(custom_info={"mpi_runner": "openmpi", "runner_name": "/opt/bin/mpirun"})
    assert exctr.runner() == ("openmpi", "/opt/bin/mpirun")
    with pytest.raises(ExecutorError, match=r"custom_info keys \['subgroup_launch'\]"):
        MPIExecutor(custom_info={"mpi_runner": "mpich", "subgroup_launch": True})


def test_detects_the_mpich_wheels_mpiexec():
    assert detect_runner({}) == ("mpich", MPIEXEC)


def test_real_mpiexec_run_of_two_ranks(tmp_path):
    exctr = MPIExecutor()
    exctr.register_app(APPS / "ranks.py", calc_type="sim")
    task = exctr.for_worker(1, Resources(nodes=("here",), cores_per_node=2, local=True)).submit(
        calc_type="sim", num_procs=2
    )
    assert exctr.polling_loop(task) == WORKER_DONE, task.read_stderr()
    assert task.command[:5] == [MPIEXEC, "-n", "2", "-ppn", "2"]
    assert sorted(task.read_stdout().splitlines()) == ["rank 0 of 2", "rank 1 of 2"]


GPU_NODES = Resources(nodes=("n1", "n2"), cores_per_node=8, gpu_ids=("0", "1", "2", "3"))


def test_match_procs_to_gpus_runs_a_process_per_gpu():
    assert dry("mpich", GPU_NODES, match_procs_to_gpus=True) == (
        "mpich -n 8 -ppn 4 -hosts n1,n2 --x /apps/sim -in a".split()
    )
    assert dry("mpich", GPU_NODES, match_procs_to_gpus=True, num_gpus=2, num_nodes=1) == (
        "mpich -n 2 -ppn 2 -hosts n1 --x /apps/sim -in a".split()
    )
    with pytest.raises(ExecutorError, match="match_procs_to_gpus=True, but worker 1 has no"):
        dry("mpich", match_procs_to_gpus=True)


def test_gpus_are_set_in_the_tasks_environment_unless_auto_assign_is_off():
    exctr = MPIExecutor(mpi_runner="mpich", runner_path="mpiexec")
    exctr.register_app("/apps/sim", calc_type="sim")
    mine = exctr.for_worker(1, GPU_NODES)
    task = mine.submit(calc_type="sim", num_gpus=2, dry_run=True)
    assert task.env is not None and task.env["CUDA_VISIBLE_DEVICES"] == "0,1"
    assert mine.submit(calc_type="sim", auto_assign_gpus=False, dry_run=True).env is None
