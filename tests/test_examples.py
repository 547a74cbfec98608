"""The examples run as a user would run them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def run(script: str, *args: str, cwd: Path, launcher: tuple[str, ...] = ()) -> str:
    out = subprocess.run(
        [*launcher, sys.executable, str(EXAMPLES / script), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    return out.stdout


@pytest.mark.parametrize("comms", ["local", "threads", "tcp"])
def test_demo_on_each_comms(comms, tmp_path):
    out = run("demo.py", "--comms", comms, "-n", "2", cwd=tmp_path)
    assert f"2000 evaluations on 2 workers ({comms}), exit flag 0" in out
    assert (tmp_path / "demo_output" / "history.npy").exists()
    assert (tmp_path / "demo_output" / "summary" / "best.csv").exists()


def test_batch_sampler_and_h0_examples(tmp_path):
    out = run("batch_sampler.py", "--comms", "threads", "-n", "2", cwd=tmp_path)
    assert "500 points; best f = " in out
    assert float(out.split("best f = ")[1].split()[0]) > 0  # of evaluated points only
    assert "evaluated 121 of 121 grid points" in run(
        "h0_evaluation.py", "--comms", "local", "-n", "2", cwd=tmp_path
    )


def test_mpi_application_example(tmp_path):
    out = run("mpi_application/run.py", "--comms", "local", "-n", "2", cwd=tmp_path)
    assert "16 points evaluated by launching an MPI application; exit flag 0" in out
    assert "results agree with six_hump_camel_func: True" in out
    assert len(list(tmp_path.glob("ensemble/sim00*/result.txt"))) == 16


def test_mpi_application_example_under_mpiexec(tmp_path):
    """Worker ranks of an MPI run launching MPI applications of their own."""
    mpiexec = (str(Path(sys.executable).parent / "mpiexec"), "-n", "3")
    out = run("mpi_application/run.py", cwd=tmp_path, launcher=mpiexec)
    assert "results agree with six_hump_camel_func: True" in out
    assert len(list(tmp_path.glob("ensemble/sim00*/result.txt"))) == 16


@pytest.mark.parametrize("over", ["local", "mpi"])
def test_variable_resources_example(tmp_path, over):
    """Each point's MPI launch runs on the resource sets it asked for (num_procs 1 or 2 of
    2 one-core sets), with local workers or with MPI ranks as workers."""
    mpiexec = (str(Path(sys.executable).parent / "mpiexec"), "-n", "4")
    script = "mpi_application/variable_resources.py"
    if over == "local":
        out = run(script, "--comms", "local", "-n", "3", cwd=tmp_path)
    else:
        out = run(script, cwd=tmp_path, launcher=mpiexec)
    assert "12 points evaluated (1 process(es): " in out
    assert "every launch ran as many ranks as its point asked for: True" in out
    assert "results agree with six_hump_camel_func: True" in out
    ranks = [int(p.read_text()) for p in tmp_path.glob("ensemble/sim00*/ranks.txt")]
    assert len(ranks) == 12 and set(ranks) == {1, 2}


@pytest.mark.parametrize("over", ["local", "mpi"])
def test_object_style_example(tmp_path, over):
    """A libEnsemble 1.x object-style script: command line, attributes, save_output."""
    if over == "local":
        out = run("object_style.py", "--comms", "local", "-n", "3", cwd=tmp_path)
    else:
        mpiexec = (str(Path(sys.executable).parent / "mpiexec"), "-n", "4")
        out = run("object_style.py", cwd=tmp_path, launcher=mpiexec)
    assert "200 evaluations on 3 workers, exit flag 0" in out
    (saved,) = tmp_path.glob("object_style_history_length=*_evals=200_workers=3.npy")
    assert np.load(saved)["sim_ended"].sum() == 200
    assert len(list(tmp_path.glob("object_style_persis_info_length=*_evals=200_*.pickle"))) == 1


def test_gest_api_example_beats_random_search(tmp_path):
    out = run("gest_api_optimize.py", cwd=tmp_path).splitlines()
    for line in out:
        cma = float(line.split("AsyncCMAES best f = ")[1].split(",")[0])
        rnd = float(line.split("random search best f = ")[1])
        assert cma < rnd
    assert float(out[0].split("AsyncCMAES best f = ")[1].split(",")[0]) < -1.0316


def test_external_generator_example(tmp_path):
    out = run("external_generator/run.py", cwd=tmp_path)
    assert "after 60 evaluations" in out
    assert float(out.split("best RESULT ")[1].split()[0]) > -50
