"""Transport contracts: Channel (one peer), WorkerPool (the manager's view of all workers) and
Comms (a backend that starts or accepts workers).

Rules every backend keeps:
- Messages are Python objects; a backend may pickle them but never inspects them.
- ``WorkerPool.recv_any`` blocks on all workers at once (no sleep-polling loop), returns every
  message that is ready, and reports a worker that went away as a ``PeerLost`` event exactly once.
- A Channel or WorkerPool is used by one thread at a time; only its owner calls it. An
  in-process channel may let the sender run a worker's handler on a message itself
  (``Channel.let_sender_handle``): the handler accepts only what its worker can take while
  the worker's own thread waits for a message, and gives the code it runs a channel of
  its own for the sender's side.
- ``comms`` knows nothing about histories or specs: workers run
  ``worker_main(channel, worker_id)``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

WorkerMain = Callable[["Channel", int], None]
SenderHandler = Callable[[Any], Any]  # a message in, the reply out; None: pass the message on


@dataclass(frozen=True, slots=True)
class PeerLost:
    """Event from ``WorkerPool.recv_any``: the worker's process, rank or connection is gone."""

    reason: str


@dataclass(frozen=True, slots=True)
class PeerJoined:
    """Event from ``WorkerPool.recv_any``: a new worker joined a running pool (tcp)."""

    address: str


class Channel(ABC):
    """A duplex link to one peer (a worker's link to the manager, or the reverse)."""

    @abstractmethod
    def send(self, msg: Any) -> None:
        """Send one message; raises ChannelClosed if the peer is gone."""

    @abstractmethod
    def recv(self, timeout: float | None = None) -> Any:
        """Return the next message; raises ChannelTimeout after ``timeout`` s, ChannelClosed if
        the peer is gone."""

    @abstractmethod
    def poll(self, timeout: float = 0.0) -> bool:
        """True when a message is ready (waits up to ``timeout`` s)."""

    def let_sender_handle(self, handler: SenderHandler) -> Channel | None:
        """Offer the manager's side ``handler``, to call on a message on its own thread
        instead of sending it (a reply means handled). Returns the channel that user code
        run that way must be given, or None when the offer is declined (only in-process
        links can take it; the default declines)."""
        return None

    def close(self) -> None:  # noqa: B027 - optional hook, most channels need nothing
        """Release the link; further sends fail."""


class WorkerPool(ABC):
    """The manager's side of all workers: send to one, wait on all."""

    @property
    @abstractmethod
    def worker_ids(self) -> list[int]:
        """Ids of the workers in the pool, in increasing order."""

    @abstractmethod
    def send(self, worker_id: int, msg: Any) -> None:
        """Send one message to one worker; raises ChannelClosed if it is gone."""

    @abstractmethod
    def recv_any(self, timeout: float | None = None) -> list[tuple[int, Any]]:
        """Wait until at least one worker has a message (or ``timeout`` s pass: then ``[]``);
        return every ``(worker_id, message)`` ready now, a lost worker as ``PeerLost``."""

    @abstractmethod
    def close(self, timeout: float = 5.0) -> None:
        """Wait up to ``timeout`` s for workers to exit after their STOP, then end the rest."""


class Comms(ABC):
    """A transport backend. ``is_manager`` is False on processes that only run a worker (MPI
    ranks other than the manager); those call ``run_worker`` instead of ``open_pool``."""

    is_manager: bool = True

    @abstractmethod
    def open_pool(
        self, nworkers: int, worker_main: WorkerMain, inproc_ids: Iterable[int] = ()
    ) -> WorkerPool:
        """Start (or accept) ``nworkers`` workers with ids 1..nworkers running ``worker_main``;
        workers in ``inproc_ids`` (e.g. 0 for a generator on the manager) run as threads in
        this process."""

    def run_worker(self, worker_main: WorkerMain) -> None:
        """On a worker-only process: connect to the manager and run ``worker_main``."""
        raise NotImplementedError(f"{type(self).__name__} starts its workers itself")

    @property
    def default_nworkers(self) -> int | None:
        """Number of workers implied by the launch (MPI world size - 1), or None."""
        return None
