"""Files a run leaves: history .npy, persis_info pickle, stats, log, periodic saves."""

from __future__ import annotations

import pickle

import numpy as np
import userfuncs as uf

from libens import ExitCriteria, GenSpecs, LibeSpecs, SimSpecs, libE

SIM = SimSpecs(sim_f=uf.sphere, inputs=["x"], outputs=[("f", float)])
GEN = GenSpecs(gen_f=uf.batch_gen, outputs=[("x", float, 2)], user={"gen_batch_size": 5})


def test_outputs_written(comms, tmp_path):
    H, _, _ = libE(
        SIM,
        GEN,
        ExitCriteria(sim_max=10),
        libE_specs=LibeSpecs(comms=comms, nworkers=2, H_file_prefix="run1", save_every_k_sims=4),
    )
    saved = np.load(tmp_path / "run1.npy")
    assert np.array_equal(saved["f"], H["f"]) and np.array_equal(saved["x"], H["x"])
    with open(tmp_path / "run1_persis_info.pickle", "rb") as f:
        assert "rand_stream" in pickle.load(f)[1]
    stats = (tmp_path / "stats.txt").read_text().splitlines()
    sims = [line for line in stats if " sim " in line]
    assert len(sims) == 10 and all("WORKER_DONE" in line for line in sims)
    assert any(" gen " in line for line in stats)
    assert (tmp_path / "ensemble.log").exists()
    periodic = list(tmp_path.glob("run1_after_sim_*.npy"))
    assert len(periodic) == 1  # each periodic save replaces the previous one
    count = int(periodic[0].stem.rsplit("_", 1)[1])
    assert count >= 8 and np.load(periodic[0])["sim_ended"].sum() == count


def test_outputs_can_be_switched_off(comms, tmp_path):
    libE(
        SIM,
        GEN,
        ExitCriteria(sim_max=4),
        libE_specs=LibeSpecs(
            comms=comms, nworkers=2, disable_log_files=True, save_H_on_completion=False
        ),
    )
    assert list(tmp_path.iterdir()) == []


def test_a_run_from_H0_counts_only_its_new_evaluations(tmp_path, caplog):
    H0 = np.zeros(4, dtype=[("x", float, 2), ("f", float), ("sim_ended", bool)])
    H0["sim_ended"] = True
    H, _, flag = libE(
        SIM,
        GEN,
        ExitCriteria(sim_max=10),
        libE_specs=LibeSpecs(comms="threads", nworkers=2, H_file_prefix="h0", save_every_k_sims=4),
        H0=H0,
    )
    assert flag == 0 and H["sim_ended"].sum() == 4 + 10
    assert "no work is running" not in caplog.text  # ended by sim_max, not by running dry
    (periodic,) = tmp_path.glob("h0_after_sim_*.npy")
    count = int(periodic.stem.rsplit("_", 1)[1])
    assert count >= 8 and np.load(periodic)["sim_ended"].sum() == 4 + count
