"""MPI comms in real mpiexec jobs (the mpich wheel's mpiexec, installed by the test setup)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

SCRIPTS = Path(__file__).parent / "mpi_scripts"
TESTS = Path(__file__).resolve().parents[1]
MPIEXEC = Path(sys.executable).parent / "mpiexec"


def mpirun(n: int, script: str, *args: str, cwd: Path, timeout: float = 90):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(TESTS), *sys.path]))
    return subprocess.run(
        [str(MPIEXEC), "-n", str(n), sys.executable, str(SCRIPTS / script), *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=timeout,
    )


def result(out: subprocess.CompletedProcess) -> dict:
    lines = [line for line in out.stdout.splitlines() if line.startswith("{")]
    assert out.returncode == 0 and len(lines) == 1, out.stdout + out.stderr
    return json.loads(lines[0])


@pytest.mark.parametrize("n", [3, 5])
def test_transport_contract(n, tmp_path):
    out = mpirun(n, "contract.py", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert f"CONTRACT OK {list(range(n))}" in out.stdout


@pytest.mark.parametrize("n, mode", [(3, "mpi"), (5, "auto")])
def test_ensemble_over_mpi(n, mode, tmp_path):
    r = result(mpirun(n, "ensemble.py", mode, cwd=tmp_path))
    assert r["flag"] == 0 and r["ended"] >= 40 and r["correct"]
    assert set(r["sim_workers"]) <= set(range(1, n)) and len(r["sim_workers"]) == n - 1
    H = np.load(tmp_path / f"mpi_{mode}.npy")
    assert H["sim_ended"].sum() == r["ended"]


def test_simulation_ranks_launch_applications(tmp_path):
    r = result(mpirun(3, "ensemble.py", "executor", cwd=tmp_path))
    assert r["flag"] == 0 and r["ended"] >= 40 and r["correct"]
    outs = list(tmp_path.glob("task_sum_squares.py_worker*.out"))
    assert len(outs) == r["ended"]
    assert {p.name.split("_")[3] for p in outs} == {f"worker{w}" for w in r["sim_workers"]}


def test_generator_on_the_manager_rank(tmp_path):
    r = result(mpirun(3, "ensemble.py", "gen_on_manager", cwd=tmp_path))
    assert r["gen_workers"] == [0] and r["sim_workers"] == [1, 2]


def test_sub_communicators_run_separate_ensembles(tmp_path):
    out = mpirun(4, "ensemble.py", "subcomm", cwd=tmp_path)
    lines = [json.loads(x) for x in out.stdout.splitlines() if x.startswith("{")]
    assert out.returncode == 0 and len(lines) == 2, out.stderr
    assert all(r["ended"] >= 40 and r["sim_workers"] == [1] for r in lines)
    assert (tmp_path / "mpi_subcomm_0.npy").exists() and (tmp_path / "mpi_subcomm_1.npy").exists()


def test_raising_sim_ends_the_job_with_error_and_saved_history(tmp_path):
    out = mpirun(3, "ensemble.py", "raise", cwd=tmp_path)
    assert out.returncode != 0
    assert "failing_sim" in out.stderr and "ZeroDivisionError" in out.stderr
    assert np.load(tmp_path / "mpi_raise_at_abort.npy").dtype.names


def test_rank_that_dies_ends_the_job_without_hanging(tmp_path):
    out = mpirun(3, "ensemble.py", "die", cwd=tmp_path, timeout=60)
    assert out.returncode != 0


def test_demo_example_under_mpiexec(tmp_path):
    demo = Path(__file__).resolve().parents[2] / "examples" / "demo.py"
    out = subprocess.run(
        [str(MPIEXEC), "-n", "3", sys.executable, str(demo)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert "2000 evaluations on 2 workers (mpi), exit flag 0" in out.stdout
