"""Calling user functions the libEnsemble way: fewer than four parameters allowed, three
return shapes accepted, outputs checked against the declared fields."""

from __future__ import annotations

import functools
import inspect
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from libens.errors import CalculationTimeout, SimulatorError
from libens.messages import UNSET_TAG


def func_name(f: Any) -> str:
    """A readable name for a user function or generator object."""
    mod = getattr(f, "__module__", None) or ""
    name = getattr(f, "__qualname__", None) or type(f).__qualname__
    return f"{mod}.{name}" if mod and mod != "__main__" else name


def positional_arity(f: Callable) -> int:
    """How many positional arguments ``f`` accepts (4 when it takes ``*args``)."""
    try:
        params = inspect.signature(f).parameters.values()
    except (TypeError, ValueError):
        return 4
    n = 0
    for p in params:
        if p.kind == p.VAR_POSITIONAL:
            return 4
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            n += 1
    return min(n, 4)


class UserFunction:
    """A sim_f/gen_f bound to its arity, so each call passes what it declares; with
    ``threaded`` (the spec field) each call runs in a fresh thread, as in libEnsemble."""

    def __init__(self, f: Callable, threaded: bool = False, timeout: float | None = None) -> None:
        self.f = f
        self.name = func_name(f)
        self.arity = positional_arity(f)
        self.timeout = timeout
        self.threaded = threaded
        # what a call runs: the function itself, or the function in a fresh thread
        self._run = functools.partial(_in_thread, f) if threaded else f

    def __call__(
        self, H: Any, persis_info: Any, specs: Any, libE_info: Any
    ) -> tuple[Any, Any, int]:
        args = (H, persis_info, specs, libE_info)[: self.arity]
        if self.timeout:
            with _deadline(self.timeout, self.name):
                out = self._run(*args)
        else:  # the common case skips the context manager: this runs once per point
            out = self._run(*args)
        return split_return(out, persis_info)


@contextmanager
def _deadline(seconds: float, name: str) -> Iterator[None]:
    """Raise CalculationTimeout in this (main) thread after ``seconds`` (SIGALRM timer)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(signum: int, frame: Any) -> None:
        raise CalculationTimeout(f"{name} ran longer than SimSpecs.timeout={seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _in_thread(f: Callable, *args: Any) -> Any:
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["out"] = f(*args)
        except BaseException as e:  # re-raised in the caller's thread
            box["err"] = e

    t = threading.Thread(target=target, name=f"libens-user-{func_name(f)}")
    t.start()
    t.join()
    if "err" in box:
        raise box["err"]
    return box["out"]


def split_return(out: Any, persis_info: Any) -> tuple[Any, Any, int]:
    """Normalize ``H_o``, ``(H_o, persis_info)`` or ``(H_o, persis_info, calc_status)``."""
    if not isinstance(out, tuple):
        return out, persis_info, UNSET_TAG
    n = len(out)
    if n == 2:
        return out[0], out[1], UNSET_TAG
    if n == 3:
        return out[0], out[1], out[2]
    return (out[0], persis_info, UNSET_TAG) if n == 1 else (out, persis_info, UNSET_TAG)


class OutputCheck:
    """Checks a sim_f's outputs against ``sim_specs.outputs``; a dtype that passed once
    passes again with a comparison (this runs once per point)."""

    def __init__(self, fields: list[tuple], name: str) -> None:
        self.declared = {spec[0]: np.dtype([tuple(spec)])[spec[0]] for spec in fields}
        self.name = name
        self._passed: np.dtype | None = None

    def __call__(self, H_o: Any, nrows: int) -> None:
        if type(H_o) is np.ndarray and H_o.dtype == self._passed and len(H_o) == nrows:
            return
        check_sim_output(H_o, nrows, self.declared, self.name)
        self._passed = H_o.dtype


def check_sim_output(H_o: Any, nrows: int, declared: dict[str, np.dtype], name: str) -> None:
    """Raise SimulatorError naming the field when a sim_f's output doesn't match its spec."""
    if not isinstance(H_o, np.ndarray) or H_o.dtype.names is None:
        raise SimulatorError(
            f"{name} returned {type(H_o).__name__}; return "
            "np.zeros(len(H), dtype=sim_specs['out'])"
            " filled with the outputs"
        )
    if len(H_o) != nrows:
        raise SimulatorError(
            f"{name} returned {len(H_o)} rows for {nrows} input rows; "
            "return one output row per input row"
        )
    fields = H_o.dtype.fields
    for field, want in declared.items():
        got = fields.get(field)
        if got is None or got[0] == want:
            continue
        if not np.can_cast(got[0], want, "same_kind"):
            raise SimulatorError(
                f"{name} returned field {field!r} as {got[0]}, but sim_specs.outputs declares "
                f"{want}; build the output with dtype=sim_specs['out']"
            )
