"""Specs from a TOML, JSON or YAML file, in libEnsemble's layout: a section per spec
(``sim_specs``, ``gen_specs``, ``alloc_specs``, ``exit_criteria``, ``libE_specs``),
functions named by their import path, outputs as ``{name: {type, size}}``."""

from __future__ import annotations

import importlib
import json
import tomllib
from pathlib import Path
from typing import Any

from libens.errors import SpecError

SECTIONS = ("sim_specs", "gen_specs", "alloc_specs", "exit_criteria", "libE_specs")
FUNCTIONS = ("sim_f", "gen_f", "alloc_f", "simulator")
_TYPES = {"float": float, "int": int, "bool": bool, "str": str, "complex": complex}


def load_spec_file(path: str | Path) -> dict[str, dict[str, Any]]:
    """Each section of the file as spec fields (functions imported, outputs as NumPy
    field specs); the format is read from the suffix: .toml, .json, .yaml/.yml."""
    path = Path(path)
    loaded = _read(path)
    if not isinstance(loaded, dict):
        raise SpecError(f"{path}: expected sections {', '.join(SECTIONS)}; found no mapping")
    specs = {}
    for section, fields in loaded.items():
        if section not in SECTIONS:
            raise SpecError(
                f"{path}: unknown section {section!r}; sections are {', '.join(SECTIONS)}"
            )
        specs[section] = {k: _value(path, section, k, v) for k, v in fields.items()}
    return specs


def _read(path: Path) -> Any:
    suffix = path.suffix.lower()
    if suffix == ".toml":
        with open(path, "rb") as f:
            return tomllib.load(f)
    if suffix == ".json":
        with open(path) as f:
            return json.load(f)
    if suffix in (".yaml", ".yml"):
        try:
            import yaml  # type: ignore[import-untyped]
        except ImportError:
            raise SpecError(
                f"{path}: reading YAML needs PyYAML (pip install pyyaml); or write the "
                "specs as TOML or JSON (Ensemble.from_toml / from_json)"
            ) from None
        with open(path) as f:
            return yaml.safe_load(f)
    raise SpecError(f"{path}: unknown spec file type {suffix!r}; use .toml, .json or .yaml")


def _value(path: Path, section: str, key: str, value: Any) -> Any:
    if key in FUNCTIONS:
        return _function(path, f"{section}.{key}", value)
    if key in ("outputs", "out") and isinstance(value, dict):
        return [
            _field(path, f"{section}.{key}.{name}", name, spec) for name, spec in value.items()
        ]
    return value


def _function(path: Path, where: str, dotted: Any) -> Any:
    """The function an import path such as ``package.module.func`` names."""
    module, _, name = str(dotted).rpartition(".")
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError, ValueError) as e:
        raise SpecError(
            f"{path}: {where} = {dotted!r} cannot be imported ({e}); give the import path "
            "of a function, such as 'libens.sims.six_hump_camel'"
        ) from None


def _field(path: Path, where: str, name: str, spec: Any) -> tuple:
    """``("f", float)``, or ``("x", float, (n,))`` with a size (libEnsemble makes size 1
    a one-element array too)."""
    if not isinstance(spec, dict) or "type" not in spec:
        raise SpecError(f'{path}: {where} needs a type, such as {{type = "float"}}')
    kind = _TYPES.get(spec["type"], spec["type"])
    size = spec.get("size")
    if size is None:
        return (name, kind)
    return (name, kind, (size,) if isinstance(size, int) else tuple(size))
