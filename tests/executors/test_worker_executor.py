"""A worker's copy of the executor: the manager's messages while a call runs, and the tasks
of a call that fails."""

from __future__ import annotations

from collections import deque
from pathlib import Path

import numpy as np
import userfuncs as uf
from test_executor import gone

from libens import SimSpecs
from libens.executors import Executor
from libens.messages import (
    EVAL_SIM_TAG,
    MAN_SIGNAL_FINISH,
    MAN_SIGNAL_KILL,
    Goodbye,
    Kill,
    Result,
    Stop,
    Work,
    WorkerFailed,
    WorkerSetup,
)
from libens.resources import Resources
from libens.worker import Worker

APPS = Path(__file__).parent / "apps"


class Inbox:
    """A channel whose incoming messages are a list given in advance; sends are kept."""

    def __init__(self, *incoming) -> None:
        self.incoming, self.sent = deque(incoming), []

    def let_sender_handle(self, handler):
        return None

    def send(self, msg):
        self.sent.append(msg)

    def recv(self, timeout=None):
        return self.incoming.popleft()

    def poll(self, timeout=0.0):
        return bool(self.incoming)


def worker(channel: Inbox, sim_f=uf.sphere, **sim) -> Worker:
    exctr = Executor()
    exctr.register_app(APPS / "sleeper.py", app_name="sleeper")
    specs = SimSpecs(sim_f=sim_f, inputs=["x"], outputs=[("f", float)], **sim)
    share = Resources(nodes=("n1",), cores_per_node=2)
    return Worker(channel, WorkerSetup(1, specs, None, {"executor": exctr, "resources": share}))


def work(sim_id: int = 0) -> Work:
    return Work(EVAL_SIM_TAG, np.zeros(1, dtype=[("x", float, 2)]), np.array([sim_id]))


def test_each_worker_gets_its_own_bound_copy():
    w = worker(Inbox())
    assert w.executor is not None and w.executor.worker_id == 1
    assert w.executor.resources == Resources(nodes=("n1",), cores_per_node=2)
    assert w.base_info["executor"] is w.executor and "executor" not in w.options


def test_kill_for_the_calls_rows_is_its_signal_and_others_are_dropped():
    channel = Inbox(Kill(np.array([7])), Kill(np.array([5, 6])), Kill(np.array([9])))
    w = worker(channel)
    assert w._manager_signal(np.array([5]), channel) == MAN_SIGNAL_KILL
    assert [m.sim_ids.tolist() for m in channel.incoming] == [[9]] and not w.held


def test_stop_is_finish_and_other_messages_wait_for_the_worker_loop():
    later = work(3)
    channel = Inbox(later, Stop())
    w = worker(channel)
    assert w._manager_signal(np.array([0]), channel) == MAN_SIGNAL_FINISH
    assert [type(m) for m in w.held] == [Work, Stop] and w.held[0] is later
    assert not channel.incoming
    w.run()  # serves the held work, then the held stop
    assert [type(m) for m in channel.sent] == [Result, Goodbye]


def test_a_failed_call_stops_the_applications_it_started(tmp_path):
    w = worker(Inbox(), sim_f=uf.stuck_app_sim, timeout=0.3)
    reply = w.handle(work(4))
    assert type(reply) is WorkerFailed and "SimSpecs.timeout=0.3" in reply.error
    pids = [int(p) for p in (tmp_path / "pids_4.txt").read_text().split()]
    assert all(gone(p) for p in pids)
