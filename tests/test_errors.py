"""Failures end the run with an error that names the function, keeps the worker's traceback,
and saves the history first."""

from __future__ import annotations

import numpy as np
import pytest
import userfuncs as uf

from libens import (
    ExitCriteria,
    GeneratorError,
    GenSpecs,
    LibeSpecs,
    SimSpecs,
    SimulatorError,
    SpecError,
    WorkerError,
    libE,
)
from libens.errors import RemoteTraceback
from libens.messages import EVAL_SIM_TAG
from libens.userfuncs import OutputCheck

GEN = GenSpecs(gen_f=uf.batch_gen, outputs=[("x", float, 2)], user={"gen_batch_size": 4})


def specs(comms, **kw):
    return LibeSpecs(comms=comms, nworkers=2, **kw)


def test_raising_sim_names_function_keeps_traceback_and_saves_history(comms, tmp_path):
    sim = SimSpecs(sim_f=uf.failing_sim, inputs=["x"], outputs=[("f", float)])
    with pytest.raises(WorkerError) as info:
        libE(sim, GEN, ExitCriteria(sim_max=200), libE_specs=specs(comms))
    err = info.value
    assert "failing_sim" in str(err) and "ZeroDivisionError" in str(err)
    assert isinstance(err.__cause__, RemoteTraceback)
    assert "1 / 0" in err.__cause__.tb
    H = np.load(tmp_path / "libE_history_at_abort.npy")
    assert len(H) >= 4
    assert (tmp_path / "libE_history_persis_info_at_abort.pickle").exists()


def test_raising_gen_is_a_generator_error(comms, tmp_path):
    sim = SimSpecs(sim_f=uf.sphere, inputs=["x"], outputs=[("f", float)])
    gen = GenSpecs(gen_f=uf.failing_gen, outputs=[("x", float, 2)])
    with pytest.raises(GeneratorError, match="failing_gen.*generator exploded"):
        libE(sim, gen, ExitCriteria(sim_max=5), libE_specs=specs(comms))
    assert (tmp_path / "libE_history_at_abort.npy").exists()


@pytest.mark.parametrize(
    "sim_f, match",
    [
        (uf.wrong_dtype_sim, "field 'f'"),
        (uf.wrong_length_sim, "5 rows for 4 input rows|rows for 1 input rows"),
    ],
)
def test_sim_output_is_checked(comms, sim_f, match):
    sim = SimSpecs(sim_f=sim_f, inputs=["x"], outputs=[("f", float)])
    with pytest.raises(WorkerError, match=match) as info:
        libE(sim, GEN, ExitCriteria(sim_max=5), libE_specs=specs(comms, disable_log_files=True))
    assert "SimulatorError" in str(info.value)


def test_dead_worker_process_is_detected():
    sim = SimSpecs(sim_f=uf.dying_sim, inputs=["x"], outputs=[("f", float)])
    with pytest.raises(WorkerError, match="lost while running a sim.*exit"):
        libE(sim, GEN, ExitCriteria(sim_max=5), libE_specs=specs("local", disable_log_files=True))


def test_spawn_start_method_runs():
    sim = SimSpecs(sim_f=uf.sphere, inputs=["x"], outputs=[("f", float)])
    H, _, _ = libE(
        sim,
        GEN,
        ExitCriteria(sim_max=6),
        libE_specs=specs("local", start_method="spawn", disable_log_files=True),
    )
    assert H["sim_ended"].sum() == 6


def test_spec_typo_names_the_field():
    with pytest.raises(
        SpecError, match=r"ExitCriteria.simmax: unknown field; did you mean 'sim_max'"
    ):
        ExitCriteria(simmax=3)
    with pytest.raises(SpecError, match=r"LibeSpecs.comms"):
        LibeSpecs(comms="carrier-pigeon")
    with pytest.raises(SpecError, match="set sim_f"):
        SimSpecs(inputs=["x"])


def test_sim_input_missing_from_history_is_a_spec_error():
    sim = SimSpecs(sim_f=uf.sphere, inputs=["y"], outputs=[("f", float)])
    with pytest.raises(SpecError, match="SimSpecs.inputs names 'y'"):
        libE(sim, GEN, ExitCriteria(sim_max=5), libE_specs=specs("threads"))


def test_simulator_error_is_a_libens_error():
    assert issubclass(SimulatorError, Exception)


def test_safe_mode_catches_a_policy_that_writes_reserved_fields():
    from libens import AllocSpecs, LibensError

    sim = SimSpecs(sim_f=uf.sphere, inputs=["x"], outputs=[("f", float)])
    with pytest.raises(
        LibensError, match=r"meddling_alloc modified reserved history fields \['sim_worker'\]"
    ):
        libE(
            sim,
            GEN,
            ExitCriteria(sim_max=8),
            alloc_specs=AllocSpecs(alloc_f=uf.meddling_alloc),
            libE_specs=specs("threads", safe_mode=True, disable_log_files=True),
        )


def _asks_for_a_field_H_lacks(W, H, sim_specs, gen_specs, alloc_specs, persis_info, libE_info):
    from libens.alloc import give_sim_work_first

    Work, persis_info = give_sim_work_first(
        W, H, sim_specs, gen_specs, alloc_specs, persis_info, libE_info
    )
    for order in Work.values():
        if order["tag"] == EVAL_SIM_TAG and H["sim_ended"].sum() >= 4:
            order["H_fields"] = ["x", "nope"]
    return Work, persis_info


def test_a_policy_asking_for_a_field_the_history_lacks_names_it_and_keeps_the_rows(tmp_path):
    from libens import AllocSpecs, LibensError

    sim = SimSpecs(sim_f=uf.sphere, inputs=["x"], outputs=[("f", float)])
    with pytest.raises(LibensError, match=r"asks for fields \['nope'\].*declare them"):
        libE(
            sim,
            GEN,
            ExitCriteria(sim_max=40),
            alloc_specs=AllocSpecs(alloc_f=_asks_for_a_field_H_lacks),
            libE_specs=specs("threads"),
        )
    H = np.load(tmp_path / "libE_history_at_abort.npy")
    assert H["sim_ended"].sum() >= 4 and np.all(H["f"][H["sim_ended"]] > 0)


def test_sim_outputs_are_checked_on_every_call_after_one_passed():
    check = OutputCheck([("f", float), ("g", int, (2,))], "my_sim")
    good = np.zeros(2, dtype=[("f", float), ("g", int, (2,))])
    check(good, 2)
    check(good.copy(), 2)  # the same dtype again
    with pytest.raises(SimulatorError, match=r"my_sim returned 2 rows for 3 input rows"):
        check(good, 3)
    with pytest.raises(SimulatorError, match=r"my_sim returned field 'f' as <U3"):
        check(np.zeros(2, dtype=[("f", "U3"), ("g", int, (2,))]), 2)
    with pytest.raises(SimulatorError, match=r"my_sim returned list"):
        check([1.0, 2.0], 2)
