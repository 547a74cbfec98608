"""Simulations that are applications: each point is evaluated by launching an MPI program
(camel_app.py, 2 processes) through an MPIExecutor, in a calculation directory of its own
(``ensemble/sim0000``, ...; ``sim_dirs_make``).

    python examples/mpi_application/run.py --comms local -n 2
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from libens import libE
from libens.alloc import give_sim_work_first
from libens.executors import MPIExecutor
from libens.gens.sampling import uniform_random_sample
from libens.messages import WORKER_DONE
from libens.sims import six_hump_camel_func
from libens.tools import add_unique_random_streams, parse_args

HERE = Path(__file__).resolve().parent


def camel_by_application(H, persis_info, sim_specs, libE_info):
    """Launch the application for one point (in this call's directory) and read its result."""
    exctr = libE_info["executor"]
    x = H["x"][0]
    task = exctr.submit(calc_type="sim", num_procs=2, app_args=[x[0], x[1]])
    status = exctr.polling_loop(task, timeout=60)
    out = np.zeros(1, dtype=sim_specs["out"])
    out["f"] = float(Path("result.txt").read_text()) if status == WORKER_DONE else np.nan
    return out, persis_info, status


if __name__ == "__main__":
    nworkers, is_manager, libE_specs, _ = parse_args()
    libE_specs["sim_dirs_make"] = True
    libE_specs["reuse_output_dir"] = True  # a rerun overwrites the last run's directories
    exctr = MPIExecutor()  # finds mpiexec (the mpich wheel's, or the system's)
    exctr.register_app(HERE / "camel_app.py", calc_type="sim")
    H, persis_info, flag = libE(
        {"sim_f": camel_by_application, "in": ["x"], "out": [("f", float)]},
        {
            "gen_f": uniform_random_sample,
            "out": [("x", float, 2)],
            "user": {"lb": [-3.0, -2.0], "ub": [3.0, 2.0], "gen_batch_size": 8},
        },
        {"sim_max": 16},
        add_unique_random_streams({}, nworkers + 1),
        {"alloc_f": give_sim_work_first},
        libE_specs,
        executor=exctr,
    )
    if is_manager:
        done = H[H["sim_ended"]]
        agrees = all(abs(r["f"] - six_hump_camel_func(r["x"])) < 1e-12 for r in done)
        print(f"{len(done)} points evaluated by launching an MPI application; exit flag {flag}")
        print(f"results agree with six_hump_camel_func: {agrees}")
