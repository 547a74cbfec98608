"""Benchmark libens against libEnsemble 1.6.1 on the same workloads, in one run.

    python benchmarks/run.py --compare            # full table (10,000 evals, 3 repeats)
    python benchmarks/run.py --compare --quick    # 2,000 evals, 1 repeat
    python benchmarks/run.py --scale              # 1M evaluations; 256 sleeping workers
    python benchmarks/run.py --table out.txt      # the table of a saved --compare output

libEnsemble is installed from PyPI into its own virtual environment (cached in
benchmarks/.cache). Each configuration runs both frameworks alternately, in fresh processes;
medians are compared. Prints one JSON line per configuration, then a summary table.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import statistics
import subprocess
import sys
import venv
from pathlib import Path

HERE = Path(__file__).resolve().parent
CACHE = HERE / ".cache" / "libensemble-1.6.1"
WORKLOAD = HERE / "workload.py"
FLOOR = HERE / "transport_floor.py"
LIBENS_PY = Path(sys.executable)
CONFIGS = [
    (c, n)
    for c, ns in (("local", (2, 4)), ("threads", (2,)), ("mpi", (2, 4)), ("tcp", (2, 4)))
    for n in ns
]
WORKLOADS = ["batch", "persis_batch", "persis_async", "gest"]
FLOOR_OF = {"local": "pipe", "threads": "queue", "tcp": "tcp", "mpi": "mpi"}
TARGET_EVALS = 10_000  # the targets are for runs of this many evaluations or more


def reference_python() -> Path:
    """The cached libEnsemble 1.6.1 environment's interpreter (created on first use)."""
    py = CACHE / "bin" / "python"
    stamp = CACHE / ".installed"
    if not stamp.exists():
        venv.create(CACHE, with_pip=True, clear=True)
        subprocess.run(
            [
                str(py),
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "libensemble==1.6.1",
                "gest-api",
                "mpi4py",
                "mpich",
            ],
            check=True,
        )
        stamp.touch()
    return py


def run_json(cmd: list[str], timeout: float) -> dict | None:
    try:
        out = subprocess.run(
            cmd, capture_output=True, text=True, timeout=timeout, cwd=HERE / ".cache"
        )
    except subprocess.TimeoutExpired:
        return None
    lines = [x for x in out.stdout.splitlines() if x.startswith("{")]
    return json.loads(lines[-1]) if out.returncode == 0 and lines else None


def workload_cmd(
    py: Path, framework: str, workload: str, comms: str, n: int, evals: int
) -> list[str]:
    args = [
        str(WORKLOAD),
        "--framework",
        framework,
        "--workload",
        workload,
        "--comms",
        comms,
        "-n",
        str(n),
        "--evals",
        str(evals),
    ]
    if comms == "mpi":
        return [str(py.parent / "mpiexec"), "-n", str(n + 1), str(py), *args]
    return [str(py), *args]


def floors(ref: Path) -> dict[str, float]:
    out = {}
    for line in subprocess.run(
        [str(LIBENS_PY), str(FLOOR)], capture_output=True, text=True, check=True
    ).stdout.splitlines():
        d = json.loads(line)
        out[d["transport"]] = d["round_trip_us"]
    mpi = subprocess.run(
        [str(LIBENS_PY.parent / "mpiexec"), "-n", "2", str(LIBENS_PY), str(FLOOR), "mpi"],
        capture_output=True,
        text=True,
        check=True,
    )
    out["mpi"] = json.loads(mpi.stdout.strip().splitlines()[-1])["round_trip_us"]
    return out


def compile_libens() -> None:
    """Byte-compile the libens the workloads import, as installing a wheel does for
    libEnsemble: from an editable install with PYTHONDONTWRITEBYTECODE set, every run would
    compile its modules again and count that in the time to the first evaluation."""
    where = subprocess.run(
        [str(LIBENS_PY), "-c", "import libens, os; print(os.path.dirname(libens.__file__))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    compileall.compile_dir(where, quiet=1)


def compare(args: argparse.Namespace) -> None:
    ref = reference_python()
    compile_libens()
    (HERE / ".cache").mkdir(exist_ok=True)
    floor = floors(ref)
    print(json.dumps({"transport_floor_us": floor}), flush=True)
    rows = []
    for workload in args.workloads:
        for comms, n in CONFIGS:
            if comms not in args.comms:
                continue
            res: dict[str, list[dict]] = {"libens": [], "libensemble": []}
            for _ in range(args.repeat):
                for fw, py in (("libens", LIBENS_PY), ("libensemble", ref)):
                    r = run_json(workload_cmd(py, fw, workload, comms, n, args.evals), 300)
                    if r is not None:
                        res[fw].append(r)
            row = summarize(workload, comms, n, res, floor[FLOOR_OF[comms]])
            row["evals"] = args.evals
            rows.append(row)
            print(json.dumps(row), flush=True)
    table(rows)


def med(runs: list[dict], key: str) -> float | None:
    vals = [r[key] for r in runs if r.get(key) is not None]
    return statistics.median(vals) if vals else None


def summarize(workload: str, comms: str, n: int, res: dict, floor_us: float) -> dict:
    a, b = med(res["libens"], "evals_per_s"), med(res["libensemble"], "evals_per_s")
    return {
        "workload": workload,
        "comms": comms,
        "nworkers": n,
        "libens_evals_per_s": a,
        "libensemble_evals_per_s": b,
        "ratio": round(a / b, 1) if a and b else None,
        "libens_manager_cpu_s": med(res["libens"], "manager_cpu_s"),
        "libensemble_manager_cpu_s": med(res["libensemble"], "manager_cpu_s"),
        "libens_peak_rss_mb": med(res["libens"], "manager_peak_rss_mb"),
        "libensemble_peak_rss_mb": med(res["libensemble"], "manager_peak_rss_mb"),
        "libens_first_eval_s": med(res["libens"], "first_eval_s"),
        "libensemble_first_eval_s": med(res["libensemble"], "first_eval_s"),
        "libens_us_per_eval_over_floor": round(1e6 / a / floor_us, 2) if a else None,
    }


def _fmt(x: float | None, digits: int) -> str:
    return "-" if x is None else f"{x:.{digits}f}"


def table(rows: list[dict]) -> None:
    print(
        "\n| workload | comms | n | libens ev/s | libEnsemble ev/s | ratio | libens us/eval "
        "/ transport RTT | manager CPU s libens / libE | peak RSS MB libens / libE "
        "| first eval s libens / libE |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['workload']} | {r['comms']} | {r['nworkers']} "
            f"| {_fmt(r['libens_evals_per_s'], 0)} | {_fmt(r['libensemble_evals_per_s'], 0)} "
            f"| {_fmt(r['ratio'], 1)} | {_fmt(r['libens_us_per_eval_over_floor'], 2)} "
            f"| {_fmt(r['libens_manager_cpu_s'], 2)} / {_fmt(r['libensemble_manager_cpu_s'], 2)} "
            f"| {_fmt(r['libens_peak_rss_mb'], 1)} / {_fmt(r['libensemble_peak_rss_mb'], 1)} "
            f"| {_fmt(r['libens_first_eval_s'], 3)} / {_fmt(r['libensemble_first_eval_s'], 3)} |"
        )
    ratios = [r["ratio"] for r in rows if r["ratio"]]
    if ratios:
        print(
            f"\nmedian ratio {statistics.median(ratios):.1f}, min {min(ratios):.1f} over "
            f"{len(ratios)} configurations; {sum(x >= 10 for x in ratios)} at 10x or more, "
            f"{sum(x >= 20 for x in ratios)} at 20x or more"
        )
    targets(rows)
    short = [r["evals"] for r in rows if r.get("evals", TARGET_EVALS) < TARGET_EVALS]
    if short:
        print(
            f"({min(short):,} evaluations per run: the targets are for {TARGET_EVALS:,} or more, "
            "where libEnsemble's cost per evaluation has grown with its history)"
        )


def targets(rows: list[dict]) -> None:
    """The table against the issue's other per-row targets: cost per evaluation within 4x
    the transport's round trip, and the first evaluation with local comms no later."""
    name = "{workload} {comms} {nworkers}".format_map
    key = "libens_us_per_eval_over_floor"
    floor = [r for r in rows if r[key] is not None]
    over = [r for r in floor if r[key] > 4]
    line = f"within 4x the transport round trip: {len(floor) - len(over)} of {len(floor)}"
    if over:
        line += "; not: " + ", ".join(f"{name(r)} ({r[key]:.1f}x)" for r in over)
    print(line)
    local = [
        r
        for r in rows
        if r["comms"] == "local"
        and None not in (r["libens_first_eval_s"], r["libensemble_first_eval_s"])
    ]
    if local:
        first = sum(r["libens_first_eval_s"] <= r["libensemble_first_eval_s"] for r in local)
        print(f"first evaluation with local comms: libens no later in {first} of {len(local)}")


def scale(args: argparse.Namespace) -> None:
    big = run_json(
        [
            str(LIBENS_PY),
            str(WORKLOAD),
            "--framework",
            "libens",
            "--workload",
            "batch",
            "--comms",
            "threads",
            "-n",
            "2",
            "--evals",
            str(args.big),
        ],
        3600,
    )
    if big:
        big["end_vs_10k"] = round(big["rate_last_10k"] / big["rate_first_10k"], 3)
        big["typical_end_vs_10k"] = round(
            big["typical_rate_last_10k"] / big["typical_rate_first_10k"], 3
        )
        big["memory_bound_mb"] = round(2 * big["history_mb"] + 100, 1)
    print(json.dumps({"scale": "evaluations", **(big or {"failed": True})}), flush=True)
    sleepy = run_json(
        [
            str(LIBENS_PY),
            str(WORKLOAD),
            "--framework",
            "libens",
            "--workload",
            "sleep",
            "--comms",
            "threads",
            "-n",
            "256",
            "--evals",
            "5120",
            "--sleep",
            "0.25",
        ],
        600,
    )
    if sleepy:
        sleepy["ideal_evals_per_s"] = 256 / 0.25
        sleepy["steady_fraction_of_ideal"] = round(sleepy["rate_last_10k"] / 1024, 3)
    print(
        json.dumps({"scale": "256 sleeping workers", **(sleepy or {"failed": True})}), flush=True
    )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--compare", action="store_true")
    p.add_argument("--scale", action="store_true")
    p.add_argument("--quick", action="store_true")
    p.add_argument("--workloads", nargs="+", default=WORKLOADS)
    p.add_argument("--comms", nargs="+", default=[c for c in FLOOR_OF])
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--evals", type=int, default=TARGET_EVALS)
    p.add_argument("--big", type=int, default=1_000_000)
    p.add_argument("--table", type=Path, help="print the table of a saved --compare output")
    args = p.parse_args()
    if args.table:
        rows = [json.loads(x) for x in args.table.read_text().splitlines() if x.startswith("{")]
        table([r for r in rows if "workload" in r])
        return
    if args.quick:
        args.evals, args.repeat = 2000, 1
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    (HERE / ".cache").mkdir(exist_ok=True)
    if args.compare:
        compare(args)
    if args.scale:
        scale(args)
    if not (args.compare or args.scale):
        p.error("give --compare and/or --scale (or --table FILE)")


if __name__ == "__main__":
    main()
