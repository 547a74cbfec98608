"""Demo: a persistent sampler proposes points, workers evaluate the six-hump camel function,
results flow back asynchronously. Prints the best point found. The same script runs on
every comms:

    python examples/demo.py                      # local processes, 4 workers
    python examples/demo.py --comms threads -n 4
    python examples/demo.py --comms tcp -n 4     # workers dial in over 127.0.0.1
    mpiexec -n 5 python examples/demo.py         # rank 0 manages, ranks 1-4 evaluate
"""

from __future__ import annotations

import sys

import numpy as np

from libens import AllocSpecs, Ensemble, ExitCriteria, GenSpecs, LibeSpecs, SimSpecs
from libens.alloc import only_persistent_gens
from libens.gens.sampling import persistent_uniform
from libens.sims import six_hump_camel
from libens.tools import parse_args


def main(argv: list[str]) -> None:
    nworkers, is_manager, libE_specs, _ = parse_args(argv, default_nworkers=4)
    ensemble = Ensemble(
        sim_specs=SimSpecs(sim_f=six_hump_camel, inputs=["x"], outputs=[("f", float)]),
        gen_specs=GenSpecs(
            gen_f=persistent_uniform,
            persis_in=["x", "f"],
            outputs=[("x", float, 2)],
            user={"lb": [-3.0, -2.0], "ub": [3.0, 2.0], "initial_batch_size": 8},
            async_return=True,
        ),
        alloc_specs=AllocSpecs(alloc_f=only_persistent_gens),
        exit_criteria=ExitCriteria(sim_max=2000),
        libE_specs=LibeSpecs(**libE_specs, run_dir="demo_output", overwrite=True),
    )
    H, _, flag = ensemble.run()
    if not is_manager:
        return
    done = H[H["sim_ended"]]
    best = done[np.argmin(done["f"])]
    print(
        f"{len(done)} evaluations on {nworkers} workers ({libE_specs['comms']}), exit flag {flag}"
    )
    print(
        f"best f = {best['f']:.5f} at x = {best['x'].round(4).tolist()} "
        f"(global minimum -1.03163 at (0.0898, -0.7126) and (-0.0898, 0.7126))"
    )
    print("journal, history.npy, summaries, stats and log written to demo_output/")


if __name__ == "__main__":
    main(sys.argv[1:])
