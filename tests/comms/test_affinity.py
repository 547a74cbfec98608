"""Thread comms keep libens' own code on one CPU and give user functions all of them
(libens.comms.affinity). On a machine with a single allowed CPU nothing is pinned and the
same assertions hold: "one CPU" and "all CPUs" are then the same set."""

from __future__ import annotations

import os
import threading

import numpy as np

from libens import libE
from libens.alloc import give_sim_work_first
from libens.comms.affinity import CorePlacement, user_code, waiting
from libens.gens.sampling import uniform_random_sample

ALL = os.sched_getaffinity(0)


def _in_thread(f):
    box = {}
    t = threading.Thread(target=lambda: box.update(out=f()))
    t.start()
    t.join()
    return box["out"]


def test_framework_code_on_one_cpu_user_code_on_all_and_a_wait_inside_user_code_back_on_one():
    def steps():
        seen = [os.sched_getaffinity(0)]
        placement = CorePlacement.here()
        if placement is None:  # a single CPU: nothing to place
            return [seen[0]] * 6, None
        placement.join()
        seen.append(os.sched_getaffinity(0))
        with user_code:
            seen.append(os.sched_getaffinity(0))
            with waiting:  # a persistent generator waiting for results
                seen.append(os.sched_getaffinity(0))
            seen.append(os.sched_getaffinity(0))
        seen.append(os.sched_getaffinity(0))
        placement.leave()
        seen.append(os.sched_getaffinity(0))
        return seen[1:], placement.home

    seen, home = _in_thread(steps)
    home = home or ALL
    assert len(home) == 1 and home <= ALL
    assert seen == [home, ALL, home, ALL, home, ALL]


def test_edges_do_nothing_in_a_thread_no_pool_placed():
    def steps():
        with user_code, waiting:
            inside = os.sched_getaffinity(0)
        return inside, os.sched_getaffinity(0)

    assert _in_thread(steps) == (ALL, ALL)


def _observed_run(one_cpu: bool) -> tuple[np.ndarray, set[int], set[int]]:
    manager_cpus: list[set[int]] = []

    def sim_f(H, persis_info, sim_specs, libE_info):
        out = np.zeros(len(H), dtype=[("f", float), ("ncpu", int)])
        out["f"] = H["x"][:, 0]
        out["ncpu"] = len(os.sched_getaffinity(0))
        return out, persis_info

    def alloc_f(W, H, sim_specs, gen_specs, alloc_specs, persis_info, libE_info):
        manager_cpus.append(os.sched_getaffinity(0))
        return give_sim_work_first(W, H, sim_specs, gen_specs, alloc_specs, persis_info, libE_info)

    def run():
        H, _, flag = libE(
            {"sim_f": sim_f, "in": ["x"], "out": [("f", float), ("ncpu", int)]},
            {
                "gen_f": uniform_random_sample,
                "out": [("x", float, (2,))],
                "user": {"lb": np.zeros(2), "ub": np.ones(2), "gen_batch_size": 8},
            },
            {"sim_max": 24},
            None,
            {"alloc_f": alloc_f},
            {
                "comms": "threads",
                "nworkers": 2,
                "threads_on_one_cpu": one_cpu,
                "save_H_on_completion": False,
            },
        )
        assert flag == 0
        return H, os.sched_getaffinity(0)

    H, after = _in_thread(run)
    return H, set.union(*manager_cpus), after


def test_a_threads_run_allocates_on_one_cpu_runs_user_functions_on_all_and_restores_the_caller():
    H, manager_cpus, after = _observed_run(one_cpu=True)
    assert H["sim_ended"].sum() == 24
    assert set(H["ncpu"][H["sim_ended"]].tolist()) == {len(ALL)}
    assert len(manager_cpus) == 1
    assert after == ALL


def test_threads_on_one_cpu_false_leaves_placement_to_the_os():
    H, manager_cpus, after = _observed_run(one_cpu=False)
    assert set(H["ncpu"][H["sim_ended"]].tolist()) == {len(ALL)}
    assert manager_cpus == ALL
    assert after == ALL
