"""The ``libens`` command: run a script, join a run as a TCP worker, inspect or clean a run,
show the resources a run would use."""

from __future__ import annotations

import argparse
import runpy
import sys
from pathlib import Path

from libens import report


def _run(args: argparse.Namespace) -> int:
    sys.argv = [args.script, *args.script_args]
    runpy.run_path(args.script, run_name="__main__")
    return 0


def _report(args: argparse.Namespace) -> int:
    H = report.load_history(args.path)
    print(report.summarize(H, args.objective).text())
    if args.plot:
        Path(args.plot).write_text(report.trajectory_svg(H, args.objective))
        print(f"best-so-far plot written to {args.plot}")
    return 0


def _clean(args: argparse.Namespace) -> int:
    from libens.store.clean import clean_run

    ids = clean_run(args.run_dir, args.dry_run, args.ids)
    verb = "would reset" if args.dry_run else "reset"
    print(f"{verb} {len(ids)} failed evaluation(s): {ids}")
    return 0


def _status(args: argparse.Namespace) -> int:
    from libens.store import RunDir, load_history

    rundir = RunDir(Path(args.run_dir))
    H = load_history(rundir.journal_path)
    print(report.summarize(H, args.objective).text())
    lock = Path(args.run_dir) / "lock"
    print(f"lock: {lock.read_text().strip()}" if lock.exists() else "not running (no lock)")
    return 0


def _resources(args: argparse.Namespace) -> int:
    from libens.resources import ResourceSets, assign, dedicated, detect

    job = dedicated(detect()) if args.dedicated else detect()
    print(f"job: {job.summary()}")
    if args.sets:
        sets = ResourceSets(job, args.sets)
        print(
            f"{args.sets} resource sets of {sets.cores_per_set} core(s) x "
            f"{sets.nodes_per_group} node(s) and {sets.gpus_per_set} GPU(s) each "
            f"({sets.slots} per node)"
        )
    if args.workers:
        shares = assign(job, range(1, args.workers + 1), args.zero_resource_workers)
        for wid in range(1, args.workers + 1):
            share = shares.get(wid)
            print(f"worker {wid}: {share.summary() if share else 'no resources'}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``libens`` console script."""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["worker"]:
        from libens.comms.tcp import worker_cli

        return worker_cli(argv[1:])
    p = argparse.ArgumentParser(prog="libens", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run an ensemble script (arguments go to the script)")
    run.add_argument("script")
    run.add_argument("script_args", nargs=argparse.REMAINDER)
    run.set_defaults(func=_run)

    rep = sub.add_parser("report", help="summarize a history (.npy file or run directory)")
    rep.add_argument("path")
    rep.add_argument("--objective", default="f", help="field to minimize (default: f)")
    rep.add_argument("--plot", metavar="FILE.svg", help="also write a best-so-far plot")
    rep.set_defaults(func=_report)

    cl = sub.add_parser(
        "clean",
        help="reset failed/unfinished evaluations of a run directory "
        "so that resuming evaluates them again",
    )
    cl.add_argument("run_dir")
    cl.add_argument("--dry-run", action="store_true", help="only say what would be reset")
    cl.add_argument("--ids", type=int, nargs="+", default=None, help="only these sim_ids")
    cl.set_defaults(func=_clean)

    st = sub.add_parser("status", help="progress of a run directory (running or stopped)")
    st.add_argument("run_dir")
    st.add_argument("--objective", default="f")
    st.set_defaults(func=_status)

    res = sub.add_parser(
        "resources",
        help="the nodes, cores and GPUs a run here would detect, and how they would be shared",
    )
    res.add_argument("--workers", type=int, default=0, help="show each worker's share")
    res.add_argument("--sets", type=int, default=0, help="show LibeSpecs.num_resource_sets")
    res.add_argument("--zero-resource-workers", type=int, nargs="*", default=[], metavar="WID")
    res.add_argument(
        "--dedicated", action="store_true", help="leave this node out (dedicated_mode)"
    )
    res.set_defaults(func=_resources)

    sub.add_parser(
        "worker",
        help="join a running ensemble over tcp: --connect HOST:PORT [--authkey-file FILE] "
        "(or set LIBENS_AUTHKEY)",
    )

    args = p.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
