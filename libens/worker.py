"""The worker loop: receive work, run the user function, send the result back.

A worker only runs callables and reports results or errors (with their traceback); the
manager owns the history and every decision.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections import deque
from functools import partial
from typing import Any

import numpy as np

from libens.comms.affinity import StayPut, UserCode, running_average
from libens.comms.base import Channel
from libens.errors import ChannelClosed
from libens.messages import (
    EVAL_GEN_TAG,
    EVAL_SIM_TAG,
    FINISHED_PERSISTENT_GEN_TAG,
    FINISHED_PERSISTENT_SIM_TAG,
    MAN_SIGNAL_FINISH,
    MAN_SIGNAL_KILL,
    UNSET_TAG,
    WORKER_DONE,
    Goodbye,
    Kill,
    Result,
    Stop,
    Tag,
    Work,
    WorkerFailed,
    WorkerSetup,
)
from libens.userfuncs import OutputCheck, UserFunction

logger = logging.getLogger("libens.worker")

# s: work whose recent calls say it takes less than this may run on the manager's thread
# (thread comms), where a hand-over to the worker's thread and back would cost more
TINY_WORK = 1e-4


class Worker:
    """Runs the sim or gen function named by each Work message."""

    __slots__ = (
        "channel",
        "worker_id",
        "sim_specs",
        "gen_specs",
        "lent_resources",
        "options",
        "executor",
        "held",
        "base_info",
        "persis_info",
        "funcs",
        "check_sim",
        "calc_dirs",
        "sim_code",
        "gen_code",
        "sender_code",
        "call_time",
        "in_persistent_call",
        "sender_info",
        "timed_tags",
    )

    def __init__(self, channel: Channel, setup: WorkerSetup) -> None:
        self.channel = channel
        self.worker_id = setup.worker_id
        self.sim_specs = setup.sim_specs
        self.gen_specs = setup.gen_specs
        options = dict(setup.options)
        executor, resources = options.pop("executor", None), options.pop("resources", None)
        # with resource sets, each simulation call brings the resources it is lent
        self.lent_resources = options.pop("resource_sets", False)
        calc_dirs = options.pop("calc_dirs", None)
        self.options = options
        # the user's Executor, as this worker's own copy (libens.executors)
        self.executor = executor.for_worker(self.worker_id, resources) if executor else None
        # messages read while a call was running (an executor listening for a kill)
        self.held: deque[Any] = deque()
        # what every call's libE_info starts from (a fresh copy per call: user code may edit it)
        self.base_info = {**options, "workerID": self.worker_id, "comm": channel}
        if self.executor is not None:
            self.base_info.update(executor=self.executor, resources=resources)
        self.persis_info: dict[str, Any] = {}
        self.funcs: dict[int, UserFunction] = {}
        self.check_sim = OutputCheck([], "-")
        if self.sim_specs is not None:
            sim_f = self.funcs[EVAL_SIM_TAG] = UserFunction(
                _sim_callable(self.sim_specs), self.sim_specs.threaded, self.sim_specs.timeout
            )
            self.check_sim = OutputCheck(self.sim_specs.outputs, sim_f.name)
        gen_f = _gen_callable(self.gen_specs) if self.gen_specs is not None else None
        if gen_f is not None:
            self.funcs[EVAL_GEN_TAG] = UserFunction(gen_f, self.gen_specs.threaded)
        self.calc_dirs: list[Any] = []  # libens.store.calcdirs.CalcDirs, to copy back
        if calc_dirs:
            from libens.store.calcdirs import in_calc_dirs

            self.calc_dirs = in_calc_dirs(self.funcs, calc_dirs, self.worker_id)
        self.sim_code, self.gen_code = UserCode("sim"), UserCode("gen")  # see comms.affinity
        self.sender_code = StayPut()
        self.call_time: dict[int, float] = {}  # running average per work tag, s per call
        # set (on the manager's side) when persistent work comes; cleared when its call ends
        self.in_persistent_call = False
        # a sender that may take tiny work itself gives the channel for calls it runs; only
        # then are calls timed, and never those of a function with a timeout or run in
        # threads of its own (so these never run on the sender's thread)
        sender_channel = channel.let_sender_handle(self.handle_on_sender)
        self.sender_info = {**self.base_info, "comm": sender_channel}
        # (nor of a worker with an executor: its calls launch applications)
        self.timed_tags = (
            {tag for tag, f in self.funcs.items() if not (f.timeout or f.threaded)}
            if sender_channel is not None and self.executor is None
            else set()
        )

    def run(self) -> None:
        """Serve Work until STOP (or until the manager goes away)."""
        if self.executor is not None and threading.current_thread() is threading.main_thread():
            # a worker process ended by SIGTERM (the manager gave up waiting for its call)
            # leaves through the cleanup below, not with its applications still running
            signal.signal(signal.SIGTERM, _exit_on_signal)
        try:
            self._serve()
        finally:
            if self.executor is not None:
                self.executor.kill_running()
            self.copy_back()

    def copy_back(self) -> None:
        """Copy this worker's calculation directories back (``ensemble_copy_back``)."""
        for dirs in self.calc_dirs:
            dirs.copy_back()

    def _serve(self) -> None:
        channel, held = self.channel, self.held
        while True:
            try:
                msg = held.popleft() if held else channel.recv()
            except ChannelClosed:
                return
            if isinstance(msg, Work):
                reply = self.handle(msg)
                self.in_persistent_call = False
                try:
                    channel.send(reply)
                except ChannelClosed:
                    return  # the manager is gone
            elif isinstance(msg, Stop):
                if msg.tag == Tag.STOP:
                    self.copy_back()  # before the run returns to the user
                    channel.send(Goodbye(self.persis_info))
                    return
            elif isinstance(msg, Kill):
                continue

    def _manager_signal(self, sim_ids: np.ndarray, channel: Channel) -> int | None:
        """What the manager said to a running call, for its executor: MAN_SIGNAL_KILL for a
        kill of any of its rows, MAN_SIGNAL_FINISH for the run's STOP. Messages other than
        kills are kept for the worker loop."""
        while channel.poll(0):
            msg = channel.recv()
            if isinstance(msg, Kill):
                if np.isin(msg.sim_ids, sim_ids).any():
                    return MAN_SIGNAL_KILL
                continue
            self.held.append(msg)
            if isinstance(msg, Stop) and msg.tag == Tag.STOP:
                return MAN_SIGNAL_FINISH
        return None

    def handle_on_sender(self, msg: Any) -> Result | WorkerFailed | None:
        """Run tiny work on the sender's thread (None: pass the message to this worker's
        thread). Safe only while this worker's thread waits: the manager gives new
        non-persistent work only to an idle worker, and a persistent call keeps the flag
        set from the moment its work is sent until the call returns."""
        if type(msg) is not Work:
            return None
        if msg.persistent:
            self.in_persistent_call = True
            return None
        average = self.call_time.get(msg.tag)
        if average is None or self.in_persistent_call:
            return None
        calls = len(msg.sim_ids) if msg.info and msg.info.get("split_rows") else 1
        if average * calls > TINY_WORK:
            return None
        return self.handle(msg, on_sender=True)

    def handle(self, work: Work, on_sender: bool = False) -> Result | WorkerFailed:
        """Run one calculation (``on_sender``: on the sender's thread); an exception becomes
        a WorkerFailed carrying its traceback."""
        is_sim = work.tag == EVAL_SIM_TAG
        func = self.funcs.get(work.tag)
        if func is None:
            return WorkerFailed(
                work.tag,
                "-",
                f"worker {self.worker_id} has no function for "
                f"work tag {work.tag}; give sim work only with sim_specs and gen "
                "work only with gen_specs",
                "",
                work.sim_ids,
            )
        specs = self.sim_specs if is_sim else self.gen_specs
        rows = work.rows if work.rows is not None else np.zeros(0, dtype=[("sim_id", int)])
        base = self.sender_info if on_sender else self.base_info
        libE_info = base.copy()
        if work.info:  # an allocation's extra keys, never the worker's own identity
            libE_info.update(work.info)
            libE_info["workerID"], libE_info["comm"] = self.worker_id, base["comm"]
        libE_info["H_rows"] = work.sim_ids
        libE_info["persistent"] = work.persistent
        libE_info["active_recv"] = work.active_recv
        if self.executor is not None:  # a persistent call's messages are PersistentSupport's
            listen = partial(self._manager_signal, work.sim_ids, base["comm"])
            self.executor.bind_call(None if work.persistent else listen)
            if self.lent_resources:
                self.executor.resources = libE_info.get("resources")
        if work.persis_info is not None:
            self.persis_info = work.persis_info
        persis_info = held = self.persis_info
        started = time.time()
        split = libE_info.pop("split_rows", False)
        edge = self.sender_code if on_sender else self.sim_code if is_sim else self.gen_code
        edge.calls = len(rows) if split else 1
        if split:
            with edge:
                out = self._run_per_row(work, rows, persis_info, libE_info, started)
            if work.tag in self.timed_tags and type(out) is Result:
                self._timed(work.tag, out.ended - started, len(rows))
            return out
        try:
            with edge:
                H_o, persis_info, status = func(rows, persis_info, specs, libE_info)
            self.persis_info = persis_info
            if is_sim and not work.persistent:
                self.check_sim(H_o, len(rows))
        except Exception as e:
            return self._failed(work.tag, e, work.sim_ids)
        if status == UNSET_TAG:
            if work.persistent:
                status = (
                    FINISHED_PERSISTENT_GEN_TAG
                    if work.tag == EVAL_GEN_TAG
                    else FINISHED_PERSISTENT_SIM_TAG
                )
            else:
                status = WORKER_DONE
        ended = time.time()
        if work.tag in self.timed_tags and not work.persistent:
            self._timed(work.tag, ended - started, 1)
        return Result(
            work.tag, int(status), H_o, None, _changed(persis_info, held), started, ended
        )

    def _timed(self, tag: int, took: float, calls: int) -> None:
        """Count a call (or a chunk of ``calls``) in the running average of ``tag``'s calls."""
        self.call_time[tag] = running_average(self.call_time.get(tag), took / calls)

    def _run_per_row(
        self, work: Work, rows: np.ndarray, persis_info: dict, libE_info: dict, started: float
    ) -> Result | WorkerFailed:
        """A chunk of points: one sim_f call per point, one message back. If a call raises,
        the failure carries the points done before it, so nothing computed is lost."""
        func = self.funcs[EVAL_SIM_TAG]
        held = persis_info
        outs: list[np.ndarray] = []
        spans: list[tuple[float, float]] | None = [] if self.options.get("call_times") else None
        status = UNSET_TAG
        ids = work.sim_ids
        t0 = 0.0
        for i in range(len(rows)):
            libE_info["H_rows"] = ids[i : i + 1]
            if spans is not None:
                t0 = time.time()
            try:
                H_o, persis_info, status = func(
                    rows[i : i + 1], persis_info, self.sim_specs, libE_info
                )
                self.check_sim(H_o, 1)
            except Exception as e:
                failed = self._failed(work.tag, e, ids[i : i + 1])
                failed.unrun_ids = ids[i + 1 :]
                if outs:
                    failed.done = Result(
                        work.tag,
                        WORKER_DONE,
                        _stack(outs),
                        ids[:i],
                        _changed(persis_info, held),
                        started,
                        time.time(),
                        np.array(spans) if spans is not None else None,
                    )
                return failed
            outs.append(H_o)
            self.persis_info = persis_info
            if spans is not None:  # (start, end) of each call, for the call-time log
                spans.append((t0, time.time()))
        status = WORKER_DONE if status == UNSET_TAG else status
        return Result(
            work.tag,
            int(status),
            _stack(outs),
            None,
            _changed(persis_info, held),
            started,
            time.time(),
            np.array(spans) if spans is not None else None,
        )

    def _failed(self, tag: int, e: Exception, sim_ids: np.ndarray) -> WorkerFailed:
        name = self.funcs[tag].name
        logger.debug("worker %d: %s raised %r", self.worker_id, name, e)
        if self.executor is not None:  # what a failed calculation launched is not wanted
            self.executor.kill_running(this_call=True)
        return WorkerFailed.from_exception(tag, name, e, sim_ids)


def _exit_on_signal(signum: int, frame: Any) -> None:
    raise SystemExit(128 + signum)


def _stack(outs: list[np.ndarray]) -> np.ndarray:
    """One array of the rows of a chunk. Rows of one dtype are joined as bytes: NumPy's
    concatenate of structured arrays costs several microseconds per call, on every chunk."""
    dt = outs[0].dtype
    if dt.hasobject:
        return np.concatenate(outs)
    for o in outs:
        if o.dtype != dt:
            return np.concatenate(outs)
    return np.frombuffer(bytearray(b"".join([o.tobytes() for o in outs])), dt)


def _changed(persis_info: Any, held: Any) -> Any:
    """The persis_info to send back: None when the user function kept the dict it was given
    (the worker holds it and returns it in its Goodbye), so it is not pickled per result."""
    return None if persis_info is held else persis_info


def _sim_callable(sim_specs: Any) -> Any:
    if sim_specs.sim_f is not None:
        return sim_specs.sim_f
    from libens.sims.simulator import simulator_sim_f

    return simulator_sim_f


def _gen_callable(gen_specs: Any) -> Any:
    if gen_specs.gen_f is not None:
        return gen_specs.gen_f
    if gen_specs.generator is not None:
        from libens.gens.driver import gest_api_gen_f

        return gest_api_gen_f
    return None


def run_worker(channel: Channel, worker_id: int) -> None:
    """Entry point of every worker (process, thread or rank): set up, then serve work."""
    try:
        setup = channel.recv()
    except ChannelClosed:
        return
    if isinstance(setup, Stop):
        return  # the run ended before this worker was set up
    if not isinstance(setup, WorkerSetup):
        raise TypeError(
            f"worker {worker_id}: expected WorkerSetup first, got {type(setup).__name__}"
        )
    Worker(channel, setup).run()
