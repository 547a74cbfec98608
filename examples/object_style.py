"""libEnsemble 1.x's object style, which runs here with only the imports changed: an
Ensemble reads the command line, gets its specs as attributes, random streams for its
workers, runs, and saves its output next to the script's name.

    python examples/object_style.py --comms local -n 3
    mpiexec -n 4 python examples/object_style.py
"""

from __future__ import annotations

import numpy as np

from libens import AllocSpecs, Ensemble, ExitCriteria, GenSpecs, LibeSpecs, SimSpecs
from libens.alloc import only_persistent_gens
from libens.gens.sampling import persistent_uniform
from libens.sims import six_hump_camel

if __name__ == "__main__":
    sampling = Ensemble(parse_args=True)
    sampling.libE_specs = LibeSpecs(save_H_on_completion=False, disable_log_files=True)
    sampling.sim_specs = SimSpecs(sim_f=six_hump_camel, inputs=["x"], outputs=[("f", float)])
    sampling.gen_specs = GenSpecs(
        gen_f=persistent_uniform,
        persis_in=["x", "f"],
        outputs=[("x", float, 2)],
        user={"lb": [-3.0, -2.0], "ub": [3.0, 2.0], "initial_batch_size": 10},
    )
    sampling.alloc_specs = AllocSpecs(alloc_f=only_persistent_gens)
    sampling.exit_criteria = ExitCriteria(sim_max=200)
    sampling.add_random_streams()
    sampling.run()
    if sampling.is_manager:
        saved = sampling.save_output(__file__)
        done = sampling.H[sampling.H["sim_ended"]]
        print(f"{len(done)} evaluations on {sampling.nworkers} workers, exit flag {sampling.flag}")
        print(f"best f = {np.min(done['f']):.4f}; saved {saved}")
