"""An executor in a run: every worker's user function launches applications through its own
copy, on its share of the resources, and the manager's kills reach the applications."""

from __future__ import annotations

import re
import socket
from pathlib import Path

import numpy as np
import pytest
import userfuncs as uf
from test_executor import gone

from libens import AllocSpecs, ExitCriteria, GenSpecs, LibeSpecs, SimSpecs, libE
from libens.alloc import only_persistent_gens
from libens.errors import SpecError
from libens.executors import Executor, MPIExecutor
from libens.gens.sampling import uniform_random_sample
from libens.manager import EXIT_WALLCLOCK
from libens.messages import MAN_SIGNAL_KILL
from libens.resources import Resources

APPS = Path(__file__).parent / "apps"
GEN = GenSpecs(
    gen_f=uniform_random_sample,
    outputs=[("x", float, 2)],
    user={"lb": [-3, -2], "ub": [3, 2], "gen_batch_size": 4},
)


def quiet(comms, nworkers=2, **kw):
    return LibeSpecs(
        comms=comms, nworkers=nworkers, disable_log_files=True, save_H_on_completion=False, **kw
    )


def apps() -> Executor:
    exctr = Executor()
    exctr.register_app(APPS / "sum_squares.py", calc_type="sim")
    exctr.register_app(APPS / "sleeper.py", app_name="sleeper")
    return exctr


def test_simulations_run_as_applications(comms, tmp_path):
    sim = SimSpecs(sim_f=uf.app_sim, inputs=["x"], outputs=[("f", float)])
    H, _, flag = libE(sim, GEN, ExitCriteria(sim_max=8), libE_specs=quiet(comms), executor=apps())
    assert flag == 0 and H["sim_ended"].sum() >= 8
    done = H[H["sim_ended"]]
    assert np.allclose(done["f"], np.sum(done["x"] ** 2, axis=1))
    outs = [p.name for p in tmp_path.glob("task_sum_squares.py_worker*.out")]
    assert len(outs) == len(done)
    launched_by = {int(re.match(r"task_sum_squares.py_worker(\d+)_", n).group(1)) for n in outs}
    assert launched_by == set(done["sim_worker"].tolist())


def test_cancelled_point_kills_its_application(comms):
    sim = SimSpecs(
        sim_f=uf.app_sim,
        inputs=["x"],
        outputs=[("f", float), ("pids", int, 2)],
        user={"kill_slow": True},
    )
    gen = GenSpecs(gen_f=uf.kill_gen, outputs=[("x", float, 2)], async_return=True)
    H, _, _ = libE(
        sim,
        gen,
        ExitCriteria(sim_max=3),
        alloc_specs=AllocSpecs(alloc_f=only_persistent_gens),
        libE_specs=quiet(comms, nworkers=3, kill_canceled_sims=True),
        executor=apps(),
    )
    assert H["kill_sent"].tolist() == [False, True]
    assert H["f"].tolist() == [1.0, MAN_SIGNAL_KILL]
    assert all(gone(int(p)) for p in H["pids"][1])


def test_applications_left_running_stop_with_the_run(comms):
    sim = SimSpecs(sim_f=uf.leaving_app_sim, inputs=["x"], outputs=[("pids", int, 2)])
    H, _, _ = libE(sim, GEN, ExitCriteria(sim_max=2), libE_specs=quiet(comms), executor=apps())
    pids = H["pids"][H["sim_ended"]].ravel()
    assert len(pids) >= 4
    assert all(gone(int(p)) for p in pids)


def pids_written(where: Path) -> list[int]:
    return [int(p) for f in where.glob("pids_*.txt") for p in f.read_text().split()]


def out_of_time_pids(sim: SimSpecs, comms: str, where: Path) -> list[int]:
    """Runs ``sim`` until the wallclock ends the run; the pids its applications wrote."""
    _, _, flag = libE(
        sim,
        GEN,
        ExitCriteria(wallclock_max=0.3),
        libE_specs=quiet(comms, worker_timeout=0.3),
        executor=apps(),
    )
    assert flag == EXIT_WALLCLOCK
    return pids_written(where)


def test_run_out_of_time_stops_its_applications(comms, tmp_path):
    sim = SimSpecs(
        sim_f=uf.app_sim,
        inputs=["x"],
        outputs=[("f", float), ("pids", int, 2)],
        user={"kill_slow": True, "slow_from": -10.0},
    )
    pids = out_of_time_pids(sim, comms, tmp_path)
    assert len(pids) == 4 and all(gone(p) for p in pids)


@pytest.mark.parametrize("comms", ["local", "tcp"])
def test_worker_process_stopped_by_the_manager_stops_its_applications(comms, tmp_path):
    sim = SimSpecs(sim_f=uf.stuck_app_sim, inputs=["x"], outputs=[("f", float)])
    pids = out_of_time_pids(sim, comms, tmp_path)
    assert len(pids) == 4 and all(gone(p) for p in pids)


def test_timed_out_simulation_stops_its_application(tmp_path):
    sim = SimSpecs(sim_f=uf.stuck_app_sim, inputs=["x"], outputs=[("f", float)], timeout=0.3)
    H, _, _ = libE(
        sim,
        GEN,
        ExitCriteria(sim_max=2),
        libE_specs=quiet("local", on_sim_error="continue"),
        executor=apps(),
    )
    assert H["sim_failed"].sum() >= 2
    pids = pids_written(tmp_path)
    assert len(pids) >= 4 and all(gone(p) for p in pids)


@pytest.mark.parametrize(
    "nodes, dedicated_mode, shares",
    [
        (("n1", "n2", "n3", "n4"), False, {1: {"n1,n2"}, 2: {"n3,n4"}}),
        # dedicated_mode: nothing launched on the node the ensemble runs on
        ((socket.gethostname(), "n2", "n3"), True, {1: {"n2"}, 2: {"n3"}}),
    ],
)
def test_workers_launch_on_their_own_nodes(nodes, dedicated_mode, shares):
    exctr = MPIExecutor(mpi_runner="mpich", runner_path="mpiexec")
    exctr.register_app("/apps/sim", calc_type="sim")
    sim = SimSpecs(sim_f=uf.hosts_sim, inputs=["x"], outputs=[("hosts", "U20")])
    job = Resources(nodes=nodes, cores_per_node=8)
    H, _, _ = libE(
        sim,
        GEN,
        ExitCriteria(sim_max=12),
        libE_specs=quiet("local", resources=job, dedicated_mode=dedicated_mode),
        executor=exctr,
    )
    done = H[H["sim_ended"]]
    by_worker = {int(w): set(done["hosts"][done["sim_worker"] == w]) for w in (1, 2)}
    assert by_worker == shares


def test_wrong_executor_or_resources_are_named():
    sim = SimSpecs(sim_f=uf.app_sim, inputs=["x"], outputs=[("f", float)])
    with pytest.raises(SpecError, match="executor is a str; pass a libens.executors.Executor"):
        libE(sim, GEN, ExitCriteria(sim_max=1), libE_specs=quiet("threads"), executor="mpiexec")
    with pytest.raises(SpecError, match="LibeSpecs.resources is a dict"):
        libE(sim, GEN, ExitCriteria(sim_max=1), libE_specs=quiet("threads", resources={}))
