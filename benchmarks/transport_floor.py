"""The physical floor: round-trip time of one small message with no framework, over a
multiprocessing pipe, a thread queue, a TCP socket on 127.0.0.1 and MPI send/recv. One JSON
line per transport (median of many round trips, in microseconds).

    python benchmarks/transport_floor.py [pipe|queue|tcp]     # all three by default
    mpiexec -n 2 python benchmarks/transport_floor.py mpi
"""

from __future__ import annotations

import json
import multiprocessing as mp
import queue
import statistics
import sys
import threading
import time

N = 3000
MSG = ("work", 7, [1.0, 2.0])


def _timed(round_trip) -> float:
    samples = []
    for _ in range(N):
        t = time.perf_counter()
        round_trip()
        samples.append(time.perf_counter() - t)
    return statistics.median(samples) * 1e6


def _echo_pipe(conn) -> None:
    while (m := conn.recv()) is not None:
        conn.send(m)


def pipe() -> float:
    a, b = mp.Pipe()
    p = mp.Process(target=_echo_pipe, args=(b,))
    p.start()

    def rt() -> None:
        a.send(MSG)
        a.recv()

    us = _timed(rt)
    a.send(None)
    p.join()
    return us


def thread_queue() -> float:
    to, back = queue.SimpleQueue(), queue.SimpleQueue()

    def echo() -> None:
        while (m := to.get()) is not None:
            back.put(m)

    t = threading.Thread(target=echo)
    t.start()

    def rt() -> None:
        to.put(MSG)
        back.get()

    us = _timed(rt)
    to.put(None)
    t.join()
    return us


def _echo_tcp(port: int) -> None:
    from multiprocessing.connection import Client

    c = Client(("127.0.0.1", port))
    while (m := c.recv()) is not None:
        c.send(m)


def tcp() -> float:
    from multiprocessing.connection import Listener

    with Listener(("127.0.0.1", 0)) as listener:
        p = mp.Process(target=_echo_tcp, args=(listener.address[1],))
        p.start()
        conn = listener.accept()

        def rt() -> None:
            conn.send(MSG)
            conn.recv()

        us = _timed(rt)
        conn.send(None)
        p.join()
    return us


def mpi() -> float | None:
    from mpi4py import MPI

    comm = MPI.COMM_WORLD
    if comm.Get_rank() == 1:
        while (m := comm.recv(source=0)) is not None:
            comm.send(m, dest=0)
        return None

    def rt() -> None:
        comm.send(MSG, dest=1)
        comm.recv(source=1)

    us = _timed(rt)
    comm.send(None, dest=1)
    return us


def main() -> None:
    kinds = sys.argv[1:] or ["pipe", "queue", "tcp"]
    funcs = {"pipe": pipe, "queue": thread_queue, "tcp": tcp, "mpi": mpi}
    for kind in kinds:
        us = funcs[kind]()
        if us is not None:
            print(json.dumps({"transport": kind, "round_trip_us": round(us, 2)}), flush=True)


if __name__ == "__main__":
    main()
