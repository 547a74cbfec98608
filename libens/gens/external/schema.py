"""VOCS <-> the parameter schema of external generator programs (OmniOpt2-compatible), and
OmniOpt2-style parameter strings (``x range 123 100000000 int``, ``y choice a,b``,
``z fixed 111``)."""

from __future__ import annotations

from typing import Any

from gest_api.vocs import VOCS

from libens.errors import SpecError

_TYPE = {int: "INT", float: "FLOAT", str: "STRING", bool: "BOOL"}


def _is_int_dtype(dtype: Any) -> bool:
    return dtype in (int, "int", "int64", "int32", "i8", "<i8")


def value_type(values: list[Any]) -> str:
    """INT, FLOAT or STRING for a set of values."""
    if all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return "INT"
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
        return "FLOAT"
    return "STRING"


def parameters_from_vocs(vocs: Any) -> dict[str, dict[str, Any]]:
    """The ``parameters`` object of input.json."""
    params: dict[str, dict[str, Any]] = {}
    for name, var in vocs.variables.items():
        if hasattr(var, "domain"):
            kind = "INT" if _is_int_dtype(var.dtype) else "FLOAT"
            lo, hi = var.domain
            rng = [int(lo), int(hi)] if kind == "INT" else [float(lo), float(hi)]
            params[name] = {"parameter_type": "RANGE", "type": kind, "range": rng}
        else:
            values = sorted(var.values, key=str)
            params[name] = {
                "parameter_type": "CHOICE",
                "type": value_type(values),
                "values": values,
            }
    for name, const in vocs.constants.items():
        params[name] = {
            "parameter_type": "FIXED",
            "type": value_type([const.value]),
            "value": const.value,
        }
    return params


def objectives_from_vocs(vocs: Any) -> dict[str, str]:
    """The ``objectives`` object of input.json: name -> "min" | "max"."""
    out = {}
    for name, obj in vocs.objectives.items():
        kind = type(obj).__name__
        if kind not in ("MinimizeObjective", "MaximizeObjective"):
            raise SpecError(f"external generators support min/max objectives; {name!r} is {kind}")
        out[name] = "max" if kind == "MaximizeObjective" else "min"
    return out


def _number(text: str, kind: str, spec: str) -> int | float:
    try:
        return int(text) if kind == "int" else float(text)
    except ValueError:
        raise SpecError(f"parameter {spec!r}: {text!r} is not a {kind}") from None


def parse_parameter(spec: str) -> tuple[str, str, Any]:
    """``"x range 1 10 int"`` -> ("x", "variable", {"domain": [1, 10], "dtype": "int"});
    ``"y choice a,b"`` -> ("y", "variable", {"a", "b"}); ``"z fixed 3"`` -> ("z",
    "constant", 3)."""
    parts = spec.split()
    if len(parts) < 3:
        raise SpecError(
            f"parameter {spec!r}: expected 'NAME range LOW HIGH [int|float]', "
            "'NAME choice A,B,...' or 'NAME fixed VALUE'"
        )
    name, kind, rest = parts[0], parts[1].lower(), parts[2:]
    if kind == "range":
        if len(rest) not in (2, 3) or (len(rest) == 3 and rest[2] not in ("int", "float")):
            raise SpecError(f"parameter {spec!r}: expected 'NAME range LOW HIGH [int|float]'")
        num = rest[2] if len(rest) == 3 else "float"
        lo, hi = _number(rest[0], num, spec), _number(rest[1], num, spec)
        if not lo < hi:
            raise SpecError(f"parameter {spec!r}: LOW must be below HIGH")
        var = {"type": "ContinuousVariable", "domain": [lo, hi]}
        if num == "int":
            var["dtype"] = "int"
        return name, "variable", var
    if kind == "choice":
        values = [_auto(v) for v in " ".join(rest).split(",") if v.strip()]
        return name, "variable", set(values)
    if kind == "fixed":
        return name, "constant", _auto(" ".join(rest))
    raise SpecError(f"parameter {spec!r}: kind {parts[1]!r} is not range, choice or fixed")


def _auto(text: str) -> Any:
    text = text.strip()
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return text


def vocs_from_parameters(specs: list[str], objectives: dict[str, str]) -> VOCS:
    """A VOCS from OmniOpt2-style parameter strings and ``{"RESULT": "min"|"max"}``."""
    variables: dict[str, Any] = {}
    constants: dict[str, Any] = {}
    for spec in specs:
        name, role, value = parse_parameter(spec)
        (variables if role == "variable" else constants)[name] = value
    objs = {k: {"min": "MINIMIZE", "max": "MAXIMIZE"}[v.lower()] for k, v in objectives.items()}
    return VOCS(variables=variables, constants=constants, objectives=objs)
