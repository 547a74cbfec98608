"""The benchmark deliverable (benchmarks/): its workload script runs on libens over every
comms, a failed run says why, and the summary judges a table against the issue's targets."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def _load(name: str):
    spec = importlib.util.spec_from_file_location(f"benchmarks_{name}", BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


run = _load("run")


@pytest.fixture(autouse=True)
def _runs_in_tmp(tmp_path, monkeypatch):
    monkeypatch.setattr(run, "RUN_DIR", tmp_path / "runs")


@pytest.mark.parametrize(
    "workload, comms",
    [("batch", "threads"), ("persis_async", "local"), ("gest", "tcp"), ("persis_batch", "mpi")],
)
def test_workload_script_runs_on_libens(workload, comms):
    cmd = run.workload_cmd(Path(sys.executable), "libens", workload, comms, 2, 400)
    result = run.run_json(cmd, 120)
    assert result is not None
    assert result["workload"] == workload and result["comms"] == comms
    assert result["evals"] == 400 and result["exit_flag"] == 0
    assert result["evals_per_s"] > 0 and 0 < result["first_eval_s"] < result["wall_s"]


def test_transport_floors_are_measured_for_the_transports_asked_for():
    floors = run.floors(["pipe", "queue", "tcp", "mpi"])
    assert set(floors) == {"pipe", "queue", "tcp", "mpi"}
    assert all(0 < us < 10_000 for us in floors.values())
    assert set(run.floors(["queue"])) == {"queue"}


def test_mpi_rows_without_mpiexec_say_how_to_get_it(tmp_path, monkeypatch):
    monkeypatch.setattr(run, "LIBENS_PY", tmp_path / "bin" / "python")
    with pytest.raises(SystemExit, match=r"install the mpi extra .*--comms local threads tcp"):
        run.floors(["queue", "mpi"])


@pytest.mark.parametrize(
    "script, args, cost",
    [
        ("manager_cost.py", ["--batch", "4"], "manager_us_per_eval"),
        ("journal_cost.py", ["--repeat", "1"], "journal_us_per_record"),
    ],
)
def test_cost_benchmarks_print_one_json_line(script, args, cost):
    result = run.run_json([sys.executable, str(BENCHMARKS / script), "--evals", "400", *args], 60)
    assert result is not None and result["evals"] == 400 and result[cost] > 0


def test_a_failed_run_says_why(capsys):
    crash = [sys.executable, "-c", "import sys; sys.exit('no module named libensemble')"]
    assert run.run_json(crash, 60) is None
    err = capsys.readouterr().err
    assert "run failed (exit code 1, no JSON line printed)" in err
    assert "no module named libensemble" in err and " -c " in err

    silent = [sys.executable, "-c", "print('started')"]
    assert run.run_json(silent, 60) is None
    assert "(exit code 0, no JSON line printed)" in capsys.readouterr().err

    hung = [sys.executable, "-c", "import time; time.sleep(60)"]
    assert run.run_json(hung, 1) is None
    assert "run failed (no result within 1 s)" in capsys.readouterr().err


def test_a_failed_install_of_the_reference_says_so_and_is_not_marked_done(tmp_path, monkeypatch):
    monkeypatch.setattr(run, "CACHE", tmp_path / "reference")
    monkeypatch.setattr(run, "REFERENCE_PACKAGES", ["libensemble==1.6.1"])
    monkeypatch.setenv("PIP_NO_INDEX", "1")  # offline: the install fails at once
    with pytest.raises(SystemExit, match=r"could not install libensemble==1.6.1 into .*PyPI"):
        run.reference_python()
    assert not (tmp_path / "reference" / ".installed").exists()


def test_a_row_is_the_median_of_its_runs_and_keeps_each_one():
    def runs(*rates):
        keys = ("evals_per_s", "manager_cpu_s", "manager_peak_rss_mb", "first_eval_s")
        return [dict(zip(keys, (x, x / 1e4, 50.0, 0.1), strict=True)) for x in rates]

    res = {"libens": runs(9000.0, 12000.0, 10000.0), "libensemble": runs(800.0, 1200.0)}
    row = run.summarize("gest", "mpi", 4, res, floor_us=5.0)
    assert row["libens_evals_per_s"] == 10000.0 and row["libensemble_evals_per_s"] == 1000.0
    assert row["ratio"] == 10.0 and row["libens_manager_cpu_s"] == 1.0
    assert row["libens_us_per_eval_over_floor"] == 20.0  # 100 us per evaluation over 5 us
    assert row["libens_runs_evals_per_s"] == [9000.0, 12000.0, 10000.0]
    assert row["libensemble_runs_evals_per_s"] == [800.0, 1200.0]
    failed = run.summarize("gest", "mpi", 4, {"libens": [], "libensemble": runs(1000.0)}, 5.0)
    assert failed["ratio"] is None and failed["libens_us_per_eval_over_floor"] is None


def _table(evals: int = 10_000) -> list[dict]:
    """A whole table (every workload and comms) with the same numbers in every row: 25x
    libEnsemble, at the transport's floor, first evaluation in half the time."""
    return [
        {
            "workload": workload,
            "comms": comms,
            "nworkers": n,
            "libens_evals_per_s": 25000.0,
            "libensemble_evals_per_s": 1000.0,
            "ratio": 25.0,
            "libens_manager_cpu_s": 0.5,
            "libensemble_manager_cpu_s": 5.0,
            "libens_peak_rss_mb": 50.0,
            "libensemble_peak_rss_mb": 57.0,
            "libens_us_per_eval_over_floor": 1.0,
            "libens_first_eval_s": 0.1,
            "libensemble_first_eval_s": 0.2,
            "evals": evals,
        }
        for workload in run.WORKLOADS
        for comms, n in run.CONFIGS
    ]


def test_summary_of_a_table_that_meets_every_target():
    lines = run.summary(_table())
    assert lines == [
        "median ratio 25.0, min 25.0 over 28 configurations; 28 at 10x or more, 28 at 20x or "
        "more (target 10x on every row: met; 20x in the median: met)",
        "within 4x the transport round trip: 28 of 28 (target every row: met)",
        "first evaluation with local comms: libens no later in 8 of 8 (target every row: met)",
    ]


def test_summary_names_what_misses_a_target():
    rows = _table(evals=2000)
    rows[0]["ratio"] = 9.5
    rows[-1]["libens_us_per_eval_over_floor"] = 7.04
    rows[1]["libens_first_eval_s"] = 0.3  # batch local 4
    lines = run.summary(rows)
    assert "(target 10x on every row: not met; 20x in the median: met)" in lines[0]
    assert lines[1] == (
        "within 4x the transport round trip: 27 of 28 (target every row: not met); "
        "not: gest tcp 4 (7.0x)"
    )
    assert lines[2].endswith("no later in 7 of 8 (target every row: not met)")
    assert lines[3].startswith("(2,000 evaluations per run: the targets are for 10,000")


def test_summary_of_part_of_a_table_or_of_a_failed_run():
    part = [r for r in _table() if r["comms"] == "threads"]
    assert (
        "(target 10x on every row: met; 20x in the median: for the whole table only)"
        in (run.summary(part)[0])
    )
    failed = _table()
    failed[3]["ratio"] = None  # one framework's runs all failed: no ratio for the row
    assert "target 10x on every row: not met" in run.summary(failed)[0]


def test_scale_summary_judges_both_runs():
    big = {
        "evals": 1_000_000,
        "end_vs_10k": 1.13,
        "manager_peak_rss_mb": 238.6,
        "history_mb": 94.0,
        "memory_bound_mb": 288.0,
    }
    sleepy = {"steady_fraction_of_ideal": 0.996, "ideal_evals_per_s": 1024.0}
    assert run.scale_summary(big, sleepy) == [
        "1,000,000 evaluations: the last 10k at 1.13x the first 10k's rate (target within "
        "20%: met); manager peak RSS 238.6 MB for a 94.0 MB history (target 288.0 MB or "
        "less: met)",
        "256 sleeping workers: 99.6% of the ideal 1,024 evaluations/s (target 90% or more: met)",
    ]
    slow = run.scale_summary(
        {**big, "end_vs_10k": 0.71, "manager_peak_rss_mb": 300.0},
        {**sleepy, "steady_fraction_of_ideal": 0.85},
    )
    assert "(target within 20%: not met)" in slow[0] and "288.0 MB or less: not met" in slow[0]
    assert "(target 90% or more: not met)" in slow[1]
    assert run.scale_summary(None, None) == [
        "the run of --big evaluations failed (see above)",
        "the 256-sleeping-workers run failed (see above)",
    ]


def test_table_of_a_saved_output(tmp_path):
    compare, scale = tmp_path / "compare.txt", tmp_path / "scale.txt"
    lines = [{"transport_floor_us": {"pipe": 60.0}}, *_table()]
    compare.write_text("\n".join(json.dumps(x) for x in lines) + "\nnot json\n")
    big = {"scale": "evaluations", "workload": "batch", "evals": 1_000_000, "end_vs_10k": 1.05}
    big |= {"manager_peak_rss_mb": 238.0, "history_mb": 94.0, "memory_bound_mb": 288.0}
    scale.write_text(
        json.dumps(big) + "\n" + json.dumps({"scale": "256 sleeping workers", "failed": True})
    )

    def summary_of(saved):
        cmd = [sys.executable, str(BENCHMARKS / "run.py"), "--table", str(saved)]
        return subprocess.run(cmd, capture_output=True, text=True, check=True).stdout

    out = summary_of(compare)
    assert out.count("\n| ") == 29  # the header and 28 rows
    assert "20x in the median: met" in out and "8 of 8 (target every row: met)" in out
    assert summary_of(scale).splitlines() == [
        "1,000,000 evaluations: the last 10k at 1.05x the first 10k's rate (target within "
        "20%: met); manager peak RSS 238.0 MB for a 94.0 MB history (target 288.0 MB or "
        "less: met)",
        "the 256-sleeping-workers run failed (see above)",
    ]
