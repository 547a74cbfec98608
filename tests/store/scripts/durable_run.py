"""A durable run for the resume tests. argv: run_dir sim_max [signal_at_sim_id SIGNAME]."""

import os
import signal
import sys
import time

from libens import VOCS, Ensemble, ExitCriteria, GenSpecs, LibeSpecs, SimSpecs
from libens.gens import UniformSample

RUN_DIR, SIM_MAX = sys.argv[1], int(sys.argv[2])
TRIGGER = int(sys.argv[3]) if len(sys.argv) > 3 else -1
SIGNAL = getattr(signal, sys.argv[4]) if len(sys.argv) > 4 else None
VOCS_ = VOCS(variables={"x": [-1.0, 1.0], "y": [-1.0, 1.0]}, objectives={"f": "MINIMIZE"})


def sim_f(H, persis_info, sim_specs, libE_info):
    import numpy as np

    sim_id = int(libE_info["H_rows"][0])
    time.sleep(0.01)
    with open(os.path.join(RUN_DIR, "..", "evals.log"), "a") as log:
        log.write(f"{sim_id}\n")
    if sim_id == TRIGGER:
        os.kill(os.getppid(), SIGNAL)
        time.sleep(5)
    out = np.zeros(len(H), dtype=sim_specs["out"])
    out["f"] = H["x"] ** 2 + H["y"] ** 2
    return out, persis_info


if __name__ == "__main__":
    H, _, flag = Ensemble(
        sim_specs=SimSpecs(sim_f=sim_f, vocs=VOCS_),
        gen_specs=GenSpecs(generator=UniformSample(VOCS_, seed=3), vocs=VOCS_),
        exit_criteria=ExitCriteria(sim_max=SIM_MAX),
        libE_specs=LibeSpecs(comms="local", nworkers=4, run_dir=RUN_DIR, chunk_short_sims=False),
    ).run()
    print(f"ENDED {int(H['sim_ended'].sum())} FLAG {flag}", flush=True)
