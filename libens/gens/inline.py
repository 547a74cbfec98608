"""A gest-api generator served inside the manager's loop (``InlinePool``): it speaks the
worker protocol (setup, work, stop) with the same steps as ``gest_api_gen_f`` on a worker."""

from __future__ import annotations

import time
from typing import Any

from libens.comms.affinity import UserCode
from libens.gens.driver import DONE, GestSession
from libens.messages import (
    EVAL_GEN_TAG,
    FINISHED_PERSISTENT_GEN_TAG,
    GenOutput,
    Goodbye,
    Result,
    Stop,
    Tag,
    Work,
    WorkerFailed,
    WorkerSetup,
)


class InlineGenerator:
    """Worker ``worker_id`` as a message handler: ``handle(msg)`` returns the replies."""

    def __init__(self, worker_id: int) -> None:
        self.worker_id = worker_id
        self.setup: WorkerSetup | None = None
        self.session: GestSession | None = None
        self.started = 0.0
        self.gen_code = UserCode("gen")  # the manager thread's edge into the generator

    def handle(self, msg: Any) -> list[Any]:
        if isinstance(msg, WorkerSetup):
            self.setup = msg
            return []
        if isinstance(msg, Work):
            return self._step(msg.rows, msg.sim_ids, stopping=False)
        if isinstance(msg, Stop):
            if msg.tag == Tag.PERSIS_STOP and self.session is not None:
                return self._step(msg.rows, msg.sim_ids, stopping=True)
            self._finalize()
            return [Goodbye(None)] if msg.tag == Tag.STOP else []
        return []  # Kill: a generator has no simulation to kill

    def _step(self, rows: Any, ids: Any, stopping: bool) -> list[Any]:
        assert self.setup is not None
        gen_specs = self.setup.gen_specs
        try:
            with self.gen_code:  # user code: see comms.affinity
                if self.session is None:
                    self.started = time.time()
                    self.session = GestSession(gen_specs, self.setup.options, len(ids))
                    step = self.session.start(rows, ids, self.worker_id)
                else:
                    step = self.session.feed(rows, ids, stopping)
        except Exception as e:
            reply = WorkerFailed.from_exception(EVAL_GEN_TAG, "gest_api_gen_f", e, ids)
            self._finalize()
            return [reply]
        if step is not DONE:
            return [GenOutput(EVAL_GEN_TAG, step)]
        self._finalize()
        return [
            Result(
                EVAL_GEN_TAG,
                FINISHED_PERSISTENT_GEN_TAG,
                None,
                None,
                None,
                self.started,
                time.time(),
            )
        ]

    def _finalize(self) -> None:
        if self.session is not None:
            with self.gen_code:
                self.session.finalize()
