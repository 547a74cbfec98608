"""What a run imports at start-up: gest-api (pydantic models built at import) only when a
run uses it."""

from __future__ import annotations

import subprocess
import sys

CLASSIC_RUN = """
import sys
import numpy as np
from libens import libE
from libens.gens.sampling import uniform_random_sample

def sim_f(H, persis_info, sim_specs, libE_info):
    out = np.zeros(len(H), dtype=sim_specs["out"])
    out["f"] = H["x"][:, 0]
    return out, persis_info

gen = {"gen_f": uniform_random_sample, "out": [("x", float, (2,))],
       "user": {"lb": np.zeros(2), "ub": np.ones(2), "gen_batch_size": 5}}
sim = {"sim_f": sim_f, "in": ["x"], "out": [("f", float)]}
H, _, flag = libE(sim, gen, {"sim_max": 10}, None, None,
                  {"comms": "threads", "nworkers": 2, "disable_log_files": True,
                   "save_H_on_completion": False})
print(int(H["sim_ended"].sum()), flag, "gest_api" in sys.modules)
from libens import VOCS
print(VOCS.__module__, "gest_api" in sys.modules)
"""


def test_a_classic_run_does_not_import_gest_api_until_vocs_is_asked_for():
    done = subprocess.run(
        [sys.executable, "-c", CLASSIC_RUN], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[:2] == ["10 0 False", "gest_api.vocs True"]
