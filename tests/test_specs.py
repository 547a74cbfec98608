"""Specs read like libEnsemble's dicts, so unmodified user functions work."""

from __future__ import annotations

import userfuncs as uf

from libens import ExitCriteria, GenSpecs, LibeSpecs, SimSpecs, libE
from libens.alloc import only_persistent_gens
from libens.tools import add_unique_random_streams, parse_args


def test_dict_style_access_with_libensemble_keys():
    sim = SimSpecs(sim_f=len, **{"in": ["x"], "out": [("f", float)]}, user={"a": 1})
    assert sim["in"] == ["x"] and sim["out"] == [("f", float)]
    assert sim["user"]["a"] == 1 and "user" in sim and "vocs" not in sim
    assert sim.get("missing-key", 5) == 5 and sim.get("in") == ["x"]
    gen = GenSpecs(gen_f=len, outputs=[("x", float, 2)])
    assert gen["out"] == [("x", float, 2)] and gen["persis_in"] == []


def test_random_streams_and_parse_args():
    pi = add_unique_random_streams({}, 3)
    assert sorted(pi) == [0, 1, 2]
    again = add_unique_random_streams({}, 3)
    assert pi[2]["rand_stream"].random() == again[2]["rand_stream"].random()
    nworkers, is_manager, specs, _ = parse_args(["--comms", "threads", "-n", "3"])
    assert (nworkers, is_manager, specs["comms"], specs["nworkers"]) == (3, True, "threads", 3)


def test_fields_declared_on_the_functions_fill_the_specs():
    sim = SimSpecs(sim_f=uf.declared_sphere)
    gen = GenSpecs(gen_f=uf.declared_recording_gen, user={"b": 2})
    assert (sim.inputs, sim.outputs) == (["x"], [("f", float)])
    assert (gen.persis_in, gen.outputs, gen.inputs) == (
        ["x", "f", "gen_worker"],
        [("x", float, 2)],
        [],
    )
    assert SimSpecs(sim_f=uf.declared_sphere, outputs=[("g", float)]).outputs == [("g", float)]
    H, _, flag = libE(
        sim,
        gen,
        ExitCriteria(sim_max=8),
        alloc_specs={"alloc_f": only_persistent_gens},
        libE_specs=LibeSpecs(comms="threads", nworkers=2, disable_log_files=True),
    )
    done = H[H["sim_ended"]]
    assert flag == 0 and len(done) >= 8
    assert (done["f"] == (done["x"] ** 2).sum(axis=1)).all()
