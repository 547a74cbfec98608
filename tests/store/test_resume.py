"""Durable runs end to end: a killed or interrupted manager loses nothing, a resumed run
continues (its generator too), clean, budgets, timeouts."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
import psutil
import pytest

from libens import VOCS, Ensemble, ExitCriteria, GenSpecs, LibeSpecs, SimSpecs
from libens.gens import NelderMead
from libens.store import load_history, read_journal
from libens.store.clean import clean_run

SCRIPT = Path(__file__).parent / "scripts" / "durable_run.py"
VOCS2 = VOCS(variables={"x": [-1.0, 1.0], "y": [-1.0, 1.0]}, objectives={"f": "MINIMIZE"})


def run_script(tmp_path, *args):
    return subprocess.run(
        [sys.executable, str(SCRIPT), str(tmp_path / "run"), *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )


def evals(tmp_path) -> Counter:
    return Counter(int(x) for x in (tmp_path / "evals.log").read_text().split())


def no_orphans(tmp_path):
    marker = str(tmp_path / "run")
    left = [
        p for p in psutil.process_iter(["cmdline"]) if marker in " ".join(p.info["cmdline"] or [])
    ]
    assert left == []


@pytest.mark.slow
def test_sigkill_manager_then_resume_loses_and_repeats_nothing(tmp_path):
    killed = run_script(tmp_path, "40", "25", "SIGKILL")
    assert killed.returncode == -9
    journal = tmp_path / "run" / "journal" / "events.bin"
    before = load_history(journal)
    finished = set(before["sim_id"][before["sim_ended"]].tolist())
    assert len(finished) >= 10
    resumed = run_script(tmp_path, "20")
    assert resumed.returncode == 0, resumed.stderr
    H = np.load(tmp_path / "run" / "history.npy")
    count = evals(tmp_path)
    for sim_id in finished:
        assert count[sim_id] == 1  # finished before the kill: never evaluated again
        assert H["f"][sim_id] == before["f"][sim_id]
    assert H["sim_ended"].sum() == len(finished) + 20  # the new budget, on top
    assert len(np.unique(H["sim_id"])) == len(H)
    no_orphans(tmp_path)


@pytest.mark.slow
def test_ctrl_c_stops_workers_and_saves_everything(tmp_path):
    out = run_script(tmp_path, "400", "12", "SIGINT")
    assert out.returncode != 0 and "KeyboardInterrupt" in out.stderr
    H = np.load(tmp_path / "run" / "history.npy")
    J = load_history(tmp_path / "run" / "journal" / "events.bin")
    assert H["sim_ended"].sum() == J["sim_ended"].sum() >= 5
    assert not (tmp_path / "run" / "lock").exists()
    no_orphans(tmp_path)


def nm_run(run_dir, sim_max, **libE):
    gen = NelderMead(VOCS2, x0=[0.7, -0.4])
    return Ensemble(
        sim_specs=SimSpecs(
            simulator=lambda p: {"f": (p["x"] - 0.3) ** 2 + 2 * p["y"] ** 2}, vocs=VOCS2
        ),
        gen_specs=GenSpecs(generator=gen, vocs=VOCS2),
        exit_criteria=ExitCriteria(sim_max=sim_max),
        libE_specs=LibeSpecs(
            comms="threads", nworkers=1, run_dir=run_dir, disable_log_files=True, **libE
        ),
    ).run()[0]


def test_resumed_generator_continues_exactly(tmp_path):
    reference = nm_run(tmp_path / "ref", 18)
    nm_run(tmp_path / "split", 11)
    resumed = nm_run(tmp_path / "split", 7)
    assert len(resumed) == len(reference)
    assert np.array_equal(resumed["x"], reference["x"])
    assert np.array_equal(resumed["y"], reference["y"])
    assert (tmp_path / "split" / "generator.pkl").exists()


def test_total_sim_max_counts_previous_evaluations(tmp_path):
    nm_run(tmp_path / "run", 6)
    H = Ensemble(
        sim_specs=SimSpecs(simulator=lambda p: {"f": p["x"] ** 2}, vocs=VOCS2),
        gen_specs=GenSpecs(generator=NelderMead(VOCS2), vocs=VOCS2),
        exit_criteria=ExitCriteria(total_sim_max=10),
        libE_specs=LibeSpecs(
            comms="threads", nworkers=1, run_dir=tmp_path / "other", disable_log_files=True
        ),
    ).run()[0]
    assert H["sim_ended"].sum() == 10


def flaky(p: dict) -> dict:
    marker = Path(os.environ["LIBENS_TEST_MARKER"])
    if p["x"] > 0.5 and not marker.exists():
        raise RuntimeError("solver diverged")
    return {"f": p["x"] ** 2 + p["y"] ** 2}


def test_errors_kept_clean_resets_them_and_resume_reevaluates(tmp_path, monkeypatch):
    monkeypatch.setenv("LIBENS_TEST_MARKER", str(tmp_path / "fixed"))

    def go(sim_max):
        from libens.gens import UniformSample

        return Ensemble(
            sim_specs=SimSpecs(simulator=flaky, vocs=VOCS2),
            gen_specs=GenSpecs(generator=UniformSample(VOCS2, seed=1), vocs=VOCS2),
            exit_criteria=ExitCriteria(sim_max=sim_max),
            libE_specs=LibeSpecs(
                comms="threads",
                nworkers=2,
                run_dir=tmp_path / "r",
                on_sim_error="continue",
                disable_log_files=True,
            ),
        ).run()[0]

    H = go(20)
    failed = H["sim_id"][H["sim_failed"]].tolist()
    assert failed
    errors = [
        e.info["error"]
        for e in read_journal(tmp_path / "r" / "journal" / "events.bin")
        if e.kind == "end" and "error" in e.info
    ]
    assert len(errors) == len(failed) and all("solver diverged" in e for e in errors)
    assert clean_run(tmp_path / "r", dry_run=True) == failed
    assert load_history(tmp_path / "r" / "journal" / "events.bin")["sim_failed"].sum() == len(
        failed
    )
    assert clean_run(tmp_path / "r") == failed
    (tmp_path / "fixed").touch()
    H = go(len(failed))
    assert not H["sim_failed"].any() and H["sim_ended"].sum() == 20


def test_cost_budget_stops_giving_out_work(tmp_path):
    vocs = VOCS(variables={"x": [0.0, 1.0]}, objectives={"f": "MINIMIZE"}, observables=["cost"])
    from libens.gens import UniformSample

    H = Ensemble(
        sim_specs=SimSpecs(simulator=lambda p: {"f": p["x"], "cost": 2.5}, vocs=vocs),
        gen_specs=GenSpecs(generator=UniformSample(vocs), vocs=vocs),
        exit_criteria=ExitCriteria(sim_max=1000, cost_max=20.0, cost_field="cost"),
        libE_specs=LibeSpecs(
            comms="threads", nworkers=2, chunk_short_sims=False, disable_log_files=True
        ),
    ).run()[0]
    spent = H["cost"][H["sim_ended"]].sum()
    assert 20.0 <= spent <= 20.0 + 2 * 2.5


def slow_for_positive_x(p: dict) -> dict:
    if p["x"] > 0:
        time.sleep(30)
    return {"f": p["x"]}


def test_sim_timeout_marks_failed_and_reuses_the_worker(tmp_path):
    vocs = VOCS(variables={"x": [-1.0, 1.0]}, objectives={"f": "MINIMIZE"})
    from libens.gens import UniformSample

    H = Ensemble(
        sim_specs=SimSpecs(simulator=slow_for_positive_x, vocs=vocs, timeout=0.3),
        gen_specs=GenSpecs(generator=UniformSample(vocs, seed=0), vocs=vocs),
        exit_criteria=ExitCriteria(sim_max=8),
        libE_specs=LibeSpecs(
            comms="local", nworkers=2, chunk_short_sims=False, disable_log_files=True
        ),
    ).run()[0]
    done = H[H["sim_ended"]]
    assert len(done) >= 8
    assert np.array_equal(done["sim_failed"], done["x"] > 0) and done["sim_failed"].any()
    assert set(done["sim_worker"].tolist()) == {1, 2}


def uniform_run(run_dir, sim_max):
    from libens.gens import UniformSample

    return Ensemble(
        sim_specs=SimSpecs(simulator=lambda p: {"f": p["x"] ** 2 + p["y"] ** 2}, vocs=VOCS2),
        gen_specs=GenSpecs(generator=UniformSample(VOCS2, seed=3), vocs=VOCS2),
        exit_criteria=ExitCriteria(sim_max=sim_max),
        libE_specs=LibeSpecs(comms="threads", nworkers=2, run_dir=run_dir, disable_log_files=True),
    ).run()[0]


def test_resume_after_a_torn_journal_tail_and_again(tmp_path):
    """Power loss cut the last record: the run resumes, and so does the one after it."""
    uniform_run(tmp_path / "run", 8)
    journal = tmp_path / "run" / "journal" / "events.bin"
    journal.write_bytes(journal.read_bytes()[:-5])
    kept = int(load_history(journal)["sim_ended"].sum())
    assert kept < 8
    uniform_run(tmp_path / "run", 4)
    H = uniform_run(tmp_path / "run", 4)
    assert H["sim_ended"].sum() == kept + 8
    again = load_history(journal)
    assert again["sim_ended"].sum() == kept + 8
    assert np.array_equal(again["f"][again["sim_ended"]], H["f"][H["sim_ended"]])


def test_generator_checkpoint_ahead_of_the_journal_resends_its_points(tmp_path):
    """A crash between the generator's checkpoint and the journal's next write: the
    resumed run re-sends the points that never reached the journal and meets its budget."""
    nm_run(tmp_path / "run", 8)
    journal = tmp_path / "run" / "journal" / "events.bin"
    events = list(read_journal(journal))
    last_gen = max(i for i, e in enumerate(events) if e.kind == "gen")
    from libens.store.journal import encode

    journal.write_bytes(b"".join(encode(e) for e in events[:last_gen]))
    before = load_history(journal)
    H = nm_run(tmp_path / "run", 4)
    assert H["sim_ended"].sum() == before["sim_ended"].sum() + 4
