"""The manager: the event loop that owns the history and decides who does what.

    receive -> update history -> check exit -> allocate -> send     (repeat)

Each event costs O(rows in the event): the history keeps index sets of pending and
returned points, and the shipped allocation policies read those instead of scanning H.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from libens.alloc.orders import DirectOrders
from libens.alloc.policies import Core, PolicyRun, core_of
from libens.alloc.safe import check_protected, protected_copy
from libens.alloc.workers import WorkerTable
from libens.comms.base import PeerJoined, PeerLost, WorkerPool
from libens.errors import ChannelClosed, GeneratorError, LibensError, RemoteTraceback, WorkerError
from libens.history import History, as_ids
from libens.messages import (
    CALC_TYPE_NAMES,
    EVAL_GEN_TAG,
    EVAL_SIM_TAG,
    FINISHED_PERSISTENT_GEN_TAG,
    CancelRequest,
    GenOutput,
    Goodbye,
    Kill,
    Result,
    Stop,
    Tag,
    Work,
    WorkerFailed,
    WorkerSetup,
)
from libens.outputs import OutputFiles
from libens.progress import Progress
from libens.specs import AllocSpecs, ExitCriteria, GenSpecs, LibeSpecs, SimSpecs

if TYPE_CHECKING:
    from libens.executors import Executor
    from libens.resources import Resources
    from libens.resources.sets import Lending
    from libens.store import RunStore
    from libens.store.calcdirs import CalcDirLayout

logger = logging.getLogger("libens.manager")

EXIT_OK = 0
EXIT_WALLCLOCK = 2

SHORT_SIM_SECONDS = 0.005  # below this mean sim_f call time, points are sent in chunks
CHUNK_SECONDS = 0.02  # a chunk holds about this much work, so load stays balanced
TINY_SIM_SECONDS = 1e-4  # below this, a call costs less than the message carrying it
MAX_CHUNK = 1000
_ORDER_KEYS = frozenset(("H_rows", "persistent", "active_recv"))  # what Work carries itself
_NO_INFO: dict[str, Any] = {}


@dataclass
class RunSpecs:
    """The validated specs of one run, passed around as typed objects."""

    sim: SimSpecs
    gen: GenSpecs | None
    alloc: AllocSpecs
    exit: ExitCriteria
    libE: LibeSpecs
    alloc_f: Callable
    executor: Executor | None = None


class Manager:
    """Runs one ensemble over a WorkerPool until an exit criterion is met."""

    __slots__ = (
        "_alloc_libE_info",
        "_calc_dirs",
        "_chunking",
        "_cost_max",
        "_held_persis_info",
        "_interrupted",
        "_lending",
        "_next_save",
        "_policy",
        "_progress",
        "_running",
        "_safe_mode",
        "_save_every",
        "_sim_call_time",
        "_sim_limit",
        "_waiting",
        "_wallclock",
        "_worker_resources",
        "cost_spent",
        "exit_flag",
        "hist",
        "outputs",
        "persis_info",
        "pool",
        "sim_ended_offset",
        "specs",
        "start_time",
        "stop_val_hit",
        "store",
        "workers",
    )

    def __init__(
        self,
        pool: WorkerPool,
        hist: History,
        specs: RunSpecs,
        persis_info: dict,
        outputs: OutputFiles,
        gen_workers: list[int] | None = None,
        store: RunStore | None = None,
    ) -> None:
        self.pool = pool
        self.store = store
        self.hist = hist
        self.specs = specs
        self.persis_info = persis_info
        self.outputs = outputs
        self.workers = WorkerTable(
            pool.worker_ids, gen_workers or (), specs.libE.zero_resource_workers
        )
        self._alloc_libE_info: dict[str, Any] = {
            "exit_criteria": specs.exit,
            "manager_kill_canceled_sims": specs.libE.kill_canceled_sims,
            "use_resource_sets": bool(specs.libE.num_resource_sets),
            "resource_lending": None,  # the book of sets, for AllocSupport.sim_work
            "gen_on_manager": 0 in self.workers.slot,
            "pending_sim_ids": hist.pending,
            "uninformed_sim_ids": hist.uninformed,
            "outstanding": hist.outstanding,
            "worker_table": self.workers,
        }
        # a shipped policy runs here as its body, sending typed orders (alloc.policies);
        # safe_mode checks what an alloc_f does to H, so it calls the alloc_f itself
        core = None if specs.libE.safe_mode else core_of(specs.alloc_f)
        self._policy: tuple[Core, PolicyRun] | None = (
            None
            if core is None
            else (core, PolicyRun(specs.sim, specs.gen, specs.alloc, self._alloc_libE_info))
        )
        # each worker's share of the resources, for its copy of the executor; or, with
        # resource sets, the sets each simulation is lent (and the teams out, by worker)
        self._lending, self._worker_resources = _resource_use(specs, pool.worker_ids)
        self._alloc_libE_info["resource_lending"] = self._lending
        self._calc_dirs = _calc_dir_layouts(specs.libE)
        self._sim_call_time: float | None = None
        self._running: dict[int, np.ndarray] = {}
        self._held_persis_info: dict[int, Any] = {}
        self.start_time = time.time()
        self.sim_ended_offset = int(np.count_nonzero(hist.H["sim_ended"]))
        ex = specs.exit
        # the run's simulations are all started (ended) once this many rows of H are
        self._sim_limit: int | None = None
        if ex.total_sim_max is not None:  # counts H0's evaluated rows
            self._sim_limit = max(self.sim_ended_offset, ex.total_sim_max)
        elif ex.sim_max is not None:  # this run's own
            self._sim_limit = self.sim_ended_offset + ex.sim_max
        self.cost_spent = 0.0
        self._cost_max = ex.cost_max
        # a simulation lent resource sets has them to itself: one point per order
        self._chunking = specs.libE.chunk_short_sims and not specs.libE.num_resource_sets
        self._safe_mode = specs.libE.safe_mode
        self.stop_val_hit = False
        self.exit_flag = EXIT_OK
        self._wallclock = False
        self._waiting = False
        self._interrupted = False
        self._save_every = {
            "sim": specs.libE.save_every_k_sims,
            "gen": specs.libE.save_every_k_gens,
        }
        self._next_save = dict(self._save_every)
        self._progress = Progress.of(
            specs.libE.progress_interval, self._sim_limit, self._objective(), self.sim_ended_offset
        )

    @property
    def W(self) -> np.ndarray:
        """libEnsemble's worker array (replaced when a worker joins)."""
        return self.workers.W

    # --- main loop -------------------------------------------------------------------

    def run(self) -> tuple[np.ndarray, dict, int]:
        """Run to completion; on any error save the history first, then raise."""
        in_main = threading.current_thread() is threading.main_thread()
        previous = signal.signal(signal.SIGINT, self._on_sigint) if in_main else None
        try:
            return self._run()
        finally:
            if in_main:
                signal.signal(signal.SIGINT, previous)

    def _run(self) -> tuple[np.ndarray, dict, int]:
        try:
            self._send_setup()
            stop = self._exit_reached() or self._allocate()
            while not stop:
                if not self.workers.busy:
                    logger.warning(
                        "no work is running and the allocation policy gave none: ending the run"
                    )
                    break
                self._receive(self._wait_timeout())
                stop = self._exit_reached() or self._allocate()
            self._finish()
        except BaseException:
            self._abort()
            raise
        if self._progress is not None:
            self._progress.tick(self.hist.sim_ended_count, len(self.hist.errors), final=True)
        H = self.hist.H  # a view: no second copy of a large history
        self.outputs.save_final(H, self.persis_info, aborted=False)
        self.outputs.close()
        if self.store is not None:
            self.store.checkpoint(H, self.persis_info)
            self.store.write_summaries(H, self._objective())
            self.store.close()
        return H, self.persis_info, self.exit_flag

    def _objective(self) -> str | None:
        vocs = self.specs.gen.vocs if self.specs.gen is not None else None
        if vocs is not None and vocs.objectives:
            return next(iter(vocs.objectives))
        return "f" if "f" in self.hist.dtype.names else None

    def elapsed(self) -> float:
        return time.time() - self.start_time

    def _send_setup(self) -> None:
        for wid in self.pool.worker_ids:
            self._setup_worker(wid)

    def _setup_worker(self, wid: int) -> None:
        s = self.specs
        options: dict[str, Any] = {
            "sim_workers": sum(1 for w in self.workers.slot if w != 0),
            "nworkers": len(self.W),
            "call_times": self.outputs.log_files,
            "generator_checkpoint": (
                str(self.store.generator_path) if self.store is not None else None
            ),
        }
        if self._calc_dirs:
            options["calc_dirs"] = self._calc_dirs
        if s.executor is not None:
            options["executor"] = s.executor
            options["resources"] = self._worker_resources.get(wid)
        if self._lending is not None:
            options["resource_sets"] = True
        self.pool.send(wid, WorkerSetup(wid, s.sim, s.gen, options))

    def _wait_timeout(self) -> float | None:
        wallclock = self.specs.exit.wallclock_max
        return None if wallclock is None else max(0.0, wallclock - self.elapsed())

    # --- receive and update ------------------------------------------------------------

    def _receive(self, timeout: float | None) -> None:
        self._waiting = True
        try:
            events = self.pool.recv_any(timeout)
        finally:
            self._waiting = False
        for wid, msg in events:
            self._handle(wid, msg)
        if self._interrupted:
            raise KeyboardInterrupt
        if self._progress is not None:
            self._progress.tick(self.hist.sim_ended_count, len(self.hist.errors))

    def _on_sigint(self, signum: int, frame: Any) -> None:
        """Ctrl-C: stop at once while waiting, else after the event being handled, so the
        history and the journal never disagree."""
        if self._waiting:
            raise KeyboardInterrupt
        self._interrupted = True

    def _handle(self, wid: int, msg: Any) -> None:
        if isinstance(msg, GenOutput):
            self._on_gen_output(wid, msg)
        elif isinstance(msg, Result):
            self._on_result(wid, msg)
        elif isinstance(msg, CancelRequest):
            self._on_cancel(msg.sim_ids)
        elif isinstance(msg, WorkerFailed):
            self._on_failure(wid, msg)
        elif isinstance(msg, PeerLost):
            self._on_lost(wid, msg)
        elif isinstance(msg, PeerJoined):
            logger.info("worker %d joined from %s", wid, msg.address)
            self.workers.add(wid)
            peers = [v for k, v in self.persis_info.items() if isinstance(k, int)]
            if wid not in self.persis_info and any("rand_stream" in p for p in peers):
                self.persis_info[wid] = {
                    "rand_stream": np.random.default_rng(wid),
                    "worker_num": wid,
                }
            self._setup_worker(wid)
        else:
            raise WorkerError(f"worker {wid} sent an unexpected {type(msg).__name__}")

    def _on_gen_output(self, wid: int, msg: GenOutput) -> None:
        if not self.workers.recv[wid]:
            self.workers.set_active(wid, 0)
        if msg.rows is not None and len(msg.rows):
            self._add_points(wid, msg.rows)

    def _on_result(self, wid: int, msg: Result) -> None:
        self.workers.set_active(wid, 0)
        if self.workers.persis[wid]:
            self.workers.set_persistent(wid, 0)
        if msg.persis_info is not None:
            self.persis_info[wid] = self._held_persis_info[wid] = msg.persis_info
        now = time.time()
        running = self._running.pop(wid, None)  # _call_over, inlined: once per result
        if self._lending is not None:
            self._lending.give_back(wid)
        ids = msg.sim_ids if msg.sim_ids is not None else running
        if msg.tag == EVAL_SIM_TAG and ids is not None and len(ids):
            self.hist.mark_ended(ids, msg.rows, now)
            if self.store is not None:
                fields = list(msg.rows.dtype.names or ()) if msg.rows is not None else []
                self.store.ended(self.hist.H, ids, fields)
            self._after_sims_ended(ids)
            call = (msg.ended - msg.started) / len(ids)
            old = self._sim_call_time
            self._sim_call_time = call if old is None else 0.8 * old + 0.2 * call
        elif msg.tag == EVAL_GEN_TAG and msg.rows is not None and len(msg.rows):
            persistent_return = msg.status == FINISHED_PERSISTENT_GEN_TAG
            if not persistent_return or self.specs.libE.use_persis_return_gen:
                self._add_points(wid, msg.rows)
        self.outputs.stats(wid, msg.tag, ids, msg.started, msg.ended, msg.status, msg.call_times)

    def _call_over(self, wid: int) -> np.ndarray | None:
        """Worker ``wid``'s call ended (or the worker is gone): the points it was running,
        and its resource sets given back."""
        if self._lending is not None:
            self._lending.give_back(wid)
        return self._running.pop(wid, None)

    def _add_points(self, wid: int, rows: np.ndarray) -> None:
        gen_started = self.workers.gen_started.get(wid, 0.0)
        ids = self.hist.append_generated(rows, wid, time.time(), gen_started)
        if self.store is not None:
            self.store.generated(self.hist.H, ids)
        self._maybe_save("gen", self.hist.n - self.hist.offset)

    def _after_sims_ended(self, ids: np.ndarray) -> None:
        if self._progress is not None:
            self._progress.ended(self.hist.H, ids)
        ex = self.specs.exit
        if ex.cost_max is not None and ex.cost_field in self.hist.dtype.names:
            costs = self.hist.H[ex.cost_field][ids]
            self.cost_spent += float(np.nansum(costs))
        stop_val = ex.stop_val
        if stop_val is not None:
            H = self.hist.H
            vals = H[stop_val[0]][ids][~H["sim_failed"][ids]]
            if np.any(vals[~np.isnan(vals)] <= stop_val[1]):
                self.stop_val_hit = True
        self._maybe_save("sim", self.hist.sim_ended_count - self.sim_ended_offset)

    def _maybe_save(self, kind: str, count: int) -> None:
        k = self._save_every[kind]
        if k and count >= self._next_save[kind]:
            self.outputs.save_periodic(kind, count, self.hist.H)
            self._next_save[kind] = (count // k + 1) * k

    def _on_cancel(self, sim_ids: np.ndarray) -> None:
        running = self.hist.cancel(sim_ids)
        if self.store is not None:
            self.store.cancelled(sim_ids)
        if self.specs.libE.kill_canceled_sims and len(running):
            H = self.hist.H
            H["kill_sent"][running] = True
            for wid in set(H["sim_worker"][running].tolist()):
                self.pool.send(wid, Kill(running[H["sim_worker"][running] == wid]))

    def _on_failure(self, wid: int, msg: WorkerFailed) -> None:
        if msg.done is not None:
            self._on_result(wid, msg.done)
        if msg.tag == EVAL_SIM_TAG and (
            msg.timed_out or self.specs.libE.on_sim_error == "continue"
        ):
            if msg.sim_ids is not None and len(msg.sim_ids):
                self._fail(msg.sim_ids, msg.error)
                logger.warning(
                    "sim_f %s failed on sim_ids %s (worker %d): %s; continuing",
                    msg.function,
                    msg.sim_ids.tolist(),
                    wid,
                    msg.error,
                )
                self._after_sims_ended(msg.sim_ids)
            if msg.unrun_ids is not None and len(msg.unrun_ids):
                self.hist.requeue(msg.unrun_ids)
            self._call_over(wid)
            self.workers.set_active(wid, 0)
            return
        kind = CALC_TYPE_NAMES.get(msg.tag, "user")
        err_cls = GeneratorError if msg.tag == EVAL_GEN_TAG else WorkerError
        ids = (
            ""
            if msg.sim_ids is None or not len(msg.sim_ids)
            else f" on sim_ids {msg.sim_ids.tolist()[:10]}"
        )
        err = err_cls(f"{kind} function {msg.function} raised on worker {wid}{ids}: {msg.error}")
        raise err from RemoteTraceback(msg.traceback)

    def _fail(self, ids: np.ndarray, error: str) -> None:
        self.hist.mark_failed(ids, error, time.time())
        if self.store is not None:
            self.store.ended(self.hist.H, ids, [], error)

    def _on_lost(self, wid: int, msg: PeerLost) -> None:
        """A worker went away: stop the run, or (``on_worker_lost``) re-queue or fail what it
        was running and carry on with the others."""
        workers = self.workers
        active = workers.active[wid] or workers.persis[wid]
        doing = (
            "while running a " + CALC_TYPE_NAMES.get(active, "calculation")
            if active
            else "while idle"
        )
        policy = self.specs.libE.on_worker_lost
        if policy == "stop" or workers.persis[wid]:
            raise WorkerError(f"worker {wid} was lost {doing}: {msg.reason}")
        running = self._call_over(wid)
        workers.remove(wid)
        if running is not None and len(running):
            again = np.array(
                [
                    i
                    for i in running.tolist()
                    if policy == "requeue"
                    and self.hist.requeues.get(i, 0) < self.specs.libE.max_requeues
                ],
                dtype=np.int64,
            )
            failed = np.setdiff1d(running, again)
            if len(again):
                self.hist.requeue(again)
            if len(failed):
                self._fail(failed, f"worker {wid} lost: {msg.reason}")
                self._after_sims_ended(failed)
            logger.warning(
                "worker %d lost %s (%s): re-queued %s, failed %s",
                wid,
                doing,
                msg.reason,
                again.tolist(),
                failed.tolist(),
            )
        if not workers.slot:
            raise WorkerError(
                f"worker {wid} was lost {doing} ({msg.reason}) and no worker is left"
            )

    # --- allocate and send --------------------------------------------------------------

    def _alloc_info(self) -> dict[str, Any]:
        hist, workers = self.hist, self.workers
        info = self._alloc_libE_info
        info["any_idle_workers"] = bool(workers.idle) or workers.recv_count > 0
        info["elapsed_time"] = time.time() - self.start_time
        info["gen_informed_count"] = hist.gen_informed_count
        info["sim_started_count"] = hist.sim_started_count
        info["sim_ended_count"] = hist.sim_ended_count
        info["sim_max_given"] = self._sim_budget() == 0
        info["sim_batch_size"] = self._chunk_size()
        return info

    def _chunk_size(self) -> int:
        """Points per work order: 1, unless simulations are short (then enough to keep every
        idle worker busy for about CHUNK_SECONDS), which divides the manager's cost. Calls
        shorter than a message (TINY_SIM_SECONDS) go to one worker: splitting them over
        several would only add messages, which cost more than the calls they spread."""
        pending = len(self.hist.pending)
        call = self._sim_call_time
        if pending < 2 or call is None or call > SHORT_SIM_SECONDS or not self._chunking:
            return 1
        share = (
            pending
            if call < TINY_SIM_SECONDS
            else -(-pending // max(len(self.workers.idle_plain), 1))
        )
        return max(1, min(share, int(CHUNK_SECONDS / max(call, 1e-7)), MAX_CHUNK))

    def _sim_budget(self) -> int | None:
        """Simulations this run may still start (None: no limit)."""
        if self._cost_max is not None and self.cost_spent >= self._cost_max:
            return 0
        limit = self._sim_limit
        if limit is None:
            return None
        left = limit - self.hist.sim_started_count
        return left if left > 0 else 0

    def _allocate(self) -> bool:
        """Ask the policy for work and send it; True when the policy asks to end the run."""
        if self.store is not None:
            self.store.flush()  # journaled before any result reaches a generator
        if self._policy is not None:
            workers = self.workers
            if self._sim_budget() == 0 or not (workers.idle or workers.recv_count):
                return False
            core, run = self._policy
            orders = DirectOrders()
            flag = core(
                run,
                self.hist.H,
                self.persis_info,
                orders,
                self._chunk_size,
                self.hist.sim_ended_count,
            )
            for wid, o in orders.items():
                self._dispatch(wid, *o)
            return bool(flag)
        H = self.hist.H
        specs = self.specs
        guard = protected_copy(H) if self._safe_mode else None
        out = specs.alloc_f(
            self.workers.W,
            H,
            specs.sim,
            specs.gen,
            specs.alloc,
            self.persis_info,
            self._alloc_info(),
        )
        if guard is not None:
            check_protected(guard, H, specs.alloc_f)
        if not isinstance(out, tuple) or len(out) not in (2, 3) or not isinstance(out[0], dict):
            raise LibensError(
                f"allocation function {getattr(self.specs.alloc_f, '__name__', '?')} must return "
                "(Work: dict, persis_info: dict[, flag: 0|1])"
            )
        work, self.persis_info = out[0], out[1]
        for wid, order in work.items():
            self._send_work(wid, order)
        if self._lending is not None and self._lending.reserved:
            self._lending.unreserve()
        return len(out) == 3 and bool(out[2])

    def _send_work(self, wid: int, order: dict) -> None:
        """Send one work order in libEnsemble's form."""
        if wid not in self.workers.slot:
            raise LibensError(f"allocation function gave work to unknown worker {wid}")
        info = order.get("libE_info") or _NO_INFO
        extra = (  # what Work does not carry itself
            None
            if info.keys() <= _ORDER_KEYS
            else {k: v for k, v in info.items() if k not in _ORDER_KEYS}
        )
        self._dispatch(
            wid,
            int(order["tag"]),
            order.get("H_fields"),
            as_ids(info.get("H_rows", ())),
            order.get("persis_info"),
            bool(info.get("persistent", False)),
            bool(info.get("active_recv", False)),
            extra,
        )

    def _dispatch(
        self,
        wid: int,
        tag: int,
        fields: list[str] | None,
        ids: np.ndarray,
        pi: Any,
        persistent: bool,
        active_recv: bool,
        extra: dict | None,
    ) -> None:
        """Send work to ``wid`` (sim work up to the budget) and record it."""
        workers, hist = self.workers, self.hist
        persis_state = workers.persis[wid]
        if workers.active[wid] and not (workers.recv[wid] or (persistent and persis_state == tag)):
            raise LibensError(f"allocation function gave work to busy worker {wid}")
        if tag == EVAL_SIM_TAG:
            budget = self._sim_budget()
            if budget is not None and len(ids) > budget:
                ids = ids[:budget]
            if not len(ids):
                return
            if self._lending is not None and not persistent:
                need = self._lending.sets.needed(self.hist.H, ids)
                extra = self._lend_sets(self._lending, wid, need, extra)
                if extra is None:
                    return
        elif self._lending is not None and self._lending.gen_sets and not persis_state:
            extra = self._lend_sets(self._lending, wid, self._lending.gen_sets, extra)
            if extra is None:
                return
        rows = self._rows(wid, fields, ids) if fields and len(ids) else None
        now = time.time()
        if persistent and persis_state or pi is self._held_persis_info.get(wid):
            pi = None  # the worker holds it already: don't pickle it again
        else:
            self._held_persis_info[wid] = pi
        self.pool.send(wid, Work(tag, rows, ids, pi, persistent, active_recv, extra))
        if tag == EVAL_SIM_TAG:
            hist.mark_started(ids, wid, now)
            self._running[wid] = ids
        else:
            if len(ids):
                hist.mark_informed(ids, now)
            workers.gen_started[wid] = now
        workers.set_active(wid, tag)
        if persistent:
            workers.set_persistent(wid, tag, active_recv)

    def _lend_sets(self, lending: Lending, wid: int, need: int, extra: dict | None) -> dict | None:
        """The order's extra keys with the team of ``need`` resource sets lent for it
        (``rset_team``, and its nodes, cores and GPUs as ``resources``); None while the
        call waits for sets."""
        team = lending.lend(wid, need, extra.get("rset_team") if extra else None)
        if team is None:
            return None
        return {**(extra or {}), "rset_team": list(team), "resources": lending.sets.share(team)}

    def _rows(self, wid: int, fields: list[str], ids: np.ndarray) -> np.ndarray:
        """The rows a work order carries; a field the history lacks is the policy's error."""
        try:
            return self.hist.rows(fields, ids)
        except KeyError:
            missing = [f for f in fields if f not in self.hist.col]
            if not missing:
                raise
            raise LibensError(
                f"work for worker {wid} asks for fields {missing} that the history "
                "does not have; declare them in gen_specs.outputs or sim_specs.outputs"
            ) from None

    # --- exit ---------------------------------------------------------------------------

    def _exit_reached(self) -> bool:
        ex, hist = self.specs.exit, self.hist
        if ex.wallclock_max is not None and self.elapsed() >= ex.wallclock_max:
            logger.info("exit: wallclock_max %.3g s reached", ex.wallclock_max)
            self._wallclock = True
            return True
        if self._sim_limit is not None and hist.sim_ended_count >= self._sim_limit:
            return True
        if self._cost_max is not None and self.cost_spent >= self._cost_max:
            return True
        if ex.gen_max is not None and hist.n - hist.offset >= ex.gen_max:
            return True
        return self.stop_val_hit

    def _finish(self) -> None:
        """Stop persistent user functions (handing over final results if asked), collect what
        is still running (unless the wallclock ran out), then stop every worker."""
        wallclock = self._wallclock
        workers = self.workers
        for wid, state in list(workers.persis.items()):
            if state:
                self._send_persis_stop(wid)
                workers.set_active(wid, state)
        deadline = time.time() + self.specs.libE.worker_timeout if wallclock else None
        while workers.busy or any(workers.persis.values()):
            if wallclock:
                if not any(workers.persis.values()):
                    self.exit_flag = EXIT_WALLCLOCK
                    break
                left = deadline - time.time()
                if left <= 0:
                    self.exit_flag = EXIT_WALLCLOCK
                    break
                self._receive(left)
            else:
                self._receive(None)
        if wallclock and workers.busy:
            self.exit_flag = EXIT_WALLCLOCK
        self._stop_workers(self.specs.libE.worker_timeout)

    def _send_persis_stop(self, wid: int) -> None:
        rows = ids = None
        gen = self.specs.gen
        if self.specs.libE.final_gen_send and gen is not None:
            ids = np.fromiter(self.hist.uninformed.get(wid, {}), dtype=np.int64)
            if len(ids):
                rows = self.hist.rows(gen.persis_in, ids) if gen.persis_in else None
                self.hist.mark_informed(ids, time.time())
                if self.store is not None:
                    self.store.flush()
        self.pool.send(wid, Stop(Tag.PERSIS_STOP, rows, ids))

    def _stop_workers(self, timeout: float, collect: bool = True) -> None:
        """Send STOP to every worker; unless aborting, collect their final persis_info."""
        waiting = set()
        for wid in self.pool.worker_ids:
            try:
                self.pool.send(wid, Stop(Tag.STOP))
            except ChannelClosed:
                continue
            if wid in self.workers.slot:
                waiting.add(wid)
        deadline = time.time() + timeout
        while collect and waiting and time.time() < deadline:
            for wid, msg in self.pool.recv_any(deadline - time.time()):
                if isinstance(msg, Goodbye | PeerLost):
                    waiting.discard(wid)
                if isinstance(msg, Goodbye) and msg.persis_info is not None:
                    self.persis_info[wid] = msg.persis_info
        self.pool.close(timeout)

    def _abort(self) -> None:
        """Save what was computed, then stop workers without waiting for their work."""
        try:
            path = self.outputs.save_final(self.hist.H.copy(), self.persis_info, aborted=True)
            if self.store is not None:
                path = self.store.checkpoint(self.hist.H, self.persis_info)
                self.store.close()
            if path is not None:
                logger.error("run aborted; history saved to %s", path)
        finally:
            try:
                self._stop_workers(timeout=1.0, collect=False)
            finally:
                self.outputs.close()


def _resource_use(
    specs: RunSpecs, worker_ids: list[int]
) -> tuple[Lending | None, dict[int, Resources]]:
    """The book of resource sets (``num_resource_sets``), else each worker's share when
    there is an executor to use it; the machine is read only for runs that need either."""
    if specs.libE.num_resource_sets is None and specs.executor is None:
        return None, {}
    from libens.resources.run import lending, worker_shares

    book = lending(specs.libE)
    return book, {} if book is not None else worker_shares(specs.libE, worker_ids)


def _calc_dir_layouts(libE: LibeSpecs) -> dict[int, CalcDirLayout]:
    """Where workers' calls run, when the specs give them directories of their own."""
    if not (libE.calc_dirs("sim") or libE.calc_dirs("gen")):
        return {}
    from libens.store.calcdirs import CalcDirLayout as Layout

    return Layout.of(libE)
