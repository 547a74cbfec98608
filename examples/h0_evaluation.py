"""Evaluate a set of points you already have (H0) with no generator.

python examples/h0_evaluation.py --comms threads -n 2
"""

from __future__ import annotations

import numpy as np

from libens import AllocSpecs, ExitCriteria, SimSpecs, libE
from libens.alloc import give_pregenerated_work
from libens.sims import six_hump_camel
from libens.tools import parse_args

if __name__ == "__main__":
    nworkers, is_manager, libE_specs, _ = parse_args()
    grid = np.stack(np.meshgrid(np.linspace(-2, 2, 11), np.linspace(-1, 1, 11)), -1).reshape(-1, 2)
    H0 = np.zeros(len(grid), dtype=[("x", float, 2)])
    H0["x"] = grid
    H, _, _ = libE(
        SimSpecs(sim_f=six_hump_camel, inputs=["x"], outputs=[("f", float)]),
        None,
        ExitCriteria(sim_max=len(H0)),
        alloc_specs=AllocSpecs(alloc_f=give_pregenerated_work),
        libE_specs=libE_specs,
        H0=H0,
    )
    if is_manager:
        i = np.argmin(H["f"])
        print(
            f"evaluated {H['sim_ended'].sum()} of {len(H0)} grid points; best {H['f'][i]:.4f} "
            f"at {H['x'][i]}"
        )
