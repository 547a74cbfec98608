"""The journal: an append-only file of every event that changes the history.

Format (readable with NumPy alone; see docs/durability.md): a sequence of records,
each ``<u4 length><u4 crc32><payload>``, where the payload is one JSON line (the event: its
kind, time and small fields) followed by the raw bytes of a structured NumPy array whose
dtype the JSON gives as ``descr`` (rows of the history: sim_id plus the fields that changed).
A record whose length runs past the end of the file, or whose checksum does not match, is
the torn tail of a write cut short (power loss): it is dropped with a warning.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from libens.errors import RunDirError

logger = logging.getLogger("libens.store")

_HEAD = struct.Struct("<II")
SyncPolicy = Literal["os", "fsync"]


@dataclass
class Event:
    """One journal record: ``kind`` (gen, start, end, cancel, informed, reset), its JSON
    fields, and history rows (or None)."""

    kind: str
    info: dict[str, Any] = field(default_factory=dict)
    rows: np.ndarray | None = None


@functools.lru_cache(maxsize=64)
def _descr(dtype: np.dtype) -> str:
    """JSON ``[[name, base type string, shape], ...]`` that NumPy reads back; cached because
    a run writes few distinct dtypes and this is most of a record's encoding cost."""
    out = []
    for name in dtype.names:
        dt = dtype.fields[name][0]
        out.append([name, dt.base.str, list(dt.shape)])
    return json.dumps(out, separators=(",", ":"))


def _dtype(descr: list) -> np.dtype:
    return np.dtype([(n, t, tuple(s)) if s else (n, t) for n, t, s in descr])


def encode(event: Event) -> bytes:
    """One framed record."""
    head = json.dumps(dict(event.info, kind=event.kind), separators=(",", ":"))
    body = b""
    if event.rows is not None:
        rows = np.ascontiguousarray(event.rows)
        head = f'{head[:-1]},"descr":{_descr(rows.dtype)},"n":{len(rows)}}}'
        body = rows.tobytes()
    payload = head.encode() + b"\n" + body
    return _HEAD.pack(len(payload), zlib.crc32(payload)) + payload


def decode(payload: bytes) -> Event:
    """The inverse of ``encode`` (without the frame)."""
    line, _, body = payload.partition(b"\n")
    info = json.loads(line)
    kind = info.pop("kind")
    rows = None
    if "descr" in info:
        dtype = _dtype(info.pop("descr"))
        rows = np.frombuffer(body, dtype=dtype, count=info.pop("n")).copy()
    return Event(kind, info, rows)


class Journal:
    """Appends events to ``path``; ``sync="fsync"`` makes every append durable against power
    loss (slower), ``"os"`` hands each append to the OS (survives a killed process)."""

    def __init__(self, path: Path, sync: SyncPolicy = "os") -> None:
        self.path = Path(path)
        self.sync = sync
        _cut_torn_tail(self.path)
        self._f = open(self.path, "ab", buffering=0)  # noqa: SIM115 - kept open for the run

    def append(self, *events: Event) -> None:
        """Write events as one write call (one record per event); a short write is resumed."""
        left = memoryview(b"".join(encode(e) for e in events))
        while left:
            left = left[self._f.write(left) :]
        if self.sync == "fsync":
            os.fsync(self._f.fileno())

    def close(self) -> None:
        self._f.close()


class JournalCorrupt(RunDirError, ValueError):
    """A journal record other than the last one is damaged: the file was altered, not cut."""


def _frames(data: bytes, path: Path) -> Iterator[tuple[int, int]]:
    """(start, end) of every intact payload; stops at a torn or corrupt last record (with a
    warning) and raises JournalCorrupt for a damaged record followed by more data."""
    pos = 0
    while pos < len(data):
        if pos + _HEAD.size > len(data):
            logger.warning("journal %s: dropped a torn record header at byte %d", path, pos)
            return
        length, crc = _HEAD.unpack_from(data, pos)
        start, end = pos + _HEAD.size, pos + _HEAD.size + length
        if end > len(data) or zlib.crc32(data[start:end]) != crc:
            if end >= len(data):
                logger.warning(
                    "journal %s: dropped a torn last record at byte %d (the write was cut short)",
                    path,
                    pos,
                )
                return
            raise JournalCorrupt(
                f"journal {path}: record at byte {pos} is corrupt and is not the last one; the "
                "file was damaged: restore it from a backup, or start afresh with overwrite=True"
            )
        yield start, end
        pos = end


def _cut_torn_tail(path: Path) -> None:
    """Truncate a torn last record before appending, so new records never follow garbage."""
    if not path.exists():
        return
    data = path.read_bytes()
    end = max((stop for _, stop in _frames(data, path)), default=0)
    if end < len(data):
        logger.warning("journal %s: cut the torn tail (%d bytes)", path, len(data) - end)
        with open(path, "r+b") as f:
            f.truncate(end)
            os.fsync(f.fileno())


def read_journal(path: Path) -> Iterator[Event]:
    """Every intact event in order; a torn or corrupt last record is dropped with a warning,
    a corrupt record followed by more data is a JournalCorrupt error."""
    data = Path(path).read_bytes() if Path(path).exists() else b""
    for start, end in _frames(data, Path(path)):
        yield decode(data[start:end])
