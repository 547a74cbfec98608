"""The worker loop: receive work, run the user function, send the result back.

A worker only runs callables and reports results or errors (with their traceback); the
manager owns the history and every decision.
"""

from __future__ import annotations

import logging
import time
import traceback
from typing import Any

import numpy as np

from libens.comms.base import Channel
from libens.errors import ChannelClosed
from libens.messages import (
    EVAL_GEN_TAG,
    EVAL_SIM_TAG,
    FINISHED_PERSISTENT_GEN_TAG,
    FINISHED_PERSISTENT_SIM_TAG,
    UNSET_TAG,
    WORKER_DONE,
    Kill,
    Result,
    Stop,
    Tag,
    Work,
    WorkerFailed,
    WorkerSetup,
)
from libens.userfuncs import UserFunction, check_sim_output

logger = logging.getLogger("libens.worker")


class Worker:
    """Runs the sim or gen function named by each Work message."""

    def __init__(self, channel: Channel, setup: WorkerSetup) -> None:
        self.channel = channel
        self.worker_id = setup.worker_id
        self.sim_specs = setup.sim_specs
        self.gen_specs = setup.gen_specs
        self.options = setup.options
        self.sim_f = UserFunction(_sim_callable(self.sim_specs)) if self.sim_specs else None
        self.gen_f = UserFunction(_gen_callable(self.gen_specs)) if self.gen_specs else None

    def run(self) -> None:
        """Serve Work until STOP (or until the manager goes away)."""
        channel = self.channel
        while True:
            try:
                msg = channel.recv()
            except ChannelClosed:
                return
            if isinstance(msg, Work):
                channel.send(self.handle(msg))
            elif isinstance(msg, Stop):
                if msg.tag == Tag.STOP:
                    return
            elif isinstance(msg, Kill):
                continue

    def handle(self, work: Work) -> Result | WorkerFailed:
        """Run one calculation; an exception becomes a WorkerFailed carrying its traceback."""
        is_sim = work.tag == EVAL_SIM_TAG
        func = self.sim_f if is_sim else self.gen_f
        specs = self.sim_specs if is_sim else self.gen_specs
        rows = work.rows if work.rows is not None else np.zeros(0, dtype=[("sim_id", int)])
        libE_info: dict[str, Any] = dict(self.options)
        libE_info.update(work.info or {})
        libE_info.update(
            H_rows=work.sim_ids,
            workerID=self.worker_id,
            comm=self.channel,
            persistent=work.persistent,
            active_recv=work.active_recv,
        )
        persis_info = work.persis_info if work.persis_info is not None else {}
        started = time.time()
        try:
            H_o, persis_info, status = func(rows, persis_info, specs, libE_info)
            if is_sim and not work.persistent:
                check_sim_output(H_o, len(rows), self.sim_specs.outputs, func.name)
        except Exception as e:
            logger.debug("worker %d: %s raised %r", self.worker_id, func and func.name, e)
            return WorkerFailed(work.tag, func.name if func else "?", f"{type(e).__name__}: {e}",
                                traceback.format_exc(), work.sim_ids)
        if status == UNSET_TAG:
            if work.persistent:
                status = FINISHED_PERSISTENT_GEN_TAG if work.tag == EVAL_GEN_TAG else FINISHED_PERSISTENT_SIM_TAG
            else:
                status = WORKER_DONE
        return Result(work.tag, int(status), H_o, work.sim_ids, persis_info, started, time.time())


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
    if not isinstance(setup, WorkerSetup):
        raise TypeError(f"worker {worker_id}: expected WorkerSetup first, got {type(setup).__name__}")
    Worker(channel, setup).run()
