"""Benchmark libens against libEnsemble 1.6.1 on the same workloads, in one run.

    python benchmarks/run.py --compare            # full table (10,000 evals, 3 repeats)
    python benchmarks/run.py --compare --quick    # 2,000 evals, 1 repeat
    python benchmarks/run.py --scale              # 1M evaluations; 256 sleeping workers
    python benchmarks/run.py --table out.txt      # the summary of a saved --compare/--scale output

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
from collections.abc import Iterable
from pathlib import Path

HERE = Path(__file__).resolve().parent
CACHE = HERE / ".cache" / "libensemble-1.6.1"
REFERENCE_PACKAGES = ["libensemble==1.6.1", "gest-api", "mpi4py", "mpich"]
RUN_DIR = HERE / ".cache"  # where runs start: output files land here, not in the repo
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
    """The cached libEnsemble 1.6.1 environment's interpreter (created on first use; a failed
    install is not marked done, so the next run starts it afresh)."""
    py = CACHE / "bin" / "python"
    stamp = CACHE / ".installed"
    if not stamp.exists():
        venv.create(CACHE, with_pip=True, clear=True)
        install = [py, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        done = subprocess.run([*map(str, install), *REFERENCE_PACKAGES])
        if done.returncode != 0:
            raise SystemExit(
                f"could not install {' '.join(REFERENCE_PACKAGES)} into {CACHE} (pip exit "
                f"code {done.returncode}, its messages above): the comparison needs PyPI; "
                "run again once it can be reached"
            )
        stamp.touch()
    return py


def run_json(cmd: list[str], timeout: float) -> dict | None:
    """The last JSON line a run printed; None when it failed, with why on stderr (its exit
    code and the end of its error output), so a missing number in the table has a cause."""
    RUN_DIR.mkdir(parents=True, exist_ok=True)
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=RUN_DIR)
    except subprocess.TimeoutExpired:
        _report_failure(cmd, f"no result within {timeout:.0f} s", "")
        return None
    lines = [x for x in out.stdout.splitlines() if x.startswith("{")]
    if out.returncode == 0 and lines:
        return json.loads(lines[-1])
    why = f"exit code {out.returncode}" + ("" if lines else ", no JSON line printed")
    _report_failure(cmd, why, out.stderr)
    return None


def _report_failure(cmd: list[str], why: str, stderr: str) -> None:
    tail = "\n".join("    " + x for x in stderr.strip().splitlines()[-5:])
    print(f"run failed ({why}): {' '.join(cmd)}" + (f"\n{tail}" if tail else ""), file=sys.stderr)


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


def floors(transports: Iterable[str]) -> dict[str, float]:
    """Raw round trips (us, median) of the given transports, measured now with this
    interpreter (MPI under this environment's mpiexec, as the workloads run)."""
    wanted = set(transports)
    py = str(LIBENS_PY)
    on_one_host = [t for t in ("pipe", "queue", "tcp") if t in wanted]
    cmds = [[py, str(FLOOR), *on_one_host]] if on_one_host else []
    if "mpi" in wanted:
        mpiexec = LIBENS_PY.parent / "mpiexec"
        if not mpiexec.exists():
            raise SystemExit(
                f"the mpi rows need {mpiexec} and mpi4py: install the mpi extra "
                "(pip install -e '.[mpi]'), or leave mpi out (--comms local threads tcp)"
            )
        cmds.append([str(mpiexec), "-n", "2", py, str(FLOOR), "mpi"])
    out = {}
    for cmd in cmds:
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode != 0:
            raise SystemExit(f"measuring a transport floor failed: {' '.join(cmd)}\n{done.stderr}")
        for line in done.stdout.splitlines():
            if line.startswith("{"):
                d = json.loads(line)
                out[d["transport"]] = d["round_trip_us"]
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
    floor = floors(FLOOR_OF[comms] for comms in args.comms)
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
    """One configuration's row: medians of each framework's runs (every run's rate is kept
    too, so the spread behind a median can be read)."""
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
        "libens_runs_evals_per_s": [r["evals_per_s"] for r in res["libens"]],
        "libensemble_runs_evals_per_s": [r["evals_per_s"] for r in res["libensemble"]],
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
    print()
    for line in summary(rows):
        print(line)


def _verdict(met: bool) -> str:
    return "met" if met else "not met"


def summary(rows: list[dict]) -> list[str]:
    """The lines under the table: the rows against the issue's targets (ten times
    libEnsemble on every row and twenty in the median; cost per evaluation within 4x the
    transport's round trip; the first evaluation with local comms no later)."""
    lines = []
    ratios = [r["ratio"] for r in rows if r["ratio"]]
    if ratios:
        median, low = statistics.median(ratios), min(ratios)
        whole = len(rows) == len(WORKLOADS) * len(CONFIGS)
        lines.append(
            f"median ratio {median:.1f}, min {low:.1f} over {len(ratios)} configurations; "
            f"{sum(x >= 10 for x in ratios)} at 10x or more, "
            f"{sum(x >= 20 for x in ratios)} at 20x or more (target 10x on every row: "
            f"{_verdict(low >= 10 and len(ratios) == len(rows))}; 20x in the median: "
            + (_verdict(median >= 20) if whole else "for the whole table only")
            + ")"
        )
    name = "{workload} {comms} {nworkers}".format_map
    key = "libens_us_per_eval_over_floor"
    floor = [r for r in rows if r[key] is not None]
    over = [r for r in floor if r[key] > 4]
    line = (
        f"within 4x the transport round trip: {len(floor) - len(over)} of {len(floor)} "
        f"(target every row: {_verdict(not over)})"
    )
    if over:
        line += "; not: " + ", ".join(f"{name(r)} ({r[key]:.1f}x)" for r in over)
    lines.append(line)
    local = [
        r
        for r in rows
        if r["comms"] == "local"
        and None not in (r["libens_first_eval_s"], r["libensemble_first_eval_s"])
    ]
    if local:
        first = sum(r["libens_first_eval_s"] <= r["libensemble_first_eval_s"] for r in local)
        lines.append(
            f"first evaluation with local comms: libens no later in {first} of {len(local)} "
            f"(target every row: {_verdict(first == len(local))})"
        )
    short = [r["evals"] for r in rows if r.get("evals", TARGET_EVALS) < TARGET_EVALS]
    if short:
        lines.append(
            f"({min(short):,} evaluations per run: the targets are for {TARGET_EVALS:,} or "
            "more, where libEnsemble's cost per evaluation has grown with its history)"
        )
    return lines


def scale_summary(big: dict | None, sleepy: dict | None) -> list[str]:
    """The scale runs against the issue's targets, a line each: 1M evaluations (the rate at
    the end within 20% of that at 10k; peak memory within twice the history plus 100 MB),
    256 sleeping workers (90% of the ideal rate)."""
    if big:
        end, rss, bound = big["end_vs_10k"], big["manager_peak_rss_mb"], big["memory_bound_mb"]
        evals = (
            f"{big['evals']:,} evaluations: the last 10k at {end:.2f}x the first 10k's rate "
            f"(target within 20%: {_verdict(0.8 <= end <= 1.2)}); manager peak RSS {rss} MB "
            f"for a {big['history_mb']} MB history (target {bound} MB or less: "
            f"{_verdict(rss <= bound)})"
        )
    else:
        evals = "the run of --big evaluations failed (see above)"
    if sleepy:
        share = sleepy["steady_fraction_of_ideal"]
        sleepers = (
            f"256 sleeping workers: {100 * share:.1f}% of the ideal "
            f"{sleepy['ideal_evals_per_s']:,.0f} evaluations/s "
            f"(target 90% or more: {_verdict(share >= 0.9)})"
        )
    else:
        sleepers = "the 256-sleeping-workers run failed (see above)"
    return [evals, sleepers]


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
    for line in scale_summary(big, sleepy):
        print(line)


def main() -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--compare", action="store_true", help="libens against libEnsemble 1.6.1")
    p.add_argument("--scale", action="store_true", help="1M evaluations; 256 sleeping workers")
    p.add_argument("--quick", action="store_true", help="2,000 evaluations, one run each")
    p.add_argument(
        "--workloads",
        nargs="+",
        choices=WORKLOADS,
        default=WORKLOADS,
        metavar="WORKLOAD",
        help=f"of {', '.join(WORKLOADS)} (default: all)",
    )
    p.add_argument(
        "--comms",
        nargs="+",
        choices=list(FLOOR_OF),
        default=list(FLOOR_OF),
        metavar="COMMS",
        help=f"of {', '.join(FLOOR_OF)} (default: all)",
    )
    p.add_argument("--repeat", type=int, default=3, help="runs per framework and row")
    p.add_argument("--evals", type=int, default=TARGET_EVALS, help="evaluations per run")
    p.add_argument("--big", type=int, default=1_000_000, help="evaluations of the scale run")
    p.add_argument(
        "--table",
        type=Path,
        metavar="FILE",
        help="print the summary of a saved --compare or --scale output",
    )
    args = p.parse_args()
    if args.table:
        rows = [json.loads(x) for x in args.table.read_text().splitlines() if x.startswith("{")]
        configs = [r for r in rows if "workload" in r and "scale" not in r]
        if configs:
            table(configs)
        runs = {r["scale"]: r for r in rows if "scale" in r and not r.get("failed")}
        if any("scale" in r for r in rows):
            for line in scale_summary(runs.get("evaluations"), runs.get("256 sleeping workers")):
                print(line)
        return
    if args.quick:
        args.evals, args.repeat = 2000, 1
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    if args.compare:
        compare(args)
    if args.scale:
        scale(args)
    if not (args.compare or args.scale):
        p.error("give --compare and/or --scale (or --table FILE)")


if __name__ == "__main__":
    main()
