"""ExternalGenerator: a gest-api generator that asks an external program (any language) for
points through the JSON files described in docs/external-generators.md."""

from __future__ import annotations

import logging
from typing import Any

from gest_api import Generator

from libens.errors import SpecError
from libens.gens.external.constraints import LinearConstraint, parse_constraint
from libens.gens.external.runner import ExternalGeneratorError, Program
from libens.gens.external.schema import objectives_from_vocs, parameters_from_vocs

logger = logging.getLogger("libens.gens")


class ExternalGenerator(Generator):
    """Points from an external program: one call per point, or per batch when the program
    returns a list. Every returned point is checked (names, types, ranges, choices, fixed
    values, constraints); a failing call is retried ``retries`` times, then the run ends
    with an error naming the program, the parameter and the value.

    Args:
        vocs: the problem; variables become RANGE (FLOAT, or INT with ``dtype="int"``) or
            CHOICE parameters, constants FIXED ones, objectives "min"/"max".
        command: the program, as a list (no shell) or a string (split like a shell would;
            run by ``/bin/sh`` only with ``shell=True``). It gets its directory as argument.
        seed: passed in input.json (plus the call count, so calls differ but runs repeat).
        constraints: linear constraints such as ``"2*x + y <= 10"`` (no ``eval``).
        timeout: seconds per call; the program and its children are killed after it.
        retries: extra attempts after a failed call.
        keep_dirs: keep each call's directory (for debugging).
        env, cwd: the program's environment (default: this process's) and directory
            (default: the call's own directory).
    """

    def __init__(
        self,
        vocs: Any,
        command: list[str] | str,
        *,
        seed: int | None = None,
        constraints: list[str] | tuple[str, ...] = (),
        timeout: float = 60.0,
        retries: int = 2,
        keep_dirs: bool = False,
        shell: bool = False,
        env: dict[str, str] | None = None,
        cwd: str | None = None,
    ) -> None:
        self.vocs = vocs
        self.program = Program(command, shell, env, cwd, timeout, keep_dirs)
        self.seed = seed
        self.retries = retries
        super().__init__(vocs)
        self.parameters = parameters_from_vocs(vocs)
        self.objectives = objectives_from_vocs(vocs)
        names = set(vocs.variables) | set(vocs.constants)
        self.constraints: list[LinearConstraint] = [
            parse_constraint(c, names) for c in constraints
        ]
        self.trials: tuple[list[dict], list[dict]] = ([], [])
        self.calls = 0
        self._buffer: list[dict] = []

    def _validate_vocs(self, vocs: Any) -> None:
        if not vocs.variables:
            raise SpecError("ExternalGenerator needs at least one VOCS variable")
        if vocs.constraints:
            raise SpecError(
                "ExternalGenerator takes constraints as linear expressions "
                '(constraints=["x + y <= 1"]), not VOCS constraints'
            )

    def suggest(self, num_points: int | None) -> list[dict]:
        n = num_points or 1
        while len(self._buffer) < n:
            got = self._call()
            if not got:
                break
            self._buffer.extend(got)
        out, self._buffer = self._buffer[:n], self._buffer[n:]
        return out

    def ingest(self, results: list[dict]) -> None:
        inputs = list(self.parameters)
        for r in results:
            if any(r.get(o) is None for o in self.objectives):
                continue
            self.trials[0].append({k: r[k] for k in inputs if k in r})
            self.trials[1].append({o: r[o] for o in self.objectives})

    def finalize(self) -> None:
        """Nothing runs between calls."""

    def _payload(self) -> dict[str, Any]:
        return {
            "parameters": self.parameters,
            "constraints": [c.text for c in self.constraints],
            "seed": None if self.seed is None else self.seed + self.calls,
            "trials": [self.trials[0], self.trials[1]],
            "objectives": self.objectives,
        }

    def _call(self) -> list[dict]:
        for attempt in range(self.retries + 1):
            try:
                raw = self.program.run(self._payload())
                self.calls += 1
                return self._check(raw)
            except ExternalGeneratorError as e:
                self.calls += 1
                if attempt == self.retries:
                    raise
                logger.warning("%s (attempt %d of %d, retrying)", e, attempt + 1, self.retries + 1)
        raise AssertionError("unreachable")

    def _check(self, raw: Any) -> list[dict]:
        name = self.program.name
        params = raw.get("parameters") if isinstance(raw, dict) else None
        if isinstance(params, dict):
            params = [params]
        if not isinstance(params, list) or not all(isinstance(p, dict) for p in params):
            raise ExternalGeneratorError(
                f"generator program {name!r}: results.json must be "
                '{"parameters": {...}} or {"parameters": [{...}, ...]}, got ' + repr(raw)[:200]
            )
        return [self._point(p) for p in params]

    def _point(self, p: dict) -> dict:
        name = self.program.name
        unknown = set(p) - set(self.parameters)
        if unknown:
            raise ExternalGeneratorError(
                f"generator program {name!r} returned unknown parameter(s) {sorted(unknown)}"
            )
        out: dict[str, Any] = {}
        for pname, spec in self.parameters.items():
            if pname not in p:
                if spec["parameter_type"] == "FIXED":
                    out[pname] = spec["value"]
                    continue
                raise ExternalGeneratorError(
                    f"generator program {name!r} did not return parameter {pname!r}"
                )
            out[pname] = _convert(name, pname, spec, p[pname])
        for c in self.constraints:
            if not c.holds(out):
                shown = {k: out[k] for k in c.coef}
                raise ExternalGeneratorError(
                    f"generator program {name!r} returned {shown}, "
                    f"which violates the constraint {c.text!r}"
                )
        return out


def _convert(program: str, pname: str, spec: dict, value: Any) -> Any:
    """The value as the declared type, checked against its range, choices or fixed value."""
    kind = spec["type"]
    try:
        if kind == "INT":
            number = float(value)
            if number != int(number):
                raise ValueError
            v: Any = int(number)
        elif kind == "FLOAT":
            v = float(value)
        else:
            v = str(value)
        if isinstance(value, bool):
            raise ValueError
    except (TypeError, ValueError):
        raise ExternalGeneratorError(
            f"generator program {program!r} returned {pname}="
            f"{value!r}, which is not of type {kind}"
        ) from None
    ptype = spec["parameter_type"]
    if ptype == "RANGE":
        lo, hi = spec["range"]
        if not lo <= v <= hi:
            raise ExternalGeneratorError(
                f"generator program {program!r} returned {pname}={v!r},"
                f" outside its range [{lo}, {hi}]"
            )
    elif ptype == "CHOICE":
        if v not in spec["values"] and str(v) not in [str(c) for c in spec["values"]]:
            raise ExternalGeneratorError(
                f"generator program {program!r} returned {pname}="
                f"{v!r}, not one of its choices {spec['values']}"
            )
        v = next(c for c in spec["values"] if c == v or str(c) == str(v))
    elif v != spec["value"] and str(v) != str(spec["value"]):
        raise ExternalGeneratorError(
            f"generator program {program!r} returned {pname}={v!r}, "
            f"but it is fixed at {spec['value']!r}"
        )
    else:
        v = spec["value"]
    return v
