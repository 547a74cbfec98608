"""MPI comms (mpi4py): rank 0 of the communicator is the manager, ranks 1..n-1 are workers.

Waiting does not spin for long (MPICH's blocking receive would keep a core busy): the
manager probes all ranks with ``Iprobe``, workers their manager. For the first 5 ms of a
wait they probe and yield the CPU between probes (``sched_yield``: a rank with work on the
same core runs at once), then nap between probes for 1% of the time waited so far, from
50 us to 5 ms (an in-process generator's link is watched with ``select`` during a nap, so it
never waits for one). MPI has no wake-up a sleeping rank could block on, so a reply that
comes while a rank naps waits for the end of the nap: the 5 ms of yielding probes keep short
exchanges (persistent generators with quick simulations) out of the naps, which made them
3-4x faster (persistent generator, 2 workers on 2 cores: 725 -> 2,800 evaluations/s), and
cost at most 5 ms of CPU per wait. Naps in proportion to the wait keep a reply at most
about 1% late and an idle rank to a few hundred wake-ups a second: with fixed naps of at most
200 us, idle ranks woke 5,000 times a second each and, with more ranks than cores, took the
cores of the ranks with work (persistent generators, 4 workers on 2 cores: 1.23-1.45x
faster). An idle manager uses 0.03-0.10 s of CPU over a 2 s wait (local comms: 0.025 s).

When a worker rank fails:
- a user function raises: the worker reports it (with its traceback) and stays alive; the
  manager ends the run, saves the history and stops every rank;
- the worker loop itself raises: the rank sends a ``PeerLost`` notice before exiting;
- the rank dies outright (signal, ``os._exit``): MPI cannot tell the manager, but the launcher
  (mpiexec) ends the whole job at once, so the run never hangs; what was saved (periodic
  saves, the run directory's journal) survives.
"""

from __future__ import annotations

import os
import select
import time
from collections.abc import Iterable
from typing import Any

from libens.comms.base import Channel, Comms, PeerLost, WorkerMain, WorkerPool
from libens.comms.codec import decode, encode
from libens.comms.inproc import InprocLink
from libens.errors import ChannelTimeout, CommError

SPIN_SECONDS = 5e-3
NAP_SHARE = 0.01  # a nap lasts this share of the wait so far (50 us after SPIN_SECONDS)
MAX_NAP = 5e-3


class Backoff:
    """Between probes: a yield for the first SPIN_SECONDS of a wait (a reply that comes within
    milliseconds costs no sleep, whose wake-up alone takes tens of microseconds), then naps
    of NAP_SHARE of the time waited so far (at most MAX_NAP), watching ``links``
    meanwhile. An idle rank wakes a few hundred times a second, not thousands: on a machine
    with fewer cores than ranks, every wake-up of an idle rank takes a core from a rank
    with work."""

    def __init__(self, links: list[Any] | None = None) -> None:
        self.start = time.monotonic()
        self.links = links or []

    def nap(self, left: float | None) -> None:
        waited = time.monotonic() - self.start
        if waited < SPIN_SECONDS:
            os.sched_yield()  # let a process with work run; come straight back if none
            return
        t = min(MAX_NAP, NAP_SHARE * waited)
        if left is not None:
            t = min(t, left)
        if self.links:
            select.select(self.links, [], [], t)
        else:
            time.sleep(t)


def _mpi() -> Any:
    from mpi4py import MPI

    return MPI


class MPIChannel(Channel):
    """A worker rank's link to the manager rank (or the reverse)."""

    def __init__(self, comm: Any, peer: int) -> None:
        self.comm = comm
        self.peer = peer

    def send(self, msg: Any) -> None:
        self.comm.send(encode(msg), dest=self.peer, tag=0)

    def recv(self, timeout: float | None = None) -> Any:
        # wait with the backoff, not in MPI_Recv: MPICH's blocking receive spins a core
        if not self.poll(timeout):
            raise ChannelTimeout(f"no message within {timeout} s")
        return decode(self.comm.recv(source=self.peer, tag=0))

    def poll(self, timeout: float | None = 0.0) -> bool:
        deadline = None if timeout is None else time.monotonic() + timeout
        backoff = Backoff()
        while not self.comm.Iprobe(source=self.peer, tag=0):
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                return False
            backoff.nap(left)
        return True


class MPIPool(WorkerPool):
    """The manager rank's view of worker ranks 1..size-1 (plus in-process workers)."""

    def __init__(self, comm: Any, inproc: dict[int, InprocLink]) -> None:
        self.comm = comm
        self._ranks = list(range(1, comm.Get_size()))
        self._inproc = inproc
        self._status = _mpi().Status()
        self._any = _mpi().ANY_SOURCE

    @property
    def worker_ids(self) -> list[int]:
        return sorted([*self._ranks, *self._inproc])

    def send(self, worker_id: int, msg: Any) -> None:
        link = self._inproc.get(worker_id)
        if link is not None:
            link.send(msg)
        else:
            self.comm.send(encode(msg), dest=worker_id, tag=0)

    def _ready(self) -> list[tuple[int, Any]]:
        out = []
        st = self._status
        while self.comm.Iprobe(source=self._any, tag=0, status=st):
            src = st.Get_source()
            out.append((src, decode(self.comm.recv(source=src, tag=0))))
        return out

    def recv_any(self, timeout: float | None = None) -> list[tuple[int, Any]]:
        deadline = None if timeout is None else time.monotonic() + timeout
        links = list(self._inproc.values())
        backoff = Backoff(links)
        while True:
            out = self._ready()
            if links:
                ready, _, _ = select.select(links, [], [], 0)
                for link in ready:
                    out.extend((link.worker_id, m) for m in link.drain())
            if out:
                return out
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                return []
            backoff.nap(left)

    def close(self, timeout: float = 5.0) -> None:
        for link in self._inproc.values():
            link.close(timeout)


class MPIComms(Comms):
    """MPI backend; ``mpi_comm`` may be a sub-communicator (default COMM_WORLD)."""

    def __init__(self, mpi_comm: Any = None, **_: Any) -> None:
        MPI = _mpi()
        self.comm = mpi_comm if mpi_comm is not None else MPI.COMM_WORLD
        self.rank = self.comm.Get_rank()
        self.is_manager = self.rank == 0

    @property
    def default_nworkers(self) -> int | None:
        return self.comm.Get_size() - 1

    def open_pool(
        self, nworkers: int, worker_main: WorkerMain, inproc_ids: Iterable[int] = ()
    ) -> WorkerPool:
        size = self.comm.Get_size()
        if nworkers != size - 1:
            raise CommError(
                f"MPI comms run one worker per rank: nworkers={nworkers} but the "
                f"communicator has {size} ranks ({size - 1} workers); leave "
                "LibeSpecs.nworkers unset or launch with mpiexec -n NWORKERS+1"
            )
        inproc = {wid: InprocLink(wid, worker_main) for wid in inproc_ids}
        return MPIPool(self.comm, inproc)

    def run_worker(self, worker_main: WorkerMain) -> None:
        channel = MPIChannel(self.comm, 0)
        try:
            worker_main(channel, self.rank)
        except BaseException as e:
            channel.send(PeerLost(f"rank {self.rank} failed: {type(e).__name__}: {e}"))
            raise
