"""External generator programs in sh+awk, Node.js and Python, inside real ensembles."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from libens import VOCS, Ensemble, ExitCriteria, GenSpecs, LibeSpecs, SimSpecs
from libens.gens.external import ExternalGenerator

PROGRAMS = Path(__file__).parent / "programs"
COORDINATE_SEARCH = (
    Path(__file__).resolve().parents[3]
    / "examples"
    / "external_generator"
    / "coordinate_search.js"
)
VOCS_MIXED = VOCS(
    variables={
        "x": {"type": "ContinuousVariable", "domain": [1, 100], "dtype": "int"},
        "y": [0.0, 10.0],
        "c": {"a", "b", "c"},
    },
    constants={"z": 7},
    objectives={"f": "MINIMIZE"},
)
WEIGHT = {"a": 0.0, "b": 1.0, "c": 2.0}


def objective(p: dict) -> dict:
    assert isinstance(p["x"], int) and isinstance(p["y"], float) and p["z"] == 7
    return {"f": (p["x"] - 30) ** 2 + (p["y"] - 4) ** 2 + WEIGHT[p["c"]]}


def run(gen, sim_max, nworkers=2):
    return Ensemble(
        sim_specs=SimSpecs(simulator=objective, vocs=VOCS_MIXED),
        gen_specs=GenSpecs(generator=gen, vocs=VOCS_MIXED, batch_size=1),
        exit_criteria=ExitCriteria(sim_max=sim_max),
        libE_specs=LibeSpecs(comms="threads", nworkers=nworkers, disable_log_files=True),
    ).run()[0]


def check_points(H):
    done = H[H["sim_ended"]]
    assert np.all((1 <= done["x"]) & (done["x"] <= 100)) and done["x"].dtype.kind == "i"
    assert np.all(done["y"] <= done["x"])  # the constraint
    assert set(done["c"]) <= {"a", "b", "c"} and np.all(done["z"] == 7)
    return done


def test_sh_awk_random_program():
    gen = ExternalGenerator(
        VOCS_MIXED, ["sh", str(PROGRAMS / "random_search.sh")], seed=11, constraints=["y <= x"]
    )
    done = check_points(run(gen, 12))
    assert len(done) == 12 and len(np.unique(done["x"])) > 3


def test_node_coordinate_search_improves_on_its_trials():
    gen = ExternalGenerator(VOCS_MIXED, ["node", str(COORDINATE_SEARCH)], constraints=["y <= x"])
    done = check_points(run(gen, 40, nworkers=1))
    order = np.argsort(done["sim_ended_time"])
    f = done["f"][order]
    assert f.min() < f[0] / 10 and f.min() < 20


def test_python_program_returning_a_batch():
    gen = ExternalGenerator(
        VOCS_MIXED,
        [sys.executable, str(PROGRAMS / "batch_random.py")],
        seed=2,
        constraints=["y <= x"],
    )
    done = check_points(run(gen, 9))
    assert len(done) >= 9 and gen.calls <= 9  # three points per call
