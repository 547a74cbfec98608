"""The manager's own cost per evaluation: a persistent-generator run whose workers are an
in-process pool that answers every message at once (no processes, no waiting).

    python benchmarks/manager_cost.py --evals 20000
    OPENBLAS_NUM_THREADS=1 PYTHONHASHSEED=0 setarch "$(uname -m)" -R \
        valgrind --tool=callgrind --callgrind-out-file=/dev/null \
        python benchmarks/manager_cost.py --evals 3000     # exact instruction counts

Prints one JSON line. Timings on a shared machine are noisy; under callgrind, the difference
of the instruction counts of two runs (e.g. 1,000 and 3,000 evaluations) divided by the
difference of evaluations is the exact cost of one, start-up excluded. Fix the hash seed,
keep OpenBLAS to one thread and turn address randomization off: otherwise the count moves by
2-3% from run to run (OpenBLAS's idle threads run instructions of their own).
``--history 1000000`` starts from a million evaluated rows: the same difference then shows
whether an evaluation costs more in a long run. ``--batch 4`` has the generator send 4
points a round (as the benchmark's workloads do with 4 workers) instead of 2: what a round
costs the manager is then shared by twice as many evaluations.
"""

from __future__ import annotations

import argparse
import collections
import json
import time
from collections.abc import Iterable
from typing import Any

import numpy as np

from libens import libE
from libens.alloc import only_persistent_gens
from libens.comms import registry
from libens.comms.base import Comms, WorkerMain, WorkerPool
from libens.gens.sampling import persistent_uniform
from libens.messages import (
    EVAL_GEN_TAG,
    EVAL_SIM_TAG,
    FINISHED_PERSISTENT_GEN_TAG,
    GenOutput,
    Goodbye,
    Result,
    Stop,
    Tag,
    Work,
)

X = np.dtype([("x", float, (2,))])
F = np.dtype([("f", float)])
DONE = [("sim_started", bool), ("sim_ended", bool), ("gen_informed", bool)]  # H0 rows: done


class InstantPool(WorkerPool):
    """Workers that answer at once: a sim returns f = sum(x**2), the generator returns as
    many uniform points as results it got (``first_batch`` to begin with)."""

    first_batch = 2

    def __init__(self, worker_ids: list[int]) -> None:
        self._ids = worker_ids
        self._replies: collections.deque = collections.deque()
        self._rng = np.random.default_rng(0)

    @property
    def worker_ids(self) -> list[int]:
        return self._ids

    def send(self, worker_id: int, msg: Any) -> None:
        if isinstance(msg, Work) and msg.tag == EVAL_SIM_TAG:
            out = np.zeros(len(msg.sim_ids), dtype=F)
            out["f"] = np.sum(msg.rows["x"] ** 2, axis=1)
            reply: Any = Result(EVAL_SIM_TAG, 0, out, None, None, 0.0, 1e-6)
        elif isinstance(msg, Work):
            rows = np.zeros(len(msg.sim_ids) or self.first_batch, dtype=X)
            rows["x"] = self._rng.uniform(-1.0, 1.0, (len(rows), 2))
            reply = GenOutput(EVAL_GEN_TAG, rows)
        elif isinstance(msg, Stop) and msg.tag == Tag.PERSIS_STOP:
            reply = Result(EVAL_GEN_TAG, FINISHED_PERSISTENT_GEN_TAG, None, None, None, 0.0, 0.0)
        elif isinstance(msg, Stop):
            reply = Goodbye(None)
        else:
            return
        self._replies.append((worker_id, reply))

    def recv_any(self, timeout: float | None = None) -> list[tuple[int, Any]]:
        out = list(self._replies)
        self._replies.clear()
        return out

    def close(self, timeout: float = 5.0) -> None:
        pass


class InstantComms(Comms):
    def __init__(self, **_: Any) -> None:
        pass

    def open_pool(
        self, nworkers: int, worker_main: WorkerMain, inproc_ids: Iterable[int] = ()
    ) -> WorkerPool:
        return InstantPool(sorted([*inproc_ids, *range(1, nworkers + 1)]))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--evals", type=int, default=20000)
    p.add_argument(
        "--history",
        type=int,
        default=0,
        help="evaluated rows the run starts with (H0): the cost per evaluation must not grow",
    )
    p.add_argument(
        "--batch",
        type=int,
        default=2,
        help="points per round of the generator (the benchmark's workloads: one per worker)",
    )
    args = p.parse_args()
    InstantPool.first_batch = args.batch
    H0 = np.zeros(args.history, dtype=[("x", float, (2,)), ("f", float), *DONE])
    for name, _ in DONE:
        H0[name] = True
    registry._BACKENDS["threads"] = (__name__, "InstantComms")  # the instant pool stands in
    lb, ub = np.array([-3.0, -2.0]), np.array([3.0, 2.0])
    t0 = time.perf_counter()
    H, _, flag = libE(
        {"sim_f": lambda H: None, "in": ["x"], "out": [("f", float)]},
        {
            "gen_f": persistent_uniform,
            "persis_in": ["f", "x"],
            "out": [("x", float, (2,))],
            "user": {"lb": lb, "ub": ub, "initial_batch_size": args.batch},
        },
        {"sim_max": args.evals},
        None,
        {"alloc_f": only_persistent_gens},
        {
            "comms": "threads",
            "nworkers": 2,
            "disable_log_files": True,
            "save_H_on_completion": False,
        },
        H0,
    )
    wall = time.perf_counter() - t0
    done = int(H["sim_ended"].sum()) - args.history
    print(
        json.dumps(
            {
                "workload": "persis_batch",
                "evals": done,
                "batch": args.batch,
                "manager_us_per_eval": round(wall / done * 1e6, 1),
                "exit_flag": int(flag),
            }
        )
    )


if __name__ == "__main__":
    main()
