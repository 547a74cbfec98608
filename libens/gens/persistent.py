"""PersistentSupport: how a long-lived gen_f (or persistent sim_f) talks to the manager.

``send`` hands rows to the manager; ``recv`` waits for the next work (results for a
generator) or a stop; ``send_recv`` does both. Signatures follow libEnsemble.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from libens.messages import (
    EVAL_GEN_TAG,
    PERSIS_STOP,
    STOP_TAG,
    CancelRequest,
    GenOutput,
    Kill,
    Stop,
    Tag,
    Work,
)


class PersistentSupport:
    """The send/recv helper a persistent user function gets through ``libE_info``."""

    __slots__ = (
        "libE_info",
        "comm",
        "calc_type",
        "last_stop",
    )

    def __init__(self, libE_info: dict[str, Any], calc_type: int = EVAL_GEN_TAG) -> None:
        self.libE_info = libE_info
        self.comm = libE_info["comm"]
        self.calc_type = Tag(calc_type)
        self.last_stop: Stop | None = None

    def send(
        self, output: np.ndarray | None, calc_status: int = 0, keep_state: bool = False
    ) -> None:
        """Hand rows (new points, or updates of rows carrying ``sim_id``) to the manager."""
        self.comm.send(GenOutput(self.calc_type, output, keep_state))

    def recv(self, blocking: bool = True) -> tuple[int, dict | None, np.ndarray | None]:
        """Wait for the next message: ``(EVAL_GEN_TAG, work, rows)`` with results, or
        ``(STOP_TAG | PERSIS_STOP, None, final_rows_or_None)`` when the run ends."""
        if not blocking and not self.comm.poll():
            return Tag.UNSET, None, None
        while True:
            msg = self.comm.recv()
            if isinstance(msg, Work):
                info = dict(msg.info or {})
                info["H_rows"] = msg.sim_ids
                info["persistent"] = True
                work = {"tag": msg.tag, "libE_info": info, "persis_info": msg.persis_info}
                return msg.tag, work, msg.rows
            if isinstance(msg, Stop):
                self.last_stop = msg
                return msg.tag, None, msg.rows
            if isinstance(msg, Kill):
                continue

    def send_recv(
        self, output: np.ndarray | None, calc_status: int = 0
    ) -> tuple[int, dict | None, np.ndarray | None]:
        """``send`` then ``recv``."""
        self.send(output, calc_status)
        return self.recv()

    def request_cancel_sim_ids(self, sim_ids: npt.ArrayLike) -> None:
        """Ask the manager not to evaluate these points (and to kill running ones when
        ``LibeSpecs.kill_canceled_sims``)."""
        self.comm.send(CancelRequest(np.atleast_1d(np.asarray(sim_ids, dtype=np.int64))))


STOP_TAGS = (STOP_TAG, PERSIS_STOP)
