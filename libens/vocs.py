"""VOCS as the single source of truth: history fields and dtypes derived from it, and the
checks gest-api itself does not make."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from libens.errors import SpecError

if TYPE_CHECKING:
    from gest_api.vocs import VOCS

__all__ = [
    "VOCS",
    "check_vocs",
    "gen_output_fields",
    "require_continuous",
    "sim_input_names",
    "sim_output_fields",
    "vocs_field_names",
]


def __getattr__(name: str) -> Any:
    """``VOCS`` loads on first use: importing gest-api's VOCS builds its pydantic models
    (12-16 ms), which a run with a classic gen_f need not pay for at start-up."""
    if name == "VOCS":
        from gest_api.vocs import VOCS

        return VOCS
    raise AttributeError(f"module 'libens.vocs' has no attribute {name!r}")


_CATEGORIES = ("variables", "constants", "objectives", "constraints", "observables")


def check_vocs(vocs: Any) -> None:
    """Reject a VOCS that uses one name in two categories (gest-api allows it)."""
    seen: dict[str, str] = {}
    for cat in _CATEGORIES:
        for name in getattr(vocs, cat, {}) or {}:
            if name in seen:
                raise SpecError(
                    f"VOCS name {name!r} is both in {seen[name]} and in {cat}; every variable, "
                    "constant, objective, constraint and observable needs its own name"
                )
            seen[name] = cat


def require_continuous(vocs: Any, who: str) -> None:
    """For generators that need numeric bounds: every variable must be continuous."""
    for name, var in vocs.variables.items():
        if not hasattr(var, "domain"):
            raise SpecError(
                f"{who} needs numeric bounds, but VOCS variable {name!r} is discrete "
                f"(values {sorted(var.values, key=str)}); use a continuous variable "
                "[lower, upper] or a generator that supports discrete variables"
            )
        lo, hi = var.domain
        if not (np.isfinite(lo) and np.isfinite(hi)):
            raise SpecError(
                f"{who} needs finite bounds, but VOCS variable {name!r} has domain {var.domain}"
            )


def _explicit(field: Any) -> tuple | None:
    dt = getattr(field, "dtype", None)
    if dt is None:
        return None
    if isinstance(dt, tuple):  # (base, shape)
        return (dt[0], dt[1]) if len(dt) == 2 else (dt[0],)
    return (dt,)


def _infer(values: list[Any]) -> tuple:
    if all(isinstance(v, bool | np.bool_) for v in values):
        return (bool,)
    if all(isinstance(v, int | np.integer) and not isinstance(v, bool) for v in values):
        return (int,)
    if all(isinstance(v, int | float | np.number) for v in values):
        return (float,)
    width = max(len(str(v)) for v in values)
    return (f"U{max(width, 1)}",)


def _variable_spec(name: str, var: Any) -> tuple:
    explicit = _explicit(var)
    if explicit is not None:
        return (name, *explicit)
    if hasattr(var, "domain"):
        return (name, float)
    return (name, *_infer(list(var.values)))


def _constant_spec(name: str, const: Any) -> tuple:
    explicit = _explicit(const)
    if explicit is not None:
        return (name, *explicit)
    value = getattr(const, "value", const)
    if isinstance(value, list | tuple | np.ndarray):
        arr = np.asarray(value)
        return (name, arr.dtype, arr.shape)
    return (name, *_infer([value]))


def gen_output_fields(vocs: Any, returns_id: bool = False) -> list[tuple]:
    """History fields a generator fills: variables and constants (plus ``_id``)."""
    fields = [_variable_spec(n, v) for n, v in vocs.variables.items()]
    fields += [_constant_spec(n, c) for n, c in vocs.constants.items()]
    if returns_id:
        fields.append(("_id", int))
    return fields


def sim_input_names(vocs: Any) -> list[str]:
    """What a simulation reads: variables and constants."""
    return list(vocs.variables) + list(vocs.constants)


def sim_output_fields(vocs: Any) -> list[tuple]:
    """What a simulation writes: objectives, constraints, observables (float unless a
    ``dtype`` is declared)."""
    out = []
    for name in vocs.output_names:
        field = (
            vocs.objectives.get(name) or vocs.constraints.get(name) or vocs.observables.get(name)
        )
        explicit = _explicit(field)
        out.append((name, *(explicit or (float,))))
    return out


def vocs_field_names(vocs: Any) -> list[str]:
    """Every VOCS name, in category order: what ``ingest`` receives."""
    names: list[str] = []
    for cat in _CATEGORIES:
        for name in getattr(vocs, cat, {}) or {}:
            if name not in names:
                names.append(name)
    return names
