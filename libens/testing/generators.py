"""A conformance suite any gest-api generator can be run through.

``check_generator(make, vocs)`` builds fresh generators with ``make(vocs)`` and checks the
contract libens relies on: suggest sizes, returned fields and types, ingest of its own and
of foreign points, unknown ``_id`` rejected, finalize. Raises AssertionError on a breach.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

SCALARS = (bool, int, float, str)


def _values(vocs: Any, p: dict) -> None:
    want = set(vocs.variables) | set(vocs.constants)
    keys = set(p) - {"_id"}
    assert keys == want, f"point has keys {sorted(keys)}, the VOCS says {sorted(want)}"
    for name, var in vocs.variables.items():
        v = p[name]
        assert isinstance(v, SCALARS), f"{name}={v!r} is {type(v).__name__}, not a Python scalar"
        if hasattr(var, "domain"):
            lo, hi = var.domain
            assert lo <= v <= hi, f"{name}={v} outside [{lo}, {hi}]"
        else:
            assert v in var.values, f"{name}={v!r} not one of {var.values}"
    for name, c in vocs.constants.items():
        assert p[name] == c.value, f"constant {name}={p[name]!r}, the VOCS says {c.value!r}"


def _evaluate(vocs: Any, points: list[dict]) -> list[dict]:
    out = []
    for k, p in enumerate(points):
        r = dict(p)
        for name in vocs.output_names:
            r[name] = float(k)
        out.append(r)
    return out


def check_suggest_sizes(make: Callable[[Any], Any], vocs: Any) -> None:
    """``suggest(n)`` returns a list of at most n valid points, for several n."""
    gen = make(vocs)
    for n in (1, 3, 7):
        points = gen.suggest(n)
        assert isinstance(points, list) and len(points) <= n
        for p in points:
            _values(vocs, p)
        if points:
            gen.ingest(_evaluate(vocs, points))
    gen.finalize()


def check_ingest_own_and_foreign(make: Callable[[Any], Any], vocs: Any) -> None:
    """Own points (with their ``_id``) and foreign points (without) are accepted."""
    gen = make(vocs)
    own = gen.suggest(2)
    if getattr(gen, "returns_id", False):
        assert all("_id" in p for p in own), "returns_id is True but points lack _id"
    foreign = make(vocs).suggest(2)
    for p in foreign:
        p.pop("_id", None)
    gen.ingest(_evaluate(vocs, foreign))
    if own:
        gen.ingest(_evaluate(vocs, own))
    _ = gen.suggest(1)
    gen.finalize()


def check_unknown_id_rejected(make: Callable[[Any], Any], vocs: Any) -> None:
    """A generator that returns ids raises ValueError for an ``_id`` it never made."""
    gen = make(vocs)
    if not getattr(gen, "returns_id", False):
        return
    p = gen.suggest(1)
    bogus = _evaluate(vocs, p or make(vocs).suggest(1))
    bogus[0]["_id"] = 10**9
    try:
        gen.ingest(bogus)
    except ValueError:
        return
    raise AssertionError("ingest accepted an _id the generator never suggested")


def check_generator(make: Callable[[Any], Any], vocs: Any) -> None:
    """Run every check of the suite."""
    check_suggest_sizes(make, vocs)
    check_ingest_own_and_foreign(make, vocs)
    check_unknown_id_rejected(make, vocs)


def run_optimizer(
    gen: Any, f: Callable[[np.ndarray], float], budget: int, in_flight: int = 4, seed: int = 0
) -> float:
    """Drive ``gen`` asynchronously (results return out of order, one or two at a time,
    about ``in_flight`` points outstanding); return the best objective value found."""
    rng = np.random.default_rng(seed)
    names = list(gen.vocs.variables)
    (obj,) = gen.vocs.objectives
    best, used = np.inf, 0
    pending = gen.suggest(in_flight)
    while used < budget and pending:
        rng.shuffle(pending)
        k = int(rng.integers(1, 3))
        back, pending = pending[:k], pending[k:]
        for p in back:
            p[obj] = f(np.array([p[n] for n in names]))
            best = min(best, p[obj])
        gen.ingest(back)
        used += len(back)
        pending += gen.suggest(in_flight - len(pending))
    return best
