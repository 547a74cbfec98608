"""The progress line: counts, rate and the best value so far, kept as results arrive."""

from __future__ import annotations

import io

import numpy as np

from libens import ExitCriteria, GenSpecs, LibeSpecs, SimSpecs, libE
from libens.gens.sampling import uniform_random_sample
from libens.progress import Progress
from libens.sims import six_hump_camel
from libens.tools import parse_args


def history(f: list[float], failed: list[bool]) -> np.ndarray:
    H = np.zeros(len(f), dtype=[("f", float), ("sim_failed", bool)])
    H["f"], H["sim_failed"] = f, failed
    return H


def test_best_skips_failed_and_nan_results_and_the_line_says_so():
    out = io.StringIO()
    progress = Progress(3600.0, total=10, objective="f", offset=2, out=out)
    H = history([5.0, -9.0, np.nan, 1.5, 2.0], [False, True, False, False, False])
    progress.ended(H, np.array([0, 1, 2]))
    assert (progress.best, progress.best_id) == (5.0, 0)
    progress.ended(H, np.array([3, 4]))
    assert (progress.best, progress.best_id) == (1.5, 3)
    progress.tick(ended=7, failed=1)
    assert out.getvalue() == ""  # the interval has not passed
    progress.tick(ended=7, failed=1, final=True)
    line = out.getvalue()
    assert line.startswith("libens: 5 of 8 evaluated, ") and line.endswith(", done\n")
    assert ", 1 failed, best f = 1.5 (sim_id 3), " in line


def test_a_run_writes_progress_lines_ending_with_its_totals(capfd):
    gen = GenSpecs(
        gen_f=uniform_random_sample,
        outputs=[("x", float, 2)],
        user={"lb": [-3, -2], "ub": [3, 2], "gen_batch_size": 5},
    )
    sim = SimSpecs(sim_f=six_hump_camel, inputs=["x"], outputs=[("f", float)])
    specs = LibeSpecs(comms="threads", nworkers=2, disable_log_files=True, progress_interval=1e-9)
    H, _, _ = libE(sim, gen, ExitCriteria(sim_max=30), libE_specs=specs)
    lines = capfd.readouterr().err.strip().splitlines()
    done = H[H["sim_ended"]]
    i = int(np.argmin(done["f"]))
    assert len(lines) >= 2 and lines[-1].endswith(", done")
    assert lines[-1].startswith(f"libens: {len(done)} of 30 evaluated, ")
    assert f"best f = {done['f'][i]:.6g} (sim_id {done['sim_id'][i]})" in lines[-1]


def test_progress_from_the_command_line():
    _, _, specs, _ = parse_args(["--comms", "threads", "-n", "2", "--progress", "5"])
    assert specs["progress_interval"] == 5.0
