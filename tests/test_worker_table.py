"""WorkerTable's Python-side indexes must always agree with its worker array W."""

import random

from libens.alloc import AllocSupport
from libens.alloc.workers import WorkerTable
from libens.messages import EVAL_GEN_TAG, EVAL_SIM_TAG


def _expected(table: WorkerTable) -> dict:
    W = table.W
    live = [int(w) for w in W["worker_id"] if int(w) in table.slot]
    rows = {int(r["worker_id"]): r for r in W}
    return {
        "idle": sorted(w for w in live if rows[w]["active"] == 0),
        "idle_plain": sorted(
            w for w in live if rows[w]["active"] == 0 and rows[w]["persis_state"] == 0
        ),
        "sims": sum(1 for w in live if rows[w]["active"] == EVAL_SIM_TAG),
        "gens": sum(1 for w in live if rows[w]["active"] == EVAL_GEN_TAG),
        "persis_gens": sum(1 for w in live if rows[w]["persis_state"] == EVAL_GEN_TAG),
        "recv": sum(1 for w in live if rows[w]["active_recv"]),
        "busy": sum(1 for w in live if rows[w]["active"] != 0),
    }


def _actual(table: WorkerTable) -> dict:
    return {
        "idle": sorted(table.idle),
        "idle_plain": sorted(table.idle_plain),
        "sims": table.count_active(EVAL_SIM_TAG),
        "gens": table.count_active(EVAL_GEN_TAG),
        "persis_gens": table.count(EVAL_GEN_TAG),
        "recv": table.recv_count,
        "busy": table.busy,
    }


def test_counts_and_idle_sets_follow_every_change_of_the_worker_array():
    rng = random.Random(7)
    table = WorkerTable(range(1, 7))
    next_id = 7  # ids are never reused, as in the pool
    for step in range(3000):
        live = sorted(table.slot)
        wid = rng.choice(live)
        action = rng.random()
        if action < 0.4:
            table.set_active(wid, rng.choice([0, EVAL_SIM_TAG, EVAL_GEN_TAG]))
        elif action < 0.75:
            tag = rng.choice([0, EVAL_GEN_TAG, EVAL_SIM_TAG])
            table.set_persistent(wid, tag, active_recv=rng.random() < 0.5)
        elif action < 0.8:
            table.add(next_id)
            next_id += 1
        elif action < 0.85 and len(live) > 2 and not table.persis[wid]:
            table.remove(wid)
        assert _actual(table) == _expected(table), f"step {step}"


def test_idle_worker_queries_agree_with_a_scan_of_the_worker_array():
    rng = random.Random(11)
    table = WorkerTable(range(1, 9), gen_workers=[1, 2, 5], zero_resource_workers=[1, 6])
    queries = [
        (persistent, recv, zrw, gen)
        for persistent in (None, 0, EVAL_GEN_TAG, EVAL_SIM_TAG)
        for recv in (False, True)
        for zrw in (None, False, True)
        for gen in (None, False, True)
    ]
    for step in range(400):
        wid = rng.choice(sorted(table.slot))
        if rng.random() < 0.5:
            table.set_active(wid, rng.choice([0, EVAL_SIM_TAG, EVAL_GEN_TAG]))
        else:
            table.set_persistent(
                wid, rng.choice([0, EVAL_GEN_TAG, EVAL_SIM_TAG]), active_recv=rng.random() < 0.5
            )
        scan = AllocSupport(table.W)  # no worker table given: it masks W
        for q in queries:
            assert table.avail(*q) == scan.avail_worker_ids(*q), f"step {step}, query {q}"


def test_the_worker_array_shows_the_tables_when_read():
    table = WorkerTable([1, 2, 3])
    W = table.W
    table.set_persistent(1, EVAL_GEN_TAG, active_recv=True)
    table.set_active(1, EVAL_GEN_TAG)
    table.set_active(2, EVAL_SIM_TAG)
    table.gen_started[1] = 5.0
    table.remove(3)
    assert table.W is W  # the same array for an alloc_f to keep, brought up to date
    assert W["active"].tolist() == [EVAL_GEN_TAG, EVAL_SIM_TAG, -1]
    assert W["persis_state"].tolist() == [EVAL_GEN_TAG, 0, 0]
    assert W["active_recv"].tolist() == [True, False, False]
    assert W["gen_started_time"].tolist() == [5.0, 0.0, 0.0]
    table.add(4)
    assert table.W["worker_id"].tolist() == [1, 2, 3, 4] and table.W["active"][3] == 0
