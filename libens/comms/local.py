"""Local comms: one ``multiprocessing`` process per worker, linked to the manager by a pipe.

The manager waits on every pipe and every process sentinel at once, so a worker that dies
is noticed as soon as the operating system reports it.
"""

from __future__ import annotations

import multiprocessing as mp
import selectors
import signal
from collections.abc import Iterable
from multiprocessing.connection import Connection
from typing import Any, Protocol

from libens.comms.base import Comms, PeerJoined, PeerLost, WorkerMain, WorkerPool
from libens.comms.codec import decode, encode
from libens.comms.frames import FrameLink
from libens.comms.inproc import InprocLink
from libens.comms.pipes import ConnectionChannel
from libens.comms.spin import Spinner
from libens.errors import ChannelClosed


def _process_main(
    conn: Connection, worker_id: int, worker_main: WorkerMain, inherited: list[Connection]
) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C goes to the manager, which stops us
    for c in inherited:  # forked copies of the manager's pipe ends: keep only our own link,
        c.close()  # so each worker sees EOF (and exits) the moment the manager dies
    try:
        worker_main(ConnectionChannel(conn), worker_id)
    finally:
        conn.close()


class JoinSource(Protocol):
    """Something waitable that yields new, already authenticated worker connections."""

    def fileno(self) -> int: ...

    def drain(self) -> list[tuple[Connection, str]]: ...

    def close(self) -> None: ...


class ConnectionPool(WorkerPool):
    """Workers behind ``Connection`` objects, waited on with one long-lived selector (epoll on
    Linux), so a wait costs O(ready workers), not O(all workers).

    ``sentinels`` maps a worker to a waitable that becomes ready when it dies (a process
    sentinel); threads in this process (``inproc``) need none. A ``joins`` source lets new
    workers join while the pool runs (reported as PeerJoined).
    """

    def __init__(
        self,
        conns: dict[int, Connection],
        sentinels: dict[int, Any],
        processes: list[Any],
        inproc: dict[int, InprocLink],
        joins: JoinSource | None = None,
    ) -> None:
        self._conns: dict[int, Connection] = {}
        self._links: dict[int, FrameLink] = {}
        self._sentinels: dict[int, Any] = {}
        self._processes = processes
        self._inproc = inproc
        self._joins = joins
        self._lost: set[int] = set()
        self._spinner = Spinner()
        self._selector = selectors.DefaultSelector()
        for wid, conn in conns.items():
            self.add(wid, conn, sentinels.get(wid))
        for wid, link in inproc.items():
            self._selector.register(link, selectors.EVENT_READ, (wid, None))
        if joins is not None:
            self._selector.register(joins, selectors.EVENT_READ, (None, None))

    def add(self, wid: int, conn: Connection, sentinel: Any = None) -> None:
        """Start waiting on a new worker's connection (and its death sentinel, if any)."""
        self._conns[wid] = conn
        self._links[wid] = FrameLink(conn)
        self._selector.register(conn, selectors.EVENT_READ, (wid, False))
        if sentinel is not None:
            self._sentinels[wid] = sentinel
            self._selector.register(sentinel, selectors.EVENT_READ, (wid, True))

    @property
    def worker_ids(self) -> list[int]:
        return sorted([*self._conns, *self._inproc])

    def send(self, worker_id: int, msg: Any) -> None:
        link = self._inproc.get(worker_id)
        if link is not None:
            link.send(msg)
            return
        try:
            self._links[worker_id].send_bytes(encode(msg))
        except (OSError, ValueError) as e:
            raise ChannelClosed(f"worker {worker_id} is gone: {e}") from e

    def recv_any(self, timeout: float | None = None) -> list[tuple[int, Any]]:
        if not self._selector.get_map():
            return []
        out: list[tuple[int, Any]] = []
        for key, _ in self._ready(timeout):
            wid, is_sentinel = key.data
            if wid is None:
                out.extend(self._accept_joins())
                continue
            if wid in self._lost:
                continue
            if is_sentinel is None:
                for msg in self._inproc[wid].drain():
                    out.append((wid, msg))
                    if isinstance(msg, PeerLost):
                        self._lose(wid)
                continue
            link = self._links[wid]
            if is_sentinel:
                self._selector.unregister(key.fileobj)
                del self._sentinels[wid]
                if self._conns[wid].poll():
                    continue  # read what it sent before dying; its EOF then reports the loss
                self._lose(wid)
                out.append((wid, PeerLost(self._exit_reason(wid))))
                continue
            try:
                link.fill()
            except (EOFError, OSError):
                self._lose(wid)
                out.append((wid, PeerLost(self._exit_reason(wid))))
                continue
            data = link.frame()
            while data is not None:  # every whole message read: epoll will not report them
                out.append((wid, decode(data)))
                data = link.frame()
        return out

    def _ready(self, timeout: float | None) -> list:
        """Poll, then block (``Spinner``): a reply due soon costs no wake-up."""
        return self._spinner.wait(self._selector.select, timeout)

    def _accept_joins(self) -> list[tuple[int, Any]]:
        assert self._joins is not None
        out: list[tuple[int, Any]] = []
        for conn, address in self._joins.drain():
            wid = max([0, *self._conns, *self._inproc, *self._lost]) + 1
            try:
                conn.send(wid)
            except OSError:
                continue
            self.add(wid, conn)
            out.append((wid, PeerJoined(address)))
        return out

    def _lose(self, wid: int) -> None:
        self._lost.add(wid)
        for obj in (self._conns.get(wid), self._sentinels.pop(wid, None), self._inproc.get(wid)):
            if obj is not None:
                try:
                    self._selector.unregister(obj)
                except (KeyError, ValueError):
                    pass

    def _exit_reason(self, wid: int) -> str:
        for p in self._processes:
            if p.name == f"libens-worker-{wid}":
                p.join(0.5)
                return f"process {p.pid} exited with code {p.exitcode}"
        return "its connection closed"

    def close(self, timeout: float = 5.0) -> None:
        for p in self._processes:
            p.join(timeout)
        for p in self._processes:
            if p.is_alive():
                p.terminate()
                p.join(1.0)
            if p.is_alive():
                p.kill()
                p.join()
        for link in self._inproc.values():
            link.close(timeout)
        if self._joins is not None:
            self._joins.close()
        self._selector.close()
        for c in self._conns.values():
            c.close()


class LocalComms(Comms):
    """Workers as local processes (``start_method``: fork, spawn or forkserver)."""

    def __init__(self, start_method: str | None = None, **_: Any) -> None:
        self.start_method = start_method

    def open_pool(
        self, nworkers: int, worker_main: WorkerMain, inproc_ids: Iterable[int] = ()
    ) -> WorkerPool:
        ctx = mp.get_context(self.start_method)
        forking = ctx.get_start_method() == "fork"
        conns: dict[int, Connection] = {}
        sentinels: dict[int, Any] = {}
        processes = []
        for wid in range(1, nworkers + 1):
            manager_end, worker_end = ctx.Pipe(duplex=True)
            inherited = [*conns.values(), manager_end] if forking else []
            p = ctx.Process(  # type: ignore[attr-defined]
                target=_process_main,
                args=(worker_end, wid, worker_main, inherited),
                name=f"libens-worker-{wid}",
                daemon=True,
            )
            p.start()
            worker_end.close()
            conns[wid] = manager_end
            sentinels[wid] = p.sentinel
            processes.append(p)
        inproc = {wid: InprocLink(wid, worker_main) for wid in inproc_ids}
        return ConnectionPool(conns, sentinels, processes, inproc)
