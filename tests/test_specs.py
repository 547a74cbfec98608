"""Specs read like libEnsemble's dicts, so unmodified user functions work."""

from __future__ import annotations

from libens import GenSpecs, SimSpecs
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
