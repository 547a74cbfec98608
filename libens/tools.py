"""Helpers for calling scripts, with libEnsemble's names: random streams, argument parsing
and saving a run's output."""

from __future__ import annotations

import argparse
import logging
import pickle
from pathlib import Path
from typing import Any

import numpy as np

logger = logging.getLogger("libens")


def add_unique_random_streams(
    persis_info: dict, nstreams: int, seed: int | str | None = ""
) -> dict:
    """Give entries 0..nstreams-1 of ``persis_info`` independent NumPy random streams.

    Stream i is seeded with i (reproducible runs) unless ``seed`` is an int (then seed+i) or
    None (fresh entropy).
    """
    for i in range(nstreams):
        if seed is None:
            rng = np.random.default_rng()
        elif isinstance(seed, int) and not isinstance(seed, bool):
            rng = np.random.default_rng(seed + i)
        else:
            rng = np.random.default_rng(i)
        entry = persis_info.setdefault(i, {})
        entry["rand_stream"] = rng
        entry["worker_num"] = i
    return persis_info


def parse_args(
    argv: list[str] | None = None, default_nworkers: int | None = None
) -> tuple[int, bool, dict[str, Any], dict[str, Any]]:
    """Read ``--comms`` and ``-n/--nworkers`` (and tcp/mpi options) from the command line.

    Returns ``(nworkers, is_manager, libE_specs, misc_args)`` like libEnsemble; ``libE_specs``
    is a dict for ``LibeSpecs``. Under an MPI launcher the comms default to ``mpi`` (one worker
    per rank after the first), else to ``local``; ``default_nworkers`` applies when no
    ``-n`` is given.
    """
    p = argparse.ArgumentParser(add_help=True)
    p.add_argument("--comms", choices=["local", "threads", "mpi", "tcp"], default=None)
    p.add_argument("-n", "--nworkers", type=int, default=None)
    p.add_argument("--ip", default=None)
    p.add_argument("--port", type=int, default=0)
    p.add_argument(
        "--start-method",
        dest="start_method",
        default=None,
        choices=["fork", "spawn", "forkserver"],
    )
    p.add_argument(
        "--progress",
        type=float,
        default=None,
        metavar="SECONDS",
        help="print a progress line every SECONDS (LibeSpecs.progress_interval)",
    )
    args, misc = p.parse_known_args(argv)
    comms = args.comms
    if comms is None:
        from libens.comms.registry import launched_under_mpi

        comms = "mpi" if launched_under_mpi() else "local"
    specs: dict[str, Any] = {"comms": comms}
    is_manager = True
    nworkers = args.nworkers or 0
    if comms == "mpi":
        from libens.comms.registry import get

        backend = get("mpi")()
        is_manager = backend.is_manager
        nworkers = backend.default_nworkers or 0
    else:
        if args.nworkers is None and default_nworkers is None:
            p.error(f"--comms {comms} needs -n/--nworkers")
        nworkers = args.nworkers or default_nworkers or 0
        specs["nworkers"] = nworkers
    if comms == "tcp":
        specs["ip"] = args.ip
        specs["port"] = args.port
    if args.start_method:
        specs["start_method"] = args.start_method
    if args.progress is not None:
        specs["progress_interval"] = args.progress
    return nworkers, is_manager, specs, {"extra": misc}


def save_libE_output(
    H: np.ndarray,
    persis_info: dict,
    basename: str,
    nworkers: int,
    dest_path: str | Path | None = None,
    mess: str = "Run completed",
    append_attrs: bool = True,
) -> str:
    """Save ``H`` (``.npy``) and ``persis_info`` (``.pickle``) in ``dest_path`` (default:
    here), named as libEnsemble names them: the script's name (``basename``, usually
    ``__file__``) and, with ``append_attrs``,
    ``_history_length=<rows>_evals=<evaluated>_workers=<nworkers>``. Returns the
    history file's path."""
    where = Path(dest_path) if dest_path is not None else Path.cwd()
    name = Path(basename).stem
    attrs = f"length={len(H)}_evals={int(np.sum(H['sim_ended']))}_workers={nworkers}"
    history = where / (f"{name}_history_{attrs}" if append_attrs else name)
    persis = where / (f"{name}_persis_info_{attrs}" if append_attrs else name)
    np.save(f"{history}.npy", H)
    with open(f"{persis}.pickle", "wb") as f:
        pickle.dump(persis_info, f)
    logger.info("%s: history saved to %s.npy", mess, history)
    return f"{history}.npy"
