"""Thread comms keep their threads on one CPU while the hand-overs dominate, and give user
code all the process's CPUs unless its recent stretches were tiny (libens.comms.affinity).
On a machine with a single allowed CPU nothing is pinned and the same assertions hold:
"one CPU" and "all CPUs" are then the same set."""

from __future__ import annotations

import os
import threading
import time
from types import SimpleNamespace

import numpy as np
import pytest

from libens import libE
from libens.alloc import give_sim_work_first
from libens.comms import affinity
from libens.comms.affinity import TINY_STRETCH, CorePlacement, UserCode, waiting
from libens.gens.sampling import uniform_random_sample

ALL = os.sched_getaffinity(0)


def _in_thread(f):
    box = {}
    t = threading.Thread(target=lambda: box.update(out=f()))
    t.start()
    t.join()
    return box["out"]


def _cpus() -> int:
    return len(os.sched_getaffinity(0))


@pytest.fixture
def clock(monkeypatch):
    now = [0.0]
    monkeypatch.setattr(affinity, "time", SimpleNamespace(perf_counter=lambda: now[0]))
    return now


def _placed(body):
    """``body()`` in a new thread that joined a pool's placement (and leaves it after), with
    the CPUs seen after leaving appended; None on a single-CPU machine (nothing to place)."""

    def run():
        placement = CorePlacement.here()
        if placement is None:
            return None
        placement.join()
        seen = body()
        placement.leave()
        return [*seen, _cpus()]

    return _in_thread(run)


def test_user_code_gets_all_cpus_until_its_stretches_are_tiny_and_again_after_a_long_one(clock):
    def body():
        sim_code = UserCode("sim")
        seen = [_cpus()]  # the pool's own code
        for took in (TINY_STRETCH / 10, TINY_STRETCH / 10, 50 * TINY_STRETCH, 0.0):
            with sim_code:
                seen.append(_cpus())
                clock[0] += took
            seen.append(_cpus())
        return seen

    seen, n = _placed(body), len(ALL)
    if seen is not None:
        # first stretch: all CPUs (unknown); after tiny ones: stays; after a long one: all
        assert seen == [1, n, 1, 1, 1, 1, 1, n, 1, n]


def test_a_chunk_of_calls_counts_by_its_time_per_call(clock):
    def body():
        chunk, seen = UserCode("sim"), []
        chunk.calls = 10
        for _ in range(2):
            with chunk:
                seen.append(_cpus())
                clock[0] += 10 * TINY_STRETCH / 2  # ten calls of half the limit each
        return seen

    seen = _placed(body)
    if seen is not None:
        assert seen == [len(ALL), 1, len(ALL)]


def test_a_generator_waiting_inside_user_code_waits_on_the_pool_cpu(clock):
    def body():
        seen = []
        with UserCode("gen"):  # a persistent generator: one call for the whole run
            seen.append(_cpus())  # its first stretch
            clock[0] += TINY_STRETCH / 10
            for _ in range(2):
                with waiting:
                    seen.append(_cpus())
                seen.append(_cpus())  # the next stretch, after tiny ones: stays
                clock[0] += TINY_STRETCH / 10
        seen.append(_cpus())
        return seen

    seen = _placed(body)
    if seen is not None:
        assert seen == [len(ALL), 1, 1, 1, 1, 1, len(ALL)]


def test_edges_do_nothing_in_a_thread_no_pool_placed():
    def steps():
        with UserCode("sim"), waiting:
            inside = os.sched_getaffinity(0)
        return inside, os.sched_getaffinity(0)

    assert _in_thread(steps) == (ALL, ALL)


def _tiny_sim(H, persis_info, sim_specs, libE_info):
    out = np.zeros(len(H), dtype=[("f", float), ("ncpu", int)])
    out["f"] = H["x"][:, 0]
    out["ncpu"] = _cpus()
    return out, persis_info


def _slow_sim(H, persis_info, sim_specs, libE_info):
    time.sleep(0.002)  # long enough to start a process: must see all CPUs
    return _tiny_sim(H, persis_info, sim_specs, libE_info)


def _observed_run(
    sim_f, n: int, one_cpu: bool = True, forbidden: bool = False
) -> tuple[np.ndarray, set[int], set[int]]:
    manager_cpus: list[set[int]] = []
    policies: set[int] = set()

    def alloc_f(W, H, sim_specs, gen_specs, alloc_specs, persis_info, libE_info):
        manager_cpus.append(os.sched_getaffinity(0))
        policies.add(os.sched_getscheduler(0))
        return give_sim_work_first(W, H, sim_specs, gen_specs, alloc_specs, persis_info, libE_info)

    def run():
        H, _, flag = libE(
            {"sim_f": sim_f, "in": ["x"], "out": [("f", float), ("ncpu", int)]},
            {
                "gen_f": uniform_random_sample,
                "out": [("x", float, (2,))],
                "user": {"lb": np.zeros(2), "ub": np.ones(2), "gen_batch_size": 4},
            },
            {"sim_max": n},
            None,
            {"alloc_f": alloc_f},
            {
                "comms": "threads",
                "nworkers": 1,
                "threads_on_one_cpu": one_cpu,
                "save_H_on_completion": False,
                "chunk_short_sims": False,
            },
        )
        assert flag == 0
        return H, os.sched_getaffinity(0), os.sched_getscheduler(0)

    H, after, policy_after = _in_thread(run)
    assert policy_after == os.SCHED_OTHER  # the caller's scheduling restored
    placed = one_cpu and len(ALL) > 1 and not forbidden
    assert policies == ({os.SCHED_BATCH} if placed else {os.SCHED_OTHER})
    H = H[H["sim_ended"]]
    return H[np.argsort(H["sim_started_time"])], set.union(*manager_cpus), after


def test_tiny_simulations_run_on_the_pool_cpu_after_the_first_and_the_caller_is_restored():
    H, manager_cpus, after = _observed_run(_tiny_sim, 40)
    assert len(H) == 40
    assert H["ncpu"][0] == len(ALL)  # the first call: all CPUs
    # then one CPU (a call that a busy machine stretches past TINY_STRETCH lets a few out)
    assert np.mean(H["ncpu"][1:] == 1) >= 0.5
    assert len(manager_cpus) == 1
    assert after == ALL


def test_longer_simulations_always_get_all_cpus():
    H, manager_cpus, after = _observed_run(_slow_sim, 8)
    assert set(H["ncpu"].tolist()) == {len(ALL)}
    assert len(manager_cpus) == 1 and after == ALL


def test_threads_on_one_cpu_false_leaves_placement_to_the_os():
    H, manager_cpus, after = _observed_run(_tiny_sim, 12, one_cpu=False)
    assert set(H["ncpu"].tolist()) == {len(ALL)}
    assert manager_cpus == ALL and after == ALL


def test_a_sandbox_that_forbids_scheduling_changes_costs_placement_nothing_else(monkeypatch):
    def refuse(*args):
        raise PermissionError("not here")

    monkeypatch.setattr(affinity.os, "sched_setscheduler", refuse)
    monkeypatch.setattr(affinity.os, "sched_setaffinity", refuse)
    H, manager_cpus, after = _observed_run(_tiny_sim, 8, forbidden=True)
    assert len(H) == 8 and np.all(H["f"] == H["x"][:, 0])
    assert manager_cpus == ALL and after == ALL
