"""Simulations of different sizes sharing the machine: each point asks for 1 or 2 processes
(its ``num_procs`` field), the manager lends it that many of the job's resource sets
(``num_resource_sets``), and the MPI launch fills what it was lent.

The job here is a 2-core slice of this machine, cut into 2 sets of 1 core: a point asking
for 2 processes waits until both are free, and 3 workers never run more than 2 ranks.

    python examples/mpi_application/variable_resources.py --comms local -n 3
"""

from __future__ import annotations

import socket
from pathlib import Path

import numpy as np

from libens import Ensemble, ExitCriteria, GenSpecs, LibeSpecs, SimSpecs
from libens.executors import MPIExecutor
from libens.messages import WORKER_DONE
from libens.resources import Resources
from libens.sims import six_hump_camel_func
from libens.tools import add_unique_random_streams, parse_args

HERE = Path(__file__).resolve().parent


def points_of_two_sizes(H, persis_info, gen_specs, libE_info):
    """Uniform points in the camel's box, each asking for 1 or 2 processes."""
    rng = persis_info["rand_stream"]
    n = gen_specs["user"]["gen_batch_size"]
    out = np.zeros(n, dtype=gen_specs["out"])
    out["x"] = rng.uniform([-3.0, -2.0], [3.0, 2.0], (n, 2))
    out["num_procs"] = rng.integers(1, 3, n)
    return out, persis_info


def camel_on_lent_sets(H, persis_info, sim_specs, libE_info):
    """Launch the application on the resource sets this call was lent (no counts given:
    one process per lent core) and read its result and its number of ranks."""
    exctr = libE_info["executor"]
    x = H["x"][0]
    task = exctr.submit(calc_type="sim", app_args=[x[0], x[1]])
    status = exctr.polling_loop(task, timeout=60)
    out = np.zeros(1, dtype=sim_specs["out"])
    done = status == WORKER_DONE
    out["f"] = float(Path("result.txt").read_text()) if done else np.nan
    out["ranks"] = int(Path("ranks.txt").read_text()) if done else 0
    return out, persis_info, status


if __name__ == "__main__":
    nworkers, is_manager, libE_specs, _ = parse_args()
    exctr = MPIExecutor()
    exctr.register_app(HERE / "camel_app.py", calc_type="sim")
    ensemble = Ensemble(
        sim_specs=SimSpecs(
            sim_f=camel_on_lent_sets, inputs=["x"], outputs=[("f", float), ("ranks", int)]
        ),
        gen_specs=GenSpecs(
            gen_f=points_of_two_sizes,
            outputs=[("x", float, 2), ("num_procs", int)],
            user={"gen_batch_size": 6},
        ),
        exit_criteria=ExitCriteria(sim_max=12),
        libE_specs=LibeSpecs(
            **libE_specs,
            sim_dirs_make=True,
            reuse_output_dir=True,
            num_resource_sets=2,
            resources=Resources(nodes=(socket.gethostname(),), cores_per_node=2, local=True),
        ),
        persis_info=add_unique_random_streams({}, nworkers + 1),
        executor=exctr,
    )
    H, persis_info, flag = ensemble.run()
    if is_manager:
        done = H[H["sim_ended"]]
        fits = bool(np.all(done["ranks"] == done["num_procs"]))
        agrees = all(abs(r["f"] - six_hump_camel_func(r["x"])) < 1e-12 for r in done)
        sizes = ", ".join(f"{k} process(es): {np.sum(done['num_procs'] == k)}" for k in (1, 2))
        print(f"{len(done)} points evaluated ({sizes}); exit flag {flag}")
        print(f"every launch ran as many ranks as its point asked for: {fits}")
        print(f"results agree with six_hump_camel_func: {agrees}")
