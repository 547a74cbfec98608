"""Summaries and plots of a finished run, from Python and from the command line."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import userfuncs as uf

from libens import ExitCriteria, GenSpecs, LibeSpecs, SimSpecs, libE
from libens.cli import main
from libens.report import best_so_far, summarize


def run_small(tmp_path):
    sim = SimSpecs(sim_f=uf.sphere, inputs=["x"], outputs=[("f", float)])
    gen = GenSpecs(gen_f=uf.batch_gen, outputs=[("x", float, 2)], user={"gen_batch_size": 5})
    H, _, _ = libE(
        sim,
        gen,
        ExitCriteria(sim_max=20),
        libE_specs=LibeSpecs(comms="threads", nworkers=2, run_dir=tmp_path / "run"),
    )
    return H


def test_summary_and_trajectory(tmp_path):
    H = run_small(tmp_path)
    s = summarize(H)
    done = H[H["sim_ended"]]
    assert s.ended == len(done) == 20 and s.failed == 0
    assert s.best_value == done["f"].min()
    n, best = best_so_far(H)
    assert n[-1] == 20 and best[-1] == done["f"].min() and np.all(np.diff(best) <= 0)


def test_cli_report_prints_best_and_writes_plot(tmp_path, capsys):
    H = run_small(tmp_path)
    assert main(["report", str(tmp_path / "run"), "--plot", str(tmp_path / "best.svg")]) == 0
    out = capsys.readouterr().out
    assert f"best f = {H['f'][H['sim_ended']].min():.6g}" in out
    assert "evaluations started 20, ended 20" in out
    svg = (tmp_path / "best.svg").read_text()
    assert svg.startswith("<svg") and "<polyline" in svg


def test_cli_runs_a_script(tmp_path):
    script = tmp_path / "hello.py"
    script.write_text("import sys\nprint('args', sys.argv[1:])\n")
    out = subprocess.run(
        [sys.executable, "-m", "libens.cli", "run", str(script), "-n", "3"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "args ['-n', '3']" in out
