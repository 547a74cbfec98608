"""Thread comms run work whose recent calls were tiny on the manager's thread, in the state of
the worker it was given to; anything else, and everything with the option off, runs on the
worker's own thread (libens.worker.Worker.handle_on_sender, libens.comms.threads)."""

from __future__ import annotations

import os
import threading
import time

import numpy as np
import pytest

from libens import ExitCriteria, GenSpecs, LibeSpecs, SimSpecs, WorkerError, libE
from libens.alloc import only_persistent_gens
from libens.comms import affinity
from libens.comms.affinity import CorePlacement
from libens.comms.base import Channel
from libens.comms.threads import SenderSideChannel, ThreadComms
from libens.errors import ChannelClosed, ChannelTimeout
from libens.gens.sampling import persistent_uniform
from libens.messages import EVAL_SIM_TAG, PERSIS_STOP, Result, Stop, Work, WorkerFailed
from libens.worker import TINY_WORK, Worker, WorkerSetup

LB, UB = np.array([-3.0, -2.0]), np.array([3.0, 2.0])
OUT = [("f", float), ("on_manager", bool), ("seen_worker", int), ("sender_side", bool)]


def _where_sim(H, persis_info, sim_specs, libE_info):
    """f = |x|^2, and where the call ran: the manager's thread or not, for which worker."""
    if sim_specs["user"].get("delay"):
        time.sleep(sim_specs["user"]["delay"])
    if sim_specs["user"].get("fail_at") in libE_info["H_rows"]:
        raise ValueError(f"bad point {H['x'][0].tolist()}")
    out = np.zeros(len(H), dtype=OUT)
    out["f"] = np.sum(H["x"] ** 2, axis=1)
    out["on_manager"] = threading.get_ident() == sim_specs["user"]["manager"]
    out["seen_worker"] = libE_info["workerID"]
    out["sender_side"] = isinstance(libE_info["comm"], SenderSideChannel)
    return out, persis_info


def _run(n: int, nworkers: int = 3, **user):
    """A persistent sampler on threads; the history's evaluated rows in the order they ran."""
    sim = SimSpecs(
        sim_f=_where_sim,
        inputs=["x"],
        outputs=OUT,
        user={"manager": threading.get_ident(), **user},
    )
    gen = GenSpecs(
        gen_f=persistent_uniform,
        persis_in=["f", "x"],
        outputs=[("x", float, 2)],
        user={"lb": LB, "ub": UB, "initial_batch_size": 1},  # orders of one point
    )
    options = {k: user.pop(k) for k in list(user) if k.startswith("threads_")}
    H, _, flag = libE(
        sim,
        gen,
        ExitCriteria(sim_max=n),
        alloc_specs={"alloc_f": only_persistent_gens},
        libE_specs=LibeSpecs(
            comms="threads",
            nworkers=nworkers,
            save_H_on_completion=False,
            disable_log_files=True,
            **options,
        ),
    )
    assert flag == 0
    done = H[H["sim_ended"]]
    return done[np.argsort(done["sim_started_time"], kind="stable")]


def test_tiny_simulations_run_on_the_manager_thread_in_their_worker_state():
    H = _run(200)
    assert len(H) == 200
    assert np.allclose(H["f"], np.sum(H["x"] ** 2, axis=1))
    assert not H["on_manager"][0]  # nothing known of the first call: the worker's thread
    # then the manager's (a call a busy machine stretches past TINY_WORK sends a few back)
    assert np.mean(H["on_manager"]) >= 0.5
    # each call saw the worker the history names, wherever it ran; never the generator's
    assert np.array_equal(H["seen_worker"], H["sim_worker"])
    # a call on the manager's thread gets the channel for that side (waits answered at once)
    assert np.array_equal(H["sender_side"], H["on_manager"])
    assert set(H["sim_worker"].tolist()) <= {2, 3}
    assert set(H["gen_worker"].tolist()) == {1}
    assert H["gen_informed"].sum() >= 200 - 2  # results went back to the generator


def test_slower_simulations_stay_on_the_workers_threads():
    H = _run(12, delay=10 * TINY_WORK)
    assert len(H) == 12 and not H["on_manager"].any()
    assert np.allclose(H["f"], np.sum(H["x"] ** 2, axis=1))


def test_the_option_off_keeps_every_call_on_the_workers_threads():
    H = _run(60, threads_tiny_on_manager=False)
    assert len(H) == 60 and not H["on_manager"].any()


def test_a_tiny_simulation_failing_on_the_manager_thread_is_a_worker_error_and_keeps_results(
    tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(WorkerError, match=r"_where_sim.*ValueError: bad point"):
        _run(400, fail_at=150)
    H = np.load(tmp_path / "libE_history_at_abort.npy")
    done = H[H["sim_ended"]]
    assert len(done) >= 150 and done["on_manager"].any()
    assert np.allclose(done["f"], np.sum(done["x"] ** 2, axis=1))
    assert 150 not in done["sim_id"]


class _Silent(Channel):
    """A worker's link that is never used (the tests call the worker directly), from a
    sender that may take work itself (``offer_taken``) or not, as a process link."""

    def __init__(self, offer_taken: bool = True) -> None:
        self.offer_taken = offer_taken

    def let_sender_handle(self, handler):
        return self if self.offer_taken else None

    def send(self, msg):
        raise AssertionError("unexpected send")

    def recv(self, timeout=None):
        raise AssertionError("unexpected recv")

    def poll(self, timeout=0.0):
        return False


def _worker(offer_taken: bool = True, **sim) -> Worker:
    specs = SimSpecs(sim_f=_where_sim, inputs=["x"], outputs=OUT, user={"manager": 0}, **sim)
    return Worker(_Silent(offer_taken), WorkerSetup(1, specs, None, {}))


def _work(persistent: bool = False, n: int = 1) -> Work:
    rows = np.zeros(n, dtype=[("x", float, 2)])
    return Work(EVAL_SIM_TAG, rows, np.arange(n), {}, persistent, info={"split_rows": True})


def test_the_worker_takes_work_on_the_sender_only_once_timed_and_never_in_a_persistent_call():
    w = _worker()
    assert w.handle_on_sender(_work()) is None  # never timed yet
    assert type(w.handle(_work())) is Result  # on its own thread: now timed
    assert w.call_time[EVAL_SIM_TAG] > 0
    w.call_time[EVAL_SIM_TAG] = TINY_WORK / 2
    assert type(w.handle_on_sender(_work())) is Result
    w.call_time[EVAL_SIM_TAG] = TINY_WORK * 0.6
    assert type(w.handle_on_sender(_work())) is Result
    w.call_time[EVAL_SIM_TAG] = TINY_WORK * 0.6
    assert w.handle_on_sender(_work(n=2)) is None  # a chunk of two calls: too long
    assert w.handle_on_sender(Stop(PERSIS_STOP)) is None  # only Work
    w.call_time[EVAL_SIM_TAG] = 0.0
    assert w.handle_on_sender(_work(persistent=True)) is None  # the worker's thread is busy
    assert w.handle_on_sender(_work()) is None


def test_a_call_on_the_sender_that_turned_long_goes_back_to_the_worker_not_the_senders_cpus():
    """The worker's timing, not the sender thread's, owns such calls: a long one moves the
    next off the sender, and the sender's own stretches of user code (and its CPU) are
    left as they were."""
    w = _worker()
    w.sim_specs.user["delay"] = 10 * TINY_WORK  # lifts the running average over TINY_WORK
    w.call_time[EVAL_SIM_TAG] = 0.0
    seen = {}

    def sender():
        placement = CorePlacement(min(os.sched_getaffinity(0)), os.sched_getaffinity(0))
        placement.join()
        state = affinity._local.state
        seen["reply"] = w.handle_on_sender(_work())
        seen["averages"], seen["pinned"] = dict(state.average), state.pinned
        placement.leave()

    t = threading.Thread(target=sender)
    t.start()
    t.join()
    assert type(seen["reply"]) is Result and seen["reply"].rows["f"].tolist() == [0.0]
    assert seen["averages"] == {} and seen["pinned"]
    assert w.call_time[EVAL_SIM_TAG] > TINY_WORK
    assert w.handle_on_sender(_work()) is None


def test_a_failure_on_the_sender_is_the_same_reply_as_on_the_worker_thread():
    w = _worker()
    w.call_time[EVAL_SIM_TAG] = 0.0
    w.sim_specs.user["fail_at"] = 0
    reply = w.handle_on_sender(_work())
    assert isinstance(reply, WorkerFailed) and "bad point" in reply.traceback


def test_a_function_with_a_timeout_is_never_timed_so_never_runs_on_the_sender():
    w = _worker(timeout=5.0)
    assert type(w.handle(_work())) is Result
    assert EVAL_SIM_TAG not in w.call_time
    assert w.handle_on_sender(_work()) is None


def test_a_worker_whose_sender_declines_never_times_its_calls():
    w = _worker(offer_taken=False)
    assert type(w.handle(_work())) is Result
    assert w.call_time == {}


def _pool_with_handler(wait):
    """A one-worker thread pool whose worker offers a handler that calls ``wait`` on the
    channel the pool gives for the sender's side and replies ("here", msg, what the wait
    returned or raised, how long it took); the worker's own thread replies ("thread", msg)."""
    offered = threading.Event()

    def worker_main(channel, wid):
        def handler(msg):
            t0 = time.perf_counter()
            try:
                got = wait(sender_side)
            except ChannelTimeout as e:
                got = e
            return ("here", msg, got, time.perf_counter() - t0)

        sender_side = channel.let_sender_handle(handler)
        offered.set()
        while True:
            try:
                msg = channel.recv()
            except ChannelClosed:
                return
            channel.send(("thread", msg))

    pool = ThreadComms(threads_on_one_cpu=False).open_pool(1, worker_main)
    assert offered.wait(10)
    return pool


def _timed_out(got) -> bool:
    return isinstance(got, ChannelTimeout) and "threads_tiny_on_manager" in str(got)


@pytest.mark.parametrize(
    ("wait", "answered"),
    [
        (lambda channel: channel.poll(30.0), lambda got: got is False),
        (lambda channel: channel.recv(), _timed_out),  # would block the manager for good
    ],
    ids=["poll", "recv"],
)
def test_a_call_on_the_manager_thread_that_waits_for_messages_is_answered_at_once(wait, answered):
    pool = _pool_with_handler(wait)
    try:
        pool.send(1, "a")
        [(wid, (where, msg, got, took))] = pool.recv_any(10)
        assert (wid, where, msg) == (1, "here", "a") and answered(got) and took < 5
        pool.send(1, "b")  # the offer is withdrawn: the worker's thread takes it
        assert pool.recv_any(10) == [(1, ("thread", "b"))]
    finally:
        pool.close()


def test_a_look_without_waiting_keeps_the_offer():
    pool = _pool_with_handler(lambda channel: channel.poll())
    try:
        for msg in ("a", "b"):
            pool.send(1, msg)
            [(_, (where, _, got, _))] = pool.recv_any(10)
            assert where == "here" and got is False
    finally:
        pool.close()
