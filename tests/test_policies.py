"""How the shipped allocation policies pick points and workers."""

from __future__ import annotations

import numpy as np
import pytest
import userfuncs as uf

from libens import AllocSpecs, ExitCriteria, LibensError, LibeSpecs, SimSpecs, libE
from libens.alloc import (
    AllocSupport,
    WorkerTable,
    fast_alloc,
    give_pregenerated_work,
    give_sim_work_first,
    only_persistent_gens,
    start_only_persistent,
)
from libens.alloc.support import PendingPoints

SIM = SimSpecs(sim_f=uf.sphere, inputs=["x"], outputs=[("f", float)])


def test_points_in_generation_order_come_k_at_a_time_and_chunks_are_marked():
    H = np.zeros(5, dtype=[("x", float)])
    points = PendingPoints(dict.fromkeys([3, 0, 4]), H)
    assert points.take(k=2).tolist() == [3, 0]
    assert points.left()
    assert points.take(k=2).tolist() == [4]
    assert not points.left()
    assert len(points.take(k=2)) == 0
    assert points.chunk_starts == {3}


def test_points_with_a_priority_field_come_highest_first_each_once():
    H = np.zeros(6, dtype=[("x", float), ("priority", float)])
    H["priority"] = [1, 5, 5, 2, 9, 0]
    points = PendingPoints(dict.fromkeys(range(6)), H)
    assert points.take().tolist() == [4]
    assert points.take(batch=True).tolist() == [1, 2]  # all of the top priority
    assert points.take(k=3).tolist() == [3]  # one point: k is for chunks in order
    assert points.take().tolist() == [0]
    assert points.take().tolist() == [5]
    assert len(points.take()) == 0
    assert points.chunk_starts == set()


def test_H0_points_are_evaluated_in_priority_order():
    H0 = np.zeros(12, dtype=[("x", float, 2), ("priority", float)])
    H0["x"] = np.arange(24).reshape(12, 2)
    H0["priority"] = np.random.default_rng(3).permutation(12)
    H, _, flag = libE(
        SIM,
        None,
        ExitCriteria(sim_max=12),
        alloc_specs=AllocSpecs(alloc_f=give_pregenerated_work),
        libE_specs=LibeSpecs(comms="threads", nworkers=1, disable_log_files=True),
        H0=H0,
    )
    order = np.argsort(H["sim_started_time"], kind="stable")
    assert H["sim_ended"].all()
    assert H["priority"][order].tolist() == sorted(H0["priority"].tolist(), reverse=True)
    assert np.allclose(H["f"], np.sum(H0["x"] ** 2, axis=1))


def test_a_shipped_policy_needs_the_managers_libE_info():
    table = WorkerTable([1, 2])
    H = np.zeros(2, dtype=[("x", float), ("sim_started", bool)])
    info = {"sim_max_given": False, "any_idle_workers": True}
    with pytest.raises(LibensError, match=r"worker_table.*pass on the libE_info"):
        only_persistent_gens(table.W, H, {"in": ["x"]}, None, {}, {}, info)


def test_alloc_support_without_index_sets_scans_H_and_never_gives_a_point_twice():
    W = WorkerTable([1, 2, 3]).W
    H = np.zeros(4, dtype=[("x", float), ("sim_started", bool), ("cancel_requested", bool)])
    H["sim_started"][0] = True
    H["cancel_requested"][2] = True
    support = AllocSupport(W)
    taken = [support.take_points(H).tolist() for _ in range(3)]
    assert taken == [[1], [3], []]


def _run_policy(alloc_f, gen_kind: str, nworkers: int, safe_mode: bool, **user):
    from libens import GenSpecs
    from libens.gens.sampling import persistent_uniform, uniform_random_sample
    from libens.tools import add_unique_random_streams

    bounds = {"lb": np.array([-1.0, -2.0]), "ub": np.array([1.0, 2.0])}
    H0 = None
    if gen_kind == "none":
        gen = None
        H0 = np.zeros(9, dtype=[("x", float, 2)])
        H0["x"] = np.arange(18).reshape(9, 2)
    elif gen_kind == "batch":
        f = uniform_random_sample
        gen = GenSpecs(gen_f=f, outputs=[("x", float, (2,))], user={**bounds, "gen_batch_size": 3})
    else:
        f = persistent_uniform
        gen = GenSpecs(
            gen_f=f,
            persis_in=["f", "x"],
            outputs=[("x", float, (2,))],
            user={**bounds, "initial_batch_size": 3},
        )
    H, _, _ = libE(
        SIM,
        gen,
        ExitCriteria(sim_max=9),
        add_unique_random_streams({}, nworkers + 1),
        AllocSpecs(alloc_f=alloc_f, user=user),
        LibeSpecs(comms="threads", nworkers=nworkers, disable_log_files=True, safe_mode=safe_mode),
        H0=H0,
    )
    started = np.argsort(H["sim_started_time"][H["sim_started"]], kind="stable")
    return H, started


@pytest.mark.parametrize(
    ("alloc_f", "gen_kind", "nworkers", "user"),
    [
        (give_sim_work_first, "batch", 1, {}),
        (fast_alloc, "batch", 1, {}),
        (only_persistent_gens, "persistent", 2, {}),
        (only_persistent_gens, "persistent", 2, {"async_return": True}),
        (start_only_persistent, "persistent", 2, {}),
        (give_pregenerated_work, "none", 1, {}),
    ],
)
def test_the_manager_runs_a_shipped_policy_as_its_alloc_f_would(alloc_f, gen_kind, nworkers, user):
    # safe_mode calls the alloc_f and sends its Work dict; without it the manager runs the
    # policy's body and sends its typed orders: the same points must go to the same workers
    direct, direct_order = _run_policy(alloc_f, gen_kind, nworkers, False, **user)
    called, called_order = _run_policy(alloc_f, gen_kind, nworkers, True, **user)
    assert direct["sim_ended"].sum() >= 9
    for field in ("x", "f", "sim_worker", "gen_worker", "sim_ended", "gen_informed"):
        assert np.array_equal(direct[field], called[field]), field
    assert np.array_equal(direct_order, called_order)
