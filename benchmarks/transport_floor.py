"""The physical floor: round-trip time of one small message with no framework, over a
multiprocessing pipe, a thread queue, a TCP socket on 127.0.0.1 and MPI send/recv. One JSON
line per transport: the median of many round trips and their mean, in microseconds.

    python benchmarks/transport_floor.py [pipe|queue|tcp]     # all three by default
    mpiexec -n 2 python benchmarks/transport_floor.py mpi
    mpiexec -n 5 python benchmarks/transport_floor.py mpi     # ranks 2-4 wait, idle

With more than two MPI ranks, the others wait in MPICH's blocking receive until the end, as
the idle ranks of a framework-free program would: on a machine with fewer cores than ranks
they take the cores from time to time, which the mean shows and the median does not.
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


def _timed(round_trip) -> list[float]:
    samples = []
    for _ in range(N):
        t = time.perf_counter()
        round_trip()
        samples.append(time.perf_counter() - t)
    return samples


def _echo_pipe(conn) -> None:
    while (m := conn.recv()) is not None:
        conn.send(m)


def pipe() -> list[float]:
    a, b = mp.Pipe()
    p = mp.Process(target=_echo_pipe, args=(b,))
    p.start()

    def rt() -> None:
        a.send(MSG)
        a.recv()

    samples = _timed(rt)
    a.send(None)
    p.join()
    return samples


def thread_queue() -> list[float]:
    to, back = queue.SimpleQueue(), queue.SimpleQueue()

    def echo() -> None:
        while (m := to.get()) is not None:
            back.put(m)

    t = threading.Thread(target=echo)
    t.start()

    def rt() -> None:
        to.put(MSG)
        back.get()

    samples = _timed(rt)
    to.put(None)
    t.join()
    return samples


def _echo_tcp(port: int) -> None:
    from multiprocessing.connection import Client

    c = Client(("127.0.0.1", port))
    while (m := c.recv()) is not None:
        c.send(m)


def tcp() -> list[float]:
    from multiprocessing.connection import Listener

    with Listener(("127.0.0.1", 0)) as listener:
        p = mp.Process(target=_echo_tcp, args=(listener.address[1],))
        p.start()
        conn = listener.accept()

        def rt() -> None:
            conn.send(MSG)
            conn.recv()

        samples = _timed(rt)
        conn.send(None)
        p.join()
    return samples


def mpi() -> list[float] | None:
    from mpi4py import MPI

    comm = MPI.COMM_WORLD
    rank = comm.Get_rank()
    if rank == 1:
        while (m := comm.recv(source=0)) is not None:
            comm.send(m, dest=0)
        return None
    if rank > 1:
        comm.recv(source=0)
        return None

    def rt() -> None:
        comm.send(MSG, dest=1)
        comm.recv(source=1)

    samples = _timed(rt)
    for other in range(1, comm.Get_size()):
        comm.send(None, dest=other)
    return samples


def main() -> None:
    kinds = sys.argv[1:] or ["pipe", "queue", "tcp"]
    funcs = {"pipe": pipe, "queue": thread_queue, "tcp": tcp, "mpi": mpi}
    for kind in kinds:
        samples = funcs[kind]()
        if samples is not None:
            line = {
                "transport": kind,
                "round_trip_us": round(statistics.median(samples) * 1e6, 2),
                "mean_us": round(statistics.mean(samples) * 1e6, 2),
            }
            print(json.dumps(line), flush=True)


if __name__ == "__main__":
    main()
