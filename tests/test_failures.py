"""Failures that need not end the run: failing sims with on_sim_error="continue", and lost
workers whose points are re-queued or marked failed."""

from __future__ import annotations

import numpy as np
import pytest
import userfuncs as uf

from libens import ExitCriteria, GenSpecs, LibeSpecs, SimSpecs, WorkerError, libE

GEN = GenSpecs(gen_f=uf.batch_gen, outputs=[("x", float, 2)], user={"gen_batch_size": 6})


def test_failing_sims_are_marked_and_the_run_goes_on(comms):
    sim = SimSpecs(sim_f=uf.flaky_sim, inputs=["x"], outputs=[("f", float)])
    H, _, flag = libE(
        sim,
        GEN,
        ExitCriteria(sim_max=60),
        libE_specs=LibeSpecs(
            comms=comms, nworkers=2, on_sim_error="continue", disable_log_files=True
        ),
    )
    assert flag == 0
    ended = H[H["sim_ended"]]
    assert len(ended) >= 60
    bad = ended["x"][:, 0] > 1
    assert bad.any() and np.array_equal(ended["sim_failed"], bad)
    good = ended[~bad]
    assert np.allclose(good["f"], np.sum(good["x"] ** 2, axis=1))


@pytest.mark.parametrize("backend", ["local", "tcp"])
@pytest.mark.parametrize("policy", ["requeue", "fail"])
def test_lost_worker_points_requeued_or_failed(policy, backend, tmp_path):
    sim = SimSpecs(
        sim_f=uf.die_once_sim,
        inputs=["x"],
        outputs=[("f", float)],
        user={"marker": str(tmp_path / "died")},
    )
    H, _, flag = libE(
        sim,
        GEN,
        ExitCriteria(sim_max=12),
        libE_specs=LibeSpecs(
            comms="local",
            nworkers=3,
            on_worker_lost=policy,
            disable_log_files=True,
            chunk_short_sims=False,
        ),
    )
    assert flag == 0
    ended = H[H["sim_ended"]]
    assert len(ended) >= 12
    assert 1 not in set(H["sim_worker"][H["sim_ended"] & ~H["sim_failed"]])
    if policy == "requeue":
        assert not ended["sim_failed"].any()
    else:
        assert ended["sim_failed"].sum() == 1


def test_lost_worker_stops_the_run_by_default(tmp_path):
    sim = SimSpecs(
        sim_f=uf.die_once_sim,
        inputs=["x"],
        outputs=[("f", float)],
        user={"marker": str(tmp_path / "died")},
    )
    with pytest.raises(WorkerError, match="worker 1 was lost while running a sim"):
        libE(
            sim,
            GEN,
            ExitCriteria(sim_max=12),
            libE_specs=LibeSpecs(comms="local", nworkers=2, disable_log_files=True),
        )
    assert np.load(tmp_path / "libE_history_at_abort.npy").dtype.names is not None
