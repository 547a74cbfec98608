"""The history array and its index sets."""

from __future__ import annotations

import numpy as np
import pytest

from libens.errors import GeneratorError
from libens.history import History, build_dtype


def make(capacity=2):
    return History(build_dtype([("x", float)], [("f", float)]), capacity=capacity)


def rows(n, **fields):
    out = np.zeros(n, dtype=[("x", float)] + [(k, type(v)) for k, v in fields.items()])
    out["x"] = np.arange(n)
    for k, v in fields.items():
        out[k] = v
    return out


@pytest.mark.parametrize(("capacity", "grown"), [(2, 16), (0, 24)])  # 0: starts at 1
def test_capacity_doubles_and_rows_survive(capacity, grown):
    h = make(capacity=capacity)
    for _ in range(5):
        h.append_generated(rows(3), gen_worker=1, now=1.0)
    assert h.n == 15 and len(h._H) == grown
    assert np.array_equal(h.H["sim_id"], np.arange(15))
    assert np.array_equal(h.H["x"], np.tile(np.arange(3.0), 5))


def test_index_sets_follow_the_life_of_a_point():
    h = make()
    ids = h.append_generated(rows(4), gen_worker=2, now=1.0)
    assert list(h.pending) == [0, 1, 2, 3] and h.outstanding[2] == 4
    h.mark_started(ids[:2], worker=1, now=2.0)
    assert list(h.pending) == [2, 3] and h.sim_started_count == 2
    out = np.zeros(2, dtype=[("f", float), ("new", int)])
    out["f"], out["new"] = [5.0, 6.0], 9
    h.mark_ended(ids[:2], out, now=3.0)
    assert "new" in h.dtype.names and h.H["new"][:2].tolist() == [9, 9]
    assert list(h.uninformed[2]) == [0, 1] and h.outstanding[2] == 2
    h.mark_informed(ids[:1], now=4.0)
    assert list(h.uninformed[2]) == [1] and h.gen_informed_count == 1
    running = h.cancel(np.array([1, 3]))
    assert running.tolist() == [] and list(h.pending) == [2] and h.outstanding[2] == 1


def test_rows_given_to_a_generator_again_keep_their_first_time_and_count_once():
    h = make()
    ids = h.append_generated(rows(3), gen_worker=2, now=1.0)
    h.mark_informed(ids[1:2], now=4.0)
    h.mark_informed(ids, now=5.0)
    assert h.H["gen_informed_time"].tolist() == [5.0, 4.0, 5.0]
    assert h.H["gen_informed"].all() and h.gen_informed_count == 3


@pytest.mark.parametrize(
    "user",
    [[("x", float)], [("x", float), ("o", object)], [("sim_started", bool), ("x", float)]],
    ids=["plain", "objects", "reserved-name-first"],
)
def test_event_fields_are_set_on_their_rows_only(user):
    h = History(np.dtype(user), capacity=2)  # any order given: reserved fields come first
    assert h.dtype.names[0] == "sim_id" and "x" in h.dtype.names
    gen = np.zeros(4, dtype=[("x", float)])
    gen["x"] = [1.0, 2.0, 3.0, 4.0]
    ids = h.append_generated(gen, gen_worker=3, now=2.0, gen_started=1.5)  # grew
    h.mark_started(ids[[1, 3]], worker=7, now=4.0)
    h.mark_ended(ids[[3]], None, now=5.0)
    h.mark_informed(ids[[3]], now=6.0)
    H = h.H
    assert H["x"].tolist() == [1.0, 2.0, 3.0, 4.0] and H["sim_id"].tolist() == [0, 1, 2, 3]
    assert H["gen_worker"].tolist() == [3] * 4
    assert H["gen_started_time"].tolist() == [1.5] * 4
    assert H["gen_ended_time"].tolist() == [2.0] * 4
    assert H["sim_worker"].tolist() == [0, 7, 0, 7]
    assert H["sim_started"].tolist() == [False, True, False, True]
    assert H["sim_started_time"].tolist() == [np.inf, 4.0, np.inf, 4.0]
    assert H["sim_ended"].tolist() == [False, False, False, True]
    assert H["sim_ended_time"].tolist() == [np.inf, np.inf, np.inf, 5.0]
    assert H["gen_informed"].tolist() == [False, False, False, True]
    assert H["gen_informed_time"].tolist() == [np.inf, np.inf, np.inf, 6.0]
    assert not H["cancel_requested"].any() and not H["sim_failed"].any()


@pytest.mark.parametrize(
    "fields",
    [["x"], ["v", "k"], ["k", "v"], ["f", "v"], ["s", "v", "sim_failed"], ["sim_id", "x"]],
)
def test_work_order_rows_are_packed_copies_of_the_named_fields(fields):
    spec = [("x", float), ("v", float, (2,)), ("k", np.int32, (3,)), ("s", "U3")]
    h = History(build_dtype(spec, [("f", float)]), capacity=4)
    gen = np.zeros(6, dtype=spec)
    gen["x"], gen["s"] = np.arange(6.0), list("abcdef")
    gen["v"], gen["k"] = np.arange(12.0).reshape(6, 2), np.arange(18).reshape(6, 3)
    ids = h.append_generated(gen, gen_worker=1, now=1.0)  # grew twice: views follow storage
    out = np.zeros(6, dtype=[("f", float)])
    out["f"] = -np.arange(6.0)
    h.mark_ended(ids, out, now=2.0)
    picked = np.array([4, 1, 1])
    got = h.rows(fields, picked)
    assert got.dtype.names == tuple(fields) and got.dtype.itemsize == sum(
        got.dtype.fields[f][0].itemsize for f in fields
    )
    for f in fields:
        assert np.array_equal(got[f], h.H[f][picked])
    got[fields[0]] = 0  # a copy: writing to it leaves the history alone
    assert np.array_equal(h.rows(fields, picked)[fields[0]], h.H[fields[0]][picked])


def test_work_order_rows_of_a_history_holding_objects():
    h = History(build_dtype([("v", float, (2,)), ("o", object)]), capacity=2)
    gen = np.zeros(3, dtype=[("v", float, (2,)), ("o", object)])
    gen["v"], gen["o"] = 1.5, ["a", 1, None]
    h.append_generated(gen, gen_worker=1, now=1.0)
    got = h.rows(["o", "v"], np.array([2, 0]))
    assert got["o"].tolist() == [None, "a"] and got["v"].tolist() == [[1.5, 1.5]] * 2


def test_generator_rows_with_sim_id_update_existing_rows():
    h = make()
    h.append_generated(rows(3), gen_worker=1, now=1.0)
    upd = np.zeros(2, dtype=[("x", float), ("sim_id", int)])
    upd["sim_id"], upd["x"] = [1, 3], [10.0, 30.0]
    h.append_generated(upd, gen_worker=1, now=2.0)
    assert h.H["x"].tolist() == [0.0, 10.0, 2.0, 30.0]
    bad = np.zeros(1, dtype=[("x", float), ("sim_id", int)])
    bad["sim_id"] = 9
    with pytest.raises(GeneratorError, match="must be numbered 4..4"):
        h.append_generated(bad, gen_worker=1, now=3.0)


def test_H0_rows_and_offsets():
    H0 = np.zeros(3, dtype=[("x", float), ("sim_ended", bool), ("f", float)])
    H0["sim_ended"] = [True, False, True]
    h = History(build_dtype([("x", float)], [("f", float)]), H0)
    assert h.offset == 3 and list(h.pending) == [1]
    assert h.H["sim_started"].tolist() == [True, False, True]


def test_H0_index_sets_per_generator():
    H0 = np.zeros(
        7,
        dtype=[
            ("x", float),
            ("gen_worker", int),
            ("sim_ended", bool),
            ("gen_informed", bool),
            ("cancel_requested", bool),
        ],
    )
    H0["gen_worker"] = [1, 2, 1, 2, 1, 2, 1]
    H0["sim_ended"] = [True, True, False, False, False, True, True]
    H0["gen_informed"] = [True, False, False, False, False, False, False]
    H0["cancel_requested"] = [False, False, False, False, True, False, False]
    h = History(build_dtype([("x", float)]), H0)
    assert list(h.pending) == [2, 3]  # not ended, not cancelled, in sim_id order
    assert h.outstanding == {1: 1, 2: 1}
    assert {g: list(u) for g, u in h.uninformed.items()} == {1: [6], 2: [1, 5]}
