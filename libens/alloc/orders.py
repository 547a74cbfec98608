"""Where the shipped policies put their work orders: libEnsemble's Work dict (what an
``alloc_f`` returns), or typed orders the manager sends as they are, with no dict to build
and parse on every event. One policy body writes to either."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from libens.messages import EVAL_GEN_TAG, EVAL_SIM_TAG

Ids = npt.NDArray[np.int64]
# (tag, fields, ids, persis_info, persistent, active_recv, extra): extra is what the
# worker's libE_info gets besides what Work carries
OrderArgs = tuple[int, list[str], Ids, Any, bool, bool, dict | None]
_SPLIT = {"split_rows": True}  # shared by every chunk order: workers read it, never change it


def order(tag: int, H_fields: list[str], persis_info: dict | None, libE_info: dict) -> dict:
    """A work order in libEnsemble's form (what a policy returns per worker)."""
    return {"H_fields": H_fields, "persis_info": persis_info, "tag": tag, "libE_info": libE_info}


class Orders(dict):
    """Work orders by worker id, as a policy body gives them (``wid in orders``: that
    worker has one already); subclasses say what one order is."""

    def sim(self, wid: int, fields: list[str], ids: Ids, persis_info: Any, split: bool) -> None:
        """Points ``ids`` to evaluate; ``split``: a chunk, one sim_f call per point."""
        extra = _SPLIT if split else None
        self.put(wid, (EVAL_SIM_TAG, fields, ids, persis_info, False, False, extra))

    def gen(
        self,
        wid: int,
        fields: list[str],
        ids: Ids,
        persis_info: Any,
        persistent: bool = False,
        active_recv: bool = False,
    ) -> None:
        """Generator work with the results ``ids`` (a persistent generator: started or fed)."""
        self.put(wid, (EVAL_GEN_TAG, fields, ids, persis_info, persistent, active_recv, None))

    def put(self, wid: int, args: OrderArgs) -> None:
        raise NotImplementedError


class WorkOrders(Orders):
    """libEnsemble's Work: ``{worker: {"tag", "H_fields", "persis_info", "libE_info"}}``."""

    def put(self, wid: int, args: OrderArgs) -> None:
        tag, fields, ids, persis_info, persistent, active_recv, extra = args
        info: dict[str, Any] = {"H_rows": ids}
        if persistent:
            info["persistent"] = True
            info["active_recv"] = active_recv
        if extra:
            info.update(extra)
        self[wid] = order(tag, fields, persis_info, info)


class DirectOrders(Orders):
    """``{worker: OrderArgs}``: the arguments of the manager's send as they are."""

    put = dict.__setitem__  # type: ignore[assignment]  # no Python frame per order
