"""A libEnsemble-style batch sampler: a non-persistent generator makes 50 points whenever
no point is waiting, and give_sim_work_first hands points to idle workers.

    python examples/batch_sampler.py --comms local -n 4
"""

from __future__ import annotations

import numpy as np

from libens import libE
from libens.alloc import give_sim_work_first
from libens.gens.sampling import latin_hypercube_sample
from libens.sims import rosenbrock
from libens.tools import add_unique_random_streams, parse_args

if __name__ == "__main__":
    nworkers, is_manager, libE_specs, _ = parse_args()
    sim_specs = {"sim_f": rosenbrock, "in": ["x"], "out": [("f", float)]}
    gen_specs = {
        "gen_f": latin_hypercube_sample,
        "out": [("x", float, 2)],
        "user": {"lb": [-2.0, -2.0], "ub": [2.0, 2.0], "gen_batch_size": 50},
    }
    persis_info = add_unique_random_streams({}, nworkers + 1)
    H, persis_info, flag = libE(
        sim_specs,
        gen_specs,
        {"sim_max": 500},
        persis_info,
        {"alloc_f": give_sim_work_first},
        libE_specs,
    )
    if is_manager:
        done = H[H["sim_ended"]]  # H also holds generated points not evaluated
        i = np.argmin(done["f"])
        print(f"{len(done)} points; best f = {done['f'][i]:.4g} at {done['x'][i]}")
