"""RunStore end to end without an engine: journal replay, summaries, and ``libens clean``."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from libens.errors import RunDirError
from libens.history import build_dtype
from libens.store import RunStore, load_history
from libens.store.clean import clean_run

SPEC = {"sim": {"outputs": ["f"]}, "exit": {"sim_max": 6}}


def recorded_run(path):
    """Six points; 0-3 finished (2 failed), 4 given out but never finished, 5 not started."""
    H = np.zeros(6, dtype=build_dtype([("x", float), ("f", float)]))
    H["sim_id"] = np.arange(6)
    H["x"] = np.arange(6) * 0.25
    store, previous = RunStore.open(path, SPEC)
    assert previous is None
    store.generated(H, np.arange(6))
    done = np.array([0, 1, 3])
    H["f"][done] = [3.0, 1.0, 2.0]
    H["sim_ended_time"][done] = [10.0, 11.0, 12.0]
    store.ended(H, done, ["f"])
    H["sim_failed"][2], H["sim_ended_time"][2] = True, 13.0
    store.ended(H, np.array([2]), ["f"], error="solver diverged")
    store.flush()
    store.close()
    return H


def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_replay_summaries_and_resume_reopen(tmp_path):
    recorded_run(tmp_path / "r")
    store, H = RunStore.open(tmp_path / "r", SPEC)
    try:
        assert H["sim_ended"].tolist() == [True] * 4 + [False] * 2
        assert H["sim_failed"].tolist() == [False, False, True, False, False, False]
        assert np.array_equal(H["x"], np.arange(6) * 0.25)
        store.write_summaries(H, "f")
    finally:
        store.close()
    summary = tmp_path / "r" / "summary"
    assert [int(r["sim_id"]) for r in read_csv(summary / "full.csv")] == list(range(6))
    assert [int(r["sim_id"]) for r in read_csv(summary / "best.csv")] == [1, 3, 0]
    trajectory = read_csv(summary / "trajectory.csv")
    assert [float(r["best_f"]) for r in trajectory] == [3.0, 1.0, 1.0]


def test_clean_dry_run_changes_nothing_then_resets_failed(tmp_path):
    recorded_run(tmp_path / "r")
    journal = tmp_path / "r" / "journal" / "events.bin"
    before = journal.read_bytes()
    assert clean_run(tmp_path / "r", dry_run=True) == [2]
    assert journal.read_bytes() == before
    assert clean_run(tmp_path / "r") == [2]
    H = load_history(journal)
    assert (
        not H["sim_failed"].any()
        and H["sim_ended"].tolist() == [True, True, False, True] + [False] * 2
    )
    assert clean_run(tmp_path / "r") == []


def test_clean_refuses_unknown_ids_and_a_locked_run(tmp_path):
    recorded_run(tmp_path / "r")
    with pytest.raises(RunDirError, match=r"sim_ids \[0\] did not fail.*failed: \[2\]"):
        clean_run(tmp_path / "r", ids=[0])
    store, _ = RunStore.open(tmp_path / "r", SPEC)
    try:
        with pytest.raises(RunDirError, match="in use by pid"):
            clean_run(tmp_path / "r", ids=[2])
    finally:
        store.close()
    with pytest.raises(RunDirError, match="not a libens run directory"):
        clean_run(tmp_path / "missing")
