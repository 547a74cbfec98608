"""An ensemble under mpiexec. argv: mode (auto|mpi|gen_on_manager|raise|die|subcomm|executor)."""

import json
import os
import sys
from pathlib import Path

import numpy as np
import userfuncs as uf

from libens import AllocSpecs, ExitCriteria, GenSpecs, LibeSpecs, SimSpecs, libE
from libens.alloc import only_persistent_gens

mode = sys.argv[1]
sim_f = {"raise": uf.failing_sim, "die": uf.dying_sim, "executor": uf.app_sim}.get(mode, uf.sphere)
executor = None
if mode == "executor":  # every rank builds it, as every rank runs this script
    from libens.executors import Executor

    executor = Executor()
    executor.register_app(
        Path(uf.__file__).parent / "executors/apps/sum_squares.py", calc_type="sim"
    )
sim = SimSpecs(sim_f=sim_f, inputs=["x"], outputs=[("f", float)])
specs = {"disable_log_files": True, "H_file_prefix": f"mpi_{mode}"}
if mode != "auto":
    specs["comms"] = "mpi"
if mode == "subcomm":
    from mpi4py import MPI

    world = MPI.COMM_WORLD
    specs["mpi_comm"] = world.Split(world.Get_rank() % 2, world.Get_rank())
    specs["H_file_prefix"] = f"mpi_subcomm_{world.Get_rank() % 2}"
if mode == "gen_on_manager":
    gen = GenSpecs(
        gen_f=uf.recording_gen, persis_in=["x", "f"], outputs=[("x", float, 2)], user={"b": 4}
    )
    alloc = AllocSpecs(alloc_f=only_persistent_gens)
    specs["gen_on_manager"] = True
else:
    gen = GenSpecs(gen_f=uf.batch_gen, outputs=[("x", float, 2)], user={"gen_batch_size": 8})
    alloc = None
H, persis_info, flag = libE(
    sim,
    gen,
    ExitCriteria(sim_max=40),
    alloc_specs=alloc,
    libE_specs=LibeSpecs(**specs),
    executor=executor,
)
if H is not None:
    done = H[H["sim_ended"]]
    line = json.dumps(
        {
            "flag": flag,
            "ended": int(len(done)),
            "correct": bool(np.allclose(done["f"], np.sum(done["x"] ** 2, axis=1))),
            "sim_workers": sorted(set(done["sim_worker"].tolist())),
            "gen_workers": sorted(set(H["gen_worker"].tolist())),
        }
    )
    os.write(1, (line + "\n").encode())  # one write: two managers' lines never interleave
