"""VOCS <-> parameter schema, OmniOpt2-style parameter strings, linear constraints."""

from __future__ import annotations

import pytest

from libens import VOCS, SpecError
from libens.gens.external import parse_constraint, parse_parameter, vocs_from_parameters
from libens.gens.external.schema import objectives_from_vocs, parameters_from_vocs


def test_vocs_to_schema():
    vocs = VOCS(
        variables={
            "x": {"type": "ContinuousVariable", "domain": [123, 100000000], "dtype": "int"},
            "w": [0.5, 2.5],
            "y": {"5431", "1234"},
            "n": {1, 2},
        },
        constants={"z": "111"},
        objectives={"RESULT": "MAXIMIZE"},
    )
    p = parameters_from_vocs(vocs)
    assert p["x"] == {"parameter_type": "RANGE", "type": "INT", "range": [123, 100000000]}
    assert p["w"] == {"parameter_type": "RANGE", "type": "FLOAT", "range": [0.5, 2.5]}
    assert p["y"] == {"parameter_type": "CHOICE", "type": "STRING", "values": ["1234", "5431"]}
    assert p["n"] == {"parameter_type": "CHOICE", "type": "INT", "values": [1, 2]}
    assert p["z"] == {"parameter_type": "FIXED", "type": "STRING", "value": "111"}
    assert objectives_from_vocs(vocs) == {"RESULT": "max"}


def test_omniopt_parameter_strings():
    assert parse_parameter("x range 123 100000000 int") == (
        "x",
        "variable",
        {"type": "ContinuousVariable", "domain": [123, 100000000], "dtype": "int"},
    )
    assert parse_parameter("y choice 5431,1234") == ("y", "variable", {5431, 1234})
    assert parse_parameter("z fixed 111") == ("z", "constant", 111)
    vocs = vocs_from_parameters(
        ["x range 1 10 int", "y choice a,b", "z fixed 3.5"], {"RESULT": "min"}
    )
    assert parameters_from_vocs(vocs)["x"]["type"] == "INT"
    assert list(vocs.objectives) == ["RESULT"]
    for bad, msg in [
        ("x range 5 1", "LOW must be below HIGH"),
        ("x range a 2 int", "not a int"),
        ("x normal 0 1", "is not range, choice or fixed"),
        ("x", "expected"),
    ]:
        with pytest.raises(SpecError, match=msg):
            parse_parameter(bad)


@pytest.mark.parametrize(
    "text, values, holds",
    [
        ("x >= y", {"x": 3, "y": 2}, True),
        ("2*x + y <= 10", {"x": 4, "y": 3}, False),
        ("2*x + y <= 10", {"x": 3, "y": 4}, True),
        ("x - 3.5*z >= -1", {"x": 3, "z": 1}, True),
        ("x - 3.5*z >= -1", {"x": 2, "z": 1}, False),
        ("-x + 2 == y", {"x": 1, "y": 1}, True),
        ("x*2 <= 3 + y", {"x": 2, "y": 1}, True),
    ],
)
def test_linear_constraints(text, values, holds):
    assert parse_constraint(text, set(values)).holds(values) is holds


@pytest.mark.parametrize(
    "text, msg",
    [
        ("x*y <= 1", "not linear"),
        ("x / y <= 1", "cannot read"),
        ("sin(x) <= 1", "cannot read"),
        ("x <= y <= 2", "exactly one of"),
        ("x + <= 2", "empty or ends with an operator"),
        ("q <= 1", r"unknown parameter\(s\) \['q'\]"),
    ],
)
def test_bad_constraints_are_clear_errors(text, msg):
    with pytest.raises(SpecError, match=msg):
        parse_constraint(text, {"x", "y"})
