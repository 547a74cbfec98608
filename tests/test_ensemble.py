"""End-to-end engine behaviour, run against every on-one-machine comms."""

from __future__ import annotations

import numpy as np
import pytest
import userfuncs as uf

from libens import AllocSpecs, Ensemble, ExitCriteria, GenSpecs, LibeSpecs, SimSpecs, libE
from libens.alloc import give_pregenerated_work, only_persistent_gens, start_only_persistent
from libens.gens.sampling import persistent_uniform, uniform_random_sample
from libens.history import RESERVED_NAMES
from libens.sims import six_hump_camel, six_hump_camel_func

SIM = SimSpecs(sim_f=uf.sphere, inputs=["x"], outputs=[("f", float)])
GEN_OUT = [("x", float, 2)]


def quiet(comms, nworkers=2, **kw):
    return LibeSpecs(
        comms=comms, nworkers=nworkers, disable_log_files=True, save_H_on_completion=False, **kw
    )


def persistent_gen(**user):
    return GenSpecs(
        gen_f=uf.recording_gen, persis_in=["x", "f", "gen_worker"], outputs=GEN_OUT, user=user
    )


def test_batch_generator_with_give_sim_work_first(comms):
    sim = SimSpecs(sim_f=six_hump_camel, inputs=["x"], outputs=[("f", float)])
    gen = GenSpecs(
        gen_f=uniform_random_sample,
        outputs=GEN_OUT,
        user={"lb": [-3, -2], "ub": [3, 2], "gen_batch_size": 7},
    )
    H, persis_info, flag = libE(sim, gen, ExitCriteria(sim_max=30), libE_specs=quiet(comms))
    assert flag == 0
    assert RESERVED_NAMES <= set(H.dtype.names)
    done = H[H["sim_ended"]]
    assert len(done) == 30
    assert np.allclose(done["f"], [six_hump_camel_func(x) for x in done["x"]])
    assert np.array_equal(H["sim_id"], np.arange(len(H)))
    assert set(done["sim_worker"]) <= {1, 2}
    assert np.all(done["sim_started_time"] <= done["sim_ended_time"])
    assert np.all(H["gen_ended_time"] >= H["gen_started_time"])
    assert len(H) % 7 == 0


def test_dict_specs_and_three_argument_user_functions(comms):
    sim = {"sim_f": uf.sphere_three_args, "in": ["x"], "out": [("f", float)]}
    gen = {
        "gen_f": uniform_random_sample,
        "out": GEN_OUT,
        "user": {"lb": [-3, -2], "ub": [3, 2], "gen_batch_size": 5},
    }
    H, _, flag = libE(
        sim,
        gen,
        {"sim_max": 10},
        libE_specs={"comms": comms, "nworkers": 2, "disable_log_files": True},
    )
    done = H[H["sim_ended"]]
    assert len(done) == 10 and np.allclose(done["f"], np.sum(done["x"] ** 2, axis=1))


def test_undeclared_sim_fields_are_added(comms):
    sim = SimSpecs(sim_f=uf.sphere_with_extra_field, inputs=["x"], outputs=[("f", float)])
    gen = GenSpecs(gen_f=uf.batch_gen, outputs=GEN_OUT, user={"gen_batch_size": 4})
    H, _, _ = libE(sim, gen, ExitCriteria(sim_max=8), libE_specs=quiet(comms))
    assert "extra" in H.dtype.names
    assert np.all(H["extra"][H["sim_ended"]] == 7)


def test_H0_prepended_and_not_rerun(comms):
    H0 = np.zeros(6, dtype=[("x", float, 2), ("f", float), ("sim_ended", bool), ("sim_id", int)])
    H0["x"] = np.arange(12).reshape(6, 2)
    H0["sim_id"] = np.arange(6)
    H0["sim_ended"][:4] = True
    H0["f"][:4] = -5.0
    gen = GenSpecs(gen_f=uf.batch_gen, outputs=GEN_OUT, user={"gen_batch_size": 3})
    H, _, _ = libE(SIM, gen, ExitCriteria(sim_max=5), libE_specs=quiet(comms), H0=H0)
    assert np.array_equal(H["x"][:6], H0["x"])
    assert np.all(H["f"][:4] == -5.0)
    assert not H["sim_started_time"][:4].any() or np.all(np.isinf(H["sim_started_time"][:4]))
    assert np.allclose(H["f"][4:6], np.sum(H0["x"][4:6] ** 2, axis=1))
    assert H["sim_ended"].sum() == 4 + 5


def test_give_pregenerated_work_evaluates_H0_without_generator(comms):
    H0 = np.zeros(9, dtype=[("x", float, 2)])
    H0["x"] = np.random.default_rng(1).uniform(-1, 1, (9, 2))
    H, _, flag = libE(
        SIM,
        None,
        ExitCriteria(sim_max=100),
        alloc_specs=AllocSpecs(alloc_f=give_pregenerated_work),
        libE_specs=quiet(comms),
        H0=H0,
    )
    assert flag == 0 and len(H) == 9 and H["sim_ended"].all()
    assert np.allclose(H["f"], np.sum(H0["x"] ** 2, axis=1))


def test_persistent_batch_return_waits_for_whole_batch(comms):
    H, persis_info, _ = libE(
        SIM,
        persistent_gen(b=4),
        ExitCriteria(sim_max=16),
        alloc_specs=AllocSpecs(alloc_f=only_persistent_gens),
        libE_specs=quiet(comms, nworkers=3),
    )
    informed = H[H["gen_informed"]]
    for t in np.unique(informed["gen_ended_time"]):
        batch = H[H["gen_ended_time"] == t]
        assert len(batch) == 4
        assert len(np.unique(batch["gen_informed_time"])) == 1
        assert batch["gen_informed_time"][0] >= batch["sim_ended_time"].max()
    assert set(persis_info[1]["sizes"]) == {4}


def test_persistent_async_return_gives_results_as_they_arrive(comms):
    gen = persistent_gen(b=4)
    gen.async_return = True
    H, persis_info, _ = libE(
        SIM,
        gen,
        ExitCriteria(sim_max=16),
        alloc_specs=AllocSpecs(alloc_f=only_persistent_gens),
        libE_specs=quiet(comms, nworkers=3),
    )
    sizes = persis_info[1]["sizes"]
    assert sizes and sizes[0] < 4
    assert H["sim_ended"].sum() >= 16


def test_gen_on_manager_lets_every_worker_evaluate(comms):
    H, _, _ = libE(
        SIM,
        persistent_gen(b=2),
        ExitCriteria(sim_max=20),
        alloc_specs=AllocSpecs(alloc_f=only_persistent_gens),
        libE_specs=quiet(comms, nworkers=2, gen_on_manager=True),
    )
    assert set(H["gen_worker"]) == {0}
    assert set(H["sim_worker"][H["sim_ended"]]) == {1, 2}


def test_two_active_persistent_gens_get_their_own_results(comms):
    gen = persistent_gen(b=2, check_own=True)
    gen.num_active_gens = 2
    H, persis_info, _ = libE(
        SIM,
        gen,
        ExitCriteria(sim_max=20),
        alloc_specs=AllocSpecs(alloc_f=start_only_persistent),
        libE_specs=quiet(comms, nworkers=4),
    )
    gens = sorted(set(H["gen_worker"].tolist()))
    assert len(gens) == 2
    # each generator checks that every batch holds only its own rows (check_own); here every
    # row the manager marked as given back reached the generator that made it. (Whether the
    # second generator's first batch ends before sim_max is up to the machine's timing.)
    received = {w: sum(persis_info[w].get("sizes", [])) for w in gens}
    informed = {w: int(np.sum(H["gen_informed"] & (H["gen_worker"] == w))) for w in gens}
    assert received == informed
    assert sum(received.values()) > 0


def test_generator_that_returns_ends_the_run(comms):
    H, _, flag = libE(
        SIM,
        persistent_gen(b=3, max_batches=2),
        ExitCriteria(sim_max=1000),
        alloc_specs=AllocSpecs(alloc_f=only_persistent_gens),
        libE_specs=quiet(comms, nworkers=3),
    )
    assert flag == 0
    assert len(H) == 6
    assert H["sim_ended"].sum() == 6


def test_cancelled_points_are_never_evaluated(comms):
    gen = GenSpecs(gen_f=uf.cancelling_gen, outputs=GEN_OUT)
    H, _, _ = libE(
        SIM,
        gen,
        ExitCriteria(sim_max=5),
        alloc_specs=AllocSpecs(alloc_f=only_persistent_gens),
        libE_specs=quiet(comms, nworkers=3),
    )
    assert len(H) == 10
    assert H["cancel_requested"][5:].all() and not H["cancel_requested"][:5].any()
    assert not H["sim_started"][5:].any()
    assert H["sim_ended"][:5].all()


def test_kill_canceled_sims_kills_running_points(comms):
    sim = SimSpecs(sim_f=uf.killable_sim, inputs=["x"], outputs=[("f", float)])
    gen = GenSpecs(gen_f=uf.kill_gen, outputs=GEN_OUT, async_return=True)
    H, _, _ = libE(
        sim,
        gen,
        ExitCriteria(sim_max=3),
        alloc_specs=AllocSpecs(alloc_f=only_persistent_gens),
        libE_specs=quiet(comms, nworkers=3, kill_canceled_sims=True),
    )
    assert H["cancel_requested"].tolist() == [False, True]
    assert H["kill_sent"].tolist() == [False, True]
    assert H["sim_ended"].all()


def test_final_gen_send_delivers_last_results(comms):
    for final in (True, False):
        _, persis_info, _ = libE(
            SIM,
            persistent_gen(b=2),
            ExitCriteria(sim_max=7),
            alloc_specs=AllocSpecs(alloc_f=only_persistent_gens, user={"async_return": True}),
            libE_specs=quiet(comms, nworkers=3, final_gen_send=final),
        )
        assert (persis_info[1]["final_rows"] > 0) == final


def test_active_recv_gen_may_send_before_receiving(comms):
    gen = GenSpecs(
        gen_f=uf.active_recv_gen,
        persis_in=["f"],
        outputs=GEN_OUT,
        active_recv_gen=True,
        async_return=True,
    )
    H, persis_info, _ = libE(
        SIM,
        gen,
        ExitCriteria(sim_max=6),
        alloc_specs=AllocSpecs(alloc_f=only_persistent_gens),
        libE_specs=quiet(comms, nworkers=3, final_gen_send=True),
    )
    assert len(H) == 6 and H["sim_ended"].all()
    assert persis_info[1]["received"] == 6


def test_persistent_uniform_with_ensemble_class(comms):
    gen = GenSpecs(
        gen_f=persistent_uniform,
        persis_in=["f"],
        outputs=GEN_OUT,
        user={"lb": [-3, -2], "ub": [3, 2], "initial_batch_size": 5},
    )
    ens = Ensemble(
        sim_specs=SIM,
        gen_specs=gen,
        exit_criteria=ExitCriteria(sim_max=25),
        alloc_specs=AllocSpecs(alloc_f=only_persistent_gens),
        libE_specs=quiet(comms, 3),
    )
    H, _, flag = ens.run()
    assert flag == 0 and H["sim_ended"].sum() == 25


@pytest.mark.parametrize("criterion", ["gen_max", "stop_val"])
def test_exit_criteria(comms, criterion):
    gen = GenSpecs(gen_f=uf.batch_gen, outputs=GEN_OUT, user={"gen_batch_size": 4})
    if criterion == "gen_max":
        H, _, flag = libE(SIM, gen, ExitCriteria(gen_max=12), libE_specs=quiet(comms))
        assert 12 <= len(H) < 16
    else:
        H, _, flag = libE(
            SIM, gen, ExitCriteria(stop_val=("f", 1.0), sim_max=10**5), libE_specs=quiet(comms)
        )
        done = H[H["sim_ended"]]
        assert done["f"].min() <= 1.0
    assert flag == 0


def test_wallclock_max_with_running_work_gives_flag_2(comms):
    sim = SimSpecs(sim_f=uf.slow_sim, inputs=["x"], outputs=[("f", float)], user={"delay": 3})
    gen = GenSpecs(gen_f=uf.batch_gen, outputs=GEN_OUT, user={"gen_batch_size": 2})
    H, _, flag = libE(
        sim, gen, ExitCriteria(wallclock_max=0.5), libE_specs=quiet(comms, worker_timeout=0.5)
    )
    assert flag == 2
    assert not H["sim_ended"].any()


def test_threaded_sim_runs_each_call_in_its_own_thread():
    sim = SimSpecs(sim_f=uf.thread_name_sim, inputs=["x"], outputs=[("f", float)], threaded=True)
    gen = GenSpecs(gen_f=uf.batch_gen, outputs=GEN_OUT, user={"gen_batch_size": 4})
    _, persis_info, _ = libE(
        sim,
        gen,
        ExitCriteria(sim_max=4),
        libE_specs=quiet("local", nworkers=1, chunk_short_sims=False),
    )
    names = persis_info[1]["threads"]
    assert len(names) == 4 and all(n.startswith("libens-user-") for n in names)


def _work_orders(done: np.ndarray) -> list[int]:
    """Points per work order: rows a worker started together share one start time."""
    _, sizes = np.unique(done[["sim_worker", "sim_started_time"]], return_counts=True)
    return sizes.tolist()


def _run_in_batches(sim: SimSpecs, size: int, sim_max: int) -> np.ndarray:
    """A persistent sampler asking for ``size`` points at a time, 3 simulation workers."""
    gen = GenSpecs(
        gen_f=persistent_uniform,
        persis_in=["f", "x"],
        outputs=GEN_OUT,
        user={"lb": [-3, -2], "ub": [3, 2], "initial_batch_size": size},
    )
    H, _, _ = libE(
        sim,
        gen,
        ExitCriteria(sim_max=sim_max),
        libE_specs=quiet("local", nworkers=4),
        alloc_specs=AllocSpecs(alloc_f=only_persistent_gens),
    )
    return H


def test_tiny_simulations_of_a_batch_go_to_one_worker_in_one_message():
    H = _run_in_batches(SIM, 4, sim_max=400)
    orders = _work_orders(H[H["sim_ended"]])
    assert max(orders) == 4
    assert orders.count(4) >= 50  # of 100 batches; the first waits for a measured call time


def test_a_chunk_whose_calls_return_different_dtypes_keeps_every_value():
    sim = SimSpecs(sim_f=uf.sphere_mixed_precision, inputs=["x"], outputs=[("f", float)])
    H = _run_in_batches(sim, 4, sim_max=200)
    done = H[H["sim_ended"]]
    assert max(_work_orders(done)) == 4  # chunks mixed both dtypes
    want = np.sum(done["x"] ** 2, axis=1)
    single = done["sim_id"] % 2 == 1
    assert np.allclose(done["f"][single], want[single], rtol=1e-6)
    assert np.array_equal(done["f"][~single], want[~single])


def test_short_simulations_are_spread_over_the_idle_workers_in_chunks():
    sim = SimSpecs(
        sim_f=uf.slow_sphere, inputs=["x"], outputs=[("f", float)], user={"delay": 0.002}
    )
    H = _run_in_batches(sim, 6, sim_max=60)
    later = H[H["sim_ended"] & (H["sim_id"] >= 6)]  # the first batch came before a call time
    assert max(_work_orders(later)) == 2  # 6 points over 3 idle workers
    assert set(later["sim_worker"]) == {2, 3, 4}
