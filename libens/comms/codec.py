"""Messages as bytes, for the transports between processes (pipes, sockets, MPI).

A message becomes one pickled tuple of builtins: its class's number, its field values, and
every array as ``(dtype key, shape, raw bytes)``. Pickling a small structured array the
usual way costs about 20 us, most of it the dtype, and naming a class costs a few more;
this encodes a two-row Work in a few microseconds. Anything else is pickled as it is.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable
from dataclasses import fields
from operator import attrgetter
from typing import Any

import numpy as np

from libens.messages import (
    CancelRequest,
    GenOutput,
    Goodbye,
    Kill,
    Result,
    Stop,
    Work,
    WorkerFailed,
    WorkerSetup,
)

PROTOCOL = pickle.HIGHEST_PROTOCOL
_PLAIN = 0  # code of anything pickled as it is

_MESSAGES = (
    WorkerSetup,
    Work,
    Result,
    GenOutput,
    CancelRequest,
    Kill,
    Stop,
    Goodbye,
    WorkerFailed,
)


def _array_fields(cls: type) -> tuple[int, ...]:
    """Positions of the fields that hold arrays (typed Rows or NDArray)."""
    return tuple(i for i, f in enumerate(fields(cls)) if "Rows" in f.type or "NDArray" in f.type)


def _field_values(cls: type) -> Callable[[Any], tuple]:
    """A function that returns a message's field values as one tuple (one C call)."""
    names = [f.name for f in fields(cls)]
    get = attrgetter(*names)
    return get if len(names) > 1 else lambda msg: (get(msg),)


_LAYOUTS = {
    code: (cls, _field_values(cls), _array_fields(cls))
    for code, cls in enumerate(_MESSAGES, start=1)
}
_CODES = {cls: code for code, cls in enumerate(_MESSAGES, start=1)}
_DTYPE_KEYS: dict[np.dtype, bytes] = {}  # a dtype's pickle, made once per process
_DTYPES: dict[bytes, np.dtype] = {}  # and back


def encode(msg: Any) -> bytes:
    """The bytes of one message."""
    code = _CODES.get(type(msg))
    if code is None:
        return pickle.dumps((_PLAIN, msg), PROTOCOL)
    _, field_values, arrays = _LAYOUTS[code]
    values = [code, *field_values(msg)]
    for i in arrays:
        values[i + 1] = _pack(values[i + 1])
    return pickle.dumps(tuple(values), PROTOCOL)


def decode(data: bytes) -> Any:
    """The message ``encode`` made these bytes from."""
    values = pickle.loads(data)
    code = values[0]
    if code == _PLAIN:
        return values[1]
    cls, _, arrays = _LAYOUTS[code]
    args = list(values[1:])
    for i in arrays:
        if type(args[i]) is tuple:
            args[i] = _unpack(*args[i])
    return cls(*args)


def _pack(a: Any) -> Any:
    if type(a) is not np.ndarray or a.dtype.hasobject:
        return a  # None, or an array pickle must handle (objects inside, a subclass)
    dt = a.dtype
    key = _DTYPE_KEYS.get(dt)
    if key is None:
        key = _DTYPE_KEYS[dt] = pickle.dumps(dt, PROTOCOL)
    return key, a.shape, a.tobytes()


def _unpack(key: bytes, shape: tuple[int, ...], data: bytes) -> np.ndarray:
    dt = _DTYPES.get(key)
    if dt is None:
        dt = _DTYPES[key] = pickle.loads(key)
    a = np.frombuffer(bytearray(data), dt)  # writable, like an unpickled array
    return a if len(shape) == 1 else a.reshape(shape)
