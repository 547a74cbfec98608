"""Resource sets in a run: each simulation is lent the sets its point asks for, no set is
lent twice at once, and what a worker launches fits the team it was lent."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
import userfuncs as uf

from libens import AllocSpecs, ExitCriteria, GenSpecs, LibeSpecs, SimSpecs, libE
from libens.alloc import WORKER_DTYPE, AllocSupport, give_pregenerated_work, only_persistent_gens
from libens.errors import ResourceError, SpecError
from libens.executors import MPIExecutor
from libens.gens.sampling import uniform_random_sample
from libens.resources import InsufficientFreeResources, Resources, ResourceSets
from libens.resources.sets import Lending

APPS = Path(__file__).parents[1] / "executors" / "apps"
# 4 sets of 2 cores and 1 GPU each
NODE = Resources(nodes=("n0",), cores_per_node=8, gpu_ids=("0", "1", "2", "3"), local=True)
TEAM_OUT = [("team", int, 4), ("cores", int), ("gpus", "U16")]
PREGIVEN = AllocSpecs(alloc_f=give_pregenerated_work)


def specs(comms: str, nworkers: int, **kw) -> LibeSpecs:
    """4 sets of NODE, quiet; ``kw`` adds or replaces fields."""
    fields = {"num_resource_sets": 4, "resources": NODE, "disable_log_files": True}
    return LibeSpecs(comms=comms, nworkers=nworkers, save_H_on_completion=False, **fields | kw)


def points(*asks: int) -> np.ndarray:
    H0 = np.zeros(len(asks), dtype=[("x", float, 2), ("resource_sets", int)])
    H0["resource_sets"] = asks
    return H0


def run_points(asks: list[int], comms: str = "local", nworkers: int = 3, **kw):
    """Evaluates one point per entry of ``asks``, each asking for that many sets."""
    sim = SimSpecs(sim_f=uf.team_sim, inputs=["x"], outputs=kw.pop("outputs", TEAM_OUT))
    libE_specs = specs(comms, nworkers, **kw.pop("libE_specs", {}))
    H, _, flag = libE(
        sim,
        None,
        ExitCriteria(sim_max=len(asks)),
        alloc_specs=kw.pop("alloc_specs", PREGIVEN),
        libE_specs=libE_specs,
        H0=points(*asks),
        **kw,
    )
    return H, flag


def lent(row: np.void) -> set[int]:
    return {int(r) for r in row["team"] if r >= 0}


def assert_no_set_lent_twice_at_once(H: np.ndarray) -> None:
    """Two simulations that held a set in common ran one after the other (the manager's
    own times: a team is given back when its result is received)."""
    done = H[H["sim_ended"]]
    for a, b in itertools.combinations(done, 2):
        if lent(a) & lent(b):
            assert (
                a["sim_ended_time"] <= b["sim_started_time"]
                or b["sim_ended_time"] <= a["sim_started_time"]
            ), (a, b)


def test_each_simulation_is_lent_the_sets_its_point_asks_for(comms):
    asks = [1, 2, 3, 1, 4, 2, 1, 1, 3, 2]
    H, flag = run_points(asks, comms)
    assert flag == 0 and H["sim_ended"].all()
    assert [len(lent(row)) for row in H] == asks
    assert H["cores"].tolist() == [2 * k for k in asks]
    assert [len(g.split(",")) for g in H["gpus"]] == asks
    for row in H:  # a set's cores and GPU go together: set r has GPU r
        assert sorted(row["gpus"].split(",")) == sorted(str(r) for r in lent(row))
    assert_no_set_lent_twice_at_once(H)


def test_points_wait_for_sets_when_workers_outnumber_them():
    gen = GenSpecs(
        gen_f=uniform_random_sample,
        outputs=[("x", float, 2)],
        user={"lb": [0, 0], "ub": [1, 1], "gen_batch_size": 6},
    )
    sim = SimSpecs(sim_f=uf.team_sim, inputs=["x"], outputs=TEAM_OUT)
    H, _, _ = libE(sim, gen, ExitCriteria(sim_max=30), libE_specs=specs("local", 6))
    done = H[H["sim_ended"]]
    assert len(done) >= 30
    assert all(len(lent(row)) == 1 for row in done)  # no resource_sets field: one set each
    assert_no_set_lent_twice_at_once(H)


def test_an_mpi_launch_fits_the_team():
    exctr = MPIExecutor(mpi_runner="mpich", runner_path="mpiexec")
    exctr.register_app(APPS / "ranks.py", calc_type="sim")
    asks = [2, 1, 4, 3]
    out = [*TEAM_OUT, ("procs", int), ("gpu_env", "U16")]
    H, _ = run_points(asks, nworkers=2, outputs=out, executor=exctr)
    assert H["procs"].tolist() == [2 * k for k in asks]  # every core of the team
    assert H["gpu_env"].tolist() == H["gpus"].tolist()


def test_a_point_asking_for_more_sets_than_exist_stops_the_run_and_keeps_results(tmp_path):
    with pytest.raises(ResourceError, match="asks for 5 resource sets; the job has 4"):
        run_points([1, 2, 4, 5], nworkers=1, libE_specs={"save_H_and_persis_on_abort": True})
    H = np.load(tmp_path / "libE_history_at_abort.npy")
    assert H["sim_ended"].tolist() == [True, True, True, False]
    assert H["cores"][:3].tolist() == [2, 4, 8]


def test_a_point_waiting_for_sets_is_not_overtaken_by_smaller_ones():
    H, _ = run_points([3, 4, 1, 1])
    started = H["sim_started_time"]
    assert started[1] >= H["sim_ended_time"][0]  # all four sets: after the first gave 3 back
    assert started[2] >= started[1] and started[3] >= started[1]


def test_a_generator_is_lent_sets_for_as_long_as_it_runs():
    gen = GenSpecs(
        gen_f=uf.team_gen,
        outputs=[("x", float, 2), ("gen_team", int, 4), ("gen_cores", int)],
        user={"b": 3},
    )
    sim = SimSpecs(sim_f=uf.team_sim, inputs=["x"], outputs=TEAM_OUT)
    H, _, _ = libE(
        sim,
        gen,
        ExitCriteria(sim_max=20),
        alloc_specs=AllocSpecs(alloc_f=only_persistent_gens),
        libE_specs=specs("local", 4, gen_on_manager=False, gen_num_procs=4),
    )
    gen_sets = {int(r) for r in H["gen_team"][0] if r >= 0}
    assert len(gen_sets) == 2 and (H["gen_cores"] == 4).all()
    assert (H["gen_team"] == H["gen_team"][0]).all()
    done = H[H["sim_ended"]]
    assert len(done) >= 20
    assert all(len(lent(row)) == 1 and not lent(row) & gen_sets for row in done)
    assert_no_set_lent_twice_at_once(H)


def test_generator_sets_need_resource_sets():
    with pytest.raises(SpecError, match="gen_num_procs / gen_num_gpus .*set num_resource_sets"):
        LibeSpecs(gen_num_gpus=1)


def test_a_lost_worker_gives_its_sets_back(tmp_path):
    """The only set is with the worker that dies: the run goes on only if it comes back."""
    sim = SimSpecs(
        sim_f=uf.die_once_sim,
        inputs=["x"],
        outputs=[("f", float)],
        user={"marker": str(tmp_path / "died")},
    )
    one_set = specs("local", 3, on_worker_lost="requeue", num_resource_sets=1)
    H, _, flag = libE(
        sim,
        None,
        ExitCriteria(sim_max=6),
        alloc_specs=PREGIVEN,
        libE_specs=one_set,
        H0=points(1, 1, 1, 1, 1, 1),
    )
    assert flag == 0 and H["sim_ended"].all() and not H["sim_failed"].any()
    assert (tmp_path / "died").exists() and 1 not in set(H["sim_worker"])


def test_a_failed_simulation_gives_its_sets_back():
    """The only set is lent to a simulation that raises; the run goes on past it."""
    H0 = points(1, 1, 1, 1)
    H0["x"][1] = [2.0, 0.0]  # flaky_sim raises for x[0] > 1
    sim = SimSpecs(sim_f=uf.flaky_sim, inputs=["x"], outputs=[("f", float)])
    one_set = specs("local", 2, on_sim_error="continue", num_resource_sets=1)
    H, _, flag = libE(
        sim, None, ExitCriteria(sim_max=4), alloc_specs=PREGIVEN, libE_specs=one_set, H0=H0
    )
    assert flag == 0 and H["sim_ended"].all()
    assert H["sim_failed"].tolist() == [False, True, False, False]


def test_an_alloc_f_using_sim_work_gets_teams_or_stops_giving():
    """A libEnsemble-style alloc_f: sim_work reserves the sets or raises
    InsufficientFreeResources, and the alloc_f stops there (points keep their order)."""
    H, flag = run_points([3, 4, 1, 1], alloc_specs=AllocSpecs(alloc_f=uf.rset_alloc))
    assert flag == 0 and [len(lent(row)) for row in H] == [3, 4, 1, 1]
    started = H["sim_started_time"]
    assert started[1] >= H["sim_ended_time"][0] and min(started[2:]) >= started[1]
    assert_no_set_lent_twice_at_once(H)


def test_sim_work_reserves_the_sets_of_its_points_or_raises():
    book = Lending(ResourceSets(NODE, 4))
    support = AllocSupport(np.zeros(3, dtype=WORKER_DTYPE), True, {}, {"resource_lending": book})
    H = points(3, 2)
    assert support.sim_work(1, H, ["x"], [0], None)["libE_info"]["rset_team"] == [0, 1, 2]
    with pytest.raises(InsufficientFreeResources):
        support.sim_work(2, H, ["x"], [1], None)
    assert book.lend(1, 3, [0, 1, 2]) == (0, 1, 2)  # the order that names them is sent
    book.reserve(1)
    book.unreserve()  # reserved for an order that was not sent: free again
    assert book.sets.take(1) == (3,)


def test_generator_gpus_the_job_lacks_stop_the_run_before_it_starts(tmp_path):
    cpu_only = Resources(nodes=("n0",), cores_per_node=8, local=True)
    with pytest.raises(ResourceError, match="LibeSpecs.gen_num_gpus=2, but the 4 resource"):
        run_points([1], libE_specs={"gen_num_gpus": 2, "resources": cpu_only})
    assert not list(tmp_path.iterdir())  # nothing ran, nothing written
