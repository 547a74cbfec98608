"""Transports between the manager and its workers (see base.py for the contracts)."""

from libens.comms.base import Channel, Comms, PeerJoined, PeerLost, WorkerMain, WorkerPool
from libens.comms.registry import get, names

__all__ = [
    "Channel",
    "Comms",
    "PeerJoined",
    "PeerLost",
    "WorkerMain",
    "WorkerPool",
    "get",
    "names",
]
