"""Run a plain simulator ``fn(input: dict, **user) -> dict`` once per point, as a sim_f."""

from __future__ import annotations

from typing import Any

import numpy as np

from libens.errors import SimulatorError
from libens.userfuncs import func_name


def to_python(value: Any) -> Any:
    """NumPy scalars and arrays to Python scalars and lists (objects with ``.value`` unwrapped)."""
    if hasattr(value, "value") and not isinstance(value, np.ndarray | np.generic):
        value = value.value
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return value


# how rows of a dtype become dicts of the named fields (worked out once per dtype and names):
# "leading": the names are the first fields, all plain scalars; "scalars": plain scalars
# elsewhere; "mixed": some field is an array or holds objects
_PLANS: dict[tuple[np.dtype, tuple[str, ...]], str] = {}


def _plan(dtype: np.dtype, names: list[str]) -> str:
    if not names or any(dtype[n].shape != () or dtype[n].hasobject for n in names):
        return "mixed"
    return "leading" if list(dtype.names[: len(names)]) == names else "scalars"


def rows_as_dicts(rows: np.ndarray, names: list[str]) -> list[dict[str, Any]]:
    """One dict of Python values per row, converted in as few NumPy calls as possible: one
    ``tolist`` when the named fields are plain scalars, else one per column."""
    key = (rows.dtype, tuple(names))
    plan = _PLANS.get(key)
    if plan is None:
        plan = _PLANS[key] = _plan(rows.dtype, names)
    if plan == "leading":  # zip stops after the last name: no view of the named fields
        return [dict(zip(names, values, strict=False)) for values in rows.tolist()]
    if plan == "scalars":
        return [dict(zip(names, values, strict=True)) for values in rows[names].tolist()]
    objects = rows.dtype.hasobject  # else no field needs a look
    cols = [
        [to_python(v) for v in rows[n]]
        if objects and rows.dtype[n].hasobject
        else rows[n].tolist()
        for n in names
    ]
    return [dict(zip(names, values, strict=True)) for values in zip(*cols, strict=True)]


def simulator_sim_f(H: np.ndarray, persis_info: dict, sim_specs: Any, libE_info: Any):
    """sim_f adapter: calls ``sim_specs.simulator`` per row with the input fields as a dict."""
    fn = sim_specs.simulator
    names = [n for n in H.dtype.names if n in sim_specs.inputs]
    H_o = np.zeros(len(H), dtype=sim_specs.outputs)
    for i, point in enumerate(rows_as_dicts(H, names)):
        out = fn(point, **sim_specs.user)
        if not isinstance(out, dict):
            raise SimulatorError(
                f"simulator {func_name(fn)} returned {type(out).__name__}; "
                "return a dict of output name -> value"
            )
        for key in H_o.dtype.names:
            if key not in out:
                raise SimulatorError(
                    f"simulator {func_name(fn)} did not return {key!r} for point {point}; "
                    f"return every output the VOCS declares ({', '.join(H_o.dtype.names)})"
                )
            H_o[key][i] = to_python(out[key])
    return H_o, persis_info
