"""Run any gest-api generator (suggest/ingest/finalize) as a persistent generator.

How libens calls a generator (the standard leaves this open):
1. results already in the history (evaluated H0 rows) go to ``ingest`` before anything else;
2. with ``initial_sample_method="uniform"``, ``initial_batch_size`` uniform points are
   evaluated and ingested before the first ``suggest``;
3. ``suggest(n)`` always gets an integer: first ``initial_batch_size``, else ``batch_size``,
   else the number of workers that evaluate; afterwards ``batch_size``, else as many as just
   came back. Fewer points are accepted; ``[]`` means "nothing now", and ``[]`` while nothing
   is outstanding ends the run;
4. ``ingest`` gets exactly the VOCS names (plus ``_id`` when ``returns_id``) as Python scalars;
5. ``finalize()`` is called exactly once, also when the run ends on an error;
6. on the manager, a generator with ``quick_suggest = True`` is stepped inside the manager's
   loop (``libens.gens.inline``), any other in a thread of its own.
"""

from __future__ import annotations

import logging
import os
import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from libens.errors import GeneratorError
from libens.gens.base import learns_nothing
from libens.gens.persistent import STOP_TAGS, PersistentSupport
from libens.messages import FINISHED_PERSISTENT_GEN_TAG
from libens.sims.simulator import rows_as_dicts, to_python

logger = logging.getLogger("libens.gens")


@dataclass
class Checkpoint:
    """A generator as it was right after a ``suggest``: the sim_ids it had ingested, and the
    rows that suggest returned with the sim_id the first of them gets (so a resumed run can
    re-send rows that never reached the journal)."""

    generator: Any
    ingested: set[int]
    first_id: int
    rows: np.ndarray


def save_generator(path: Path, checkpoint: Checkpoint) -> bool:
    """Pickle a checkpoint (atomically); False when the generator cannot be pickled (a
    resumed run then rebuilds it and re-ingests every result)."""
    generator = checkpoint.generator
    try:
        blob = pickle.dumps(checkpoint)
    except Exception as e:  # any object may refuse pickling in its own way
        logger.warning(
            "generator %s cannot be pickled (%s): a resumed run will rebuild it "
            "and re-ingest every result",
            type(generator).__name__,
            e,
        )
        return False
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(blob)
    os.replace(tmp, path)
    return True


def load_generator(path: Path) -> Checkpoint | None:
    """The last checkpoint, or None."""
    if not path.exists():
        return None
    checkpoint = pickle.loads(path.read_bytes())
    return checkpoint if isinstance(checkpoint, Checkpoint) else None


class GestDriver:
    """Converts between a gest-api generator's dicts and the history's structured rows.

    With a ``checkpoint`` path the generator is pickled after every ``suggest`` (with the
    sim_ids it has ingested); a resumed run restores it from there, so it continues exactly
    where it was, and is only given the results it had not seen.
    """

    def __init__(
        self, gen_specs: Any, sim_workers: int, n_rows: int, checkpoint: str | None = None
    ) -> None:
        self.checkpoint = Path(checkpoint) if checkpoint else None
        self.restored = load_generator(self.checkpoint) if self.checkpoint else None
        self.gen = self.restored.generator if self.restored else gen_specs.generator
        self.ingested = self.restored.ingested if self.restored else set()
        self.next_id = n_rows  # sim_id of the next row sent (one generator numbers rows)
        self.specs = gen_specs
        self.vocs = gen_specs.vocs
        self.name = type(self.gen).__name__
        self.returns_id = bool(getattr(self.gen, "returns_id", False))
        self.out_dtype = np.dtype([tuple(f) for f in gen_specs.outputs])
        self.ingest_names = [n for n in gen_specs.persis_in if n != "sim_failed"]
        self._names: dict[np.dtype, list[str]] = {}  # ingest_names present, per rows dtype
        self.constants = {k: to_python(c.value) for k, c in self.vocs.constants.items()}
        self.sim_workers = max(1, sim_workers)
        self.outstanding = 0
        # a sampler's results are counted, never read or converted (see learns_nothing)
        self.learns_nothing = learns_nothing(self.gen)

    def suggest(self, n: int) -> np.ndarray:
        """Ask for up to ``n`` points; returns them as rows of ``gen_specs.outputs``."""
        try:
            points = self.gen.suggest(int(n))
        except Exception as e:
            raise GeneratorError(f"{self.name}.suggest({n}) raised {type(e).__name__}: {e}") from e
        if points is None:
            points = []
        if len(points) > n:
            raise GeneratorError(
                f"{self.name}.suggest({n}) returned {len(points)} points; "
                f"a generator must return at most the number asked for"
            )
        rows = self.to_rows(points)
        if self.checkpoint is not None and not save_generator(
            self.checkpoint, Checkpoint(self.gen, set(self.ingested), self.next_id, rows)
        ):
            self.checkpoint = None
        self.next_id += len(rows)
        return rows

    def unjournaled(self) -> np.ndarray:
        """After a restore: rows the generator suggested that never reached the history."""
        cp = self.restored
        if cp is None or cp.first_id + len(cp.rows) <= self.next_id:
            return np.zeros(0, dtype=self.out_dtype)
        rows = cp.rows[self.next_id - cp.first_id :]
        self.next_id += len(rows)
        self.outstanding += len(rows)
        return rows

    def to_rows(self, points: list[dict]) -> np.ndarray:
        rows = np.zeros(len(points), dtype=self.out_dtype)
        for name in self.out_dtype.names:
            if name == "_id" and not self.returns_id:
                continue
            try:  # plain numbers and arrays: one assignment for the column
                rows[name] = [p[name] for p in points]
            except (KeyError, TypeError, ValueError):
                values = self._column(points, name)
                if values:
                    rows[name] = values
        self.outstanding += len(rows)
        return rows

    def _column(self, points: list[dict], name: str) -> list[Any]:
        """One output column from the points, unwrapping values NumPy cannot store as they
        are, and filling VOCS constants the points left out."""
        values = []
        for p in points:
            if name in p:
                values.append(to_python(p[name]))
            elif name in self.constants:
                values.append(self.constants[name])
            else:
                raise GeneratorError(
                    f"{self.name}.suggest returned a point without {name!r}: {p}; every "
                    f"point needs all VOCS variables ({', '.join(self.vocs.variable_names)})"
                )
        return values

    def ingest(self, rows: np.ndarray | None, ids: np.ndarray | None) -> int:
        """Give evaluated rows (with their sim_ids) to the generator; returns how many came
        back. Rows it has already ingested (before a resume) are skipped. A generator that
        learns nothing is given ids only (its ``persis_in`` is empty): they are counted."""
        if self.learns_nothing:
            n = len(ids) if ids is not None else len(rows) if rows is not None else 0
            self.outstanding -= n
            return n
        if rows is None or not len(rows):
            return 0
        self.outstanding -= len(rows)
        keep = self._usable(rows)
        if ids is not None:
            ids = np.asarray(ids)
            if self.restored is not None and self.restored.ingested:
                fresh = [i not in self.restored.ingested for i in ids.tolist()]
                keep = np.logical_and(keep, fresh) if keep is not None else np.array(fresh)
            if self.checkpoint is not None:  # what a resumed generator was told
                self.ingested.update((ids if keep is None else ids[keep]).tolist())
        if keep is not None:
            rows = rows[keep]
        names = self._names.get(rows.dtype)
        if names is None:
            names = self._names[rows.dtype] = [
                n for n in self.ingest_names if n in rows.dtype.names
            ]
        results = rows_as_dicts(rows, names)
        if "_id" in names:
            for r in results:
                if not self.returns_id or r["_id"] == -1:
                    del r["_id"]
        if results:
            try:
                self.gen.ingest(results)
            except Exception as e:
                raise GeneratorError(
                    f"{self.name}.ingest({len(results)} results) raised {type(e).__name__}: {e}"
                ) from e
        return len(rows) if keep is None else len(keep)

    def _usable(self, rows: np.ndarray) -> np.ndarray | None:
        """Which rows to give the generator (None: all); with ``failed_results="nan"`` failed
        rows are given with NaN outputs."""
        if "sim_failed" not in rows.dtype.names:
            return None
        failed = rows["sim_failed"]
        if not np.count_nonzero(failed):  # a third of failed.any()'s cost on a few rows
            return None
        if self.specs.failed_results == "nan":
            for name in self.vocs.output_names:
                if name in rows.dtype.names and rows.dtype[name].kind == "f":
                    rows[name][failed] = np.nan
            return None
        return ~failed

    def first_batch_size(self) -> int:
        s = self.specs
        return s.initial_batch_size or s.batch_size or self.sim_workers

    def uniform_sample(self, n: int) -> np.ndarray:
        """``n`` uniform points over the VOCS bounds, for generators that need data first."""
        rng = np.random.default_rng()
        points = []
        for _ in range(n):
            p: dict[str, Any] = {}
            for name, var in self.vocs.variables.items():
                if hasattr(var, "domain"):
                    p[name] = float(rng.uniform(*var.domain))
                else:
                    p[name] = to_python(rng.choice(sorted(var.values, key=str)))
            points.append(p)
        rows = self.to_rows(points)
        if "_id" in rows.dtype.names:
            rows["_id"] = -1
        return rows


DONE = object()  # a GestSession step: the generator is finished


class GestSession:
    """The whole conversation with one gest-api generator, one step per message: ``start``
    with the history the run begins with, then ``feed`` every batch of results. Each step
    returns the rows to send (possibly none: "ready for more results") or ``DONE``.

    The same steps run in a worker (``gest_api_gen_f``, blocking on its channel) and inside
    the manager's loop (``InlineGenerator``), so both follow the rules of this module.
    """

    def __init__(self, gen_specs: Any, libE_info: dict, n_rows: int) -> None:
        self.specs = gen_specs
        self.driver = GestDriver(
            gen_specs,
            libE_info.get("sim_workers", 1),
            n_rows,
            libE_info.get("generator_checkpoint"),
        )
        self.sampling = False  # evaluating the uniform initial sample
        self.finalized = False

    def start(self, H: np.ndarray | None, H_rows: np.ndarray | None, worker_id: int) -> Any:
        driver = self.driver
        if H is not None and len(H) and "sim_ended" in H.dtype.names:
            done = H["sim_ended"]
            mine = H["gen_worker"] == worker_id if "gen_worker" in H.dtype.names else 0
            driver.outstanding += int(done.sum()) + int(np.sum(~done & mine))
            driver.ingest(H[done], np.asarray(H_rows)[done])
        if self.specs.initial_sample_method == "uniform" and not driver.restored:
            self.sampling = True
            return driver.uniform_sample(self.specs.initial_batch_size or driver.sim_workers)
        rows = driver.unjournaled()
        return rows if len(rows) else self._suggest(driver.first_batch_size())

    def feed(self, rows: np.ndarray | None, ids: np.ndarray | None, stopping: bool) -> Any:
        driver = self.driver
        n = driver.ingest(rows, ids)
        if stopping:
            return DONE
        if self.sampling:
            if driver.outstanding > 0:
                return driver.to_rows([])
            self.sampling = False
            return self._suggest(driver.first_batch_size())
        return self._suggest(self.specs.batch_size or max(n, 1))

    def _suggest(self, n: int) -> Any:
        rows = self.driver.suggest(n)
        return DONE if not len(rows) and self.driver.outstanding <= 0 else rows

    def finalize(self) -> None:
        """Call the generator's ``finalize`` (once)."""
        if not self.finalized:
            self.finalized = True
            self.driver.gen.finalize()


def _ids(work: dict | None, ps: PersistentSupport) -> np.ndarray | None:
    if work is not None:
        return work["libE_info"]["H_rows"]
    return ps.last_stop.sim_ids if ps.last_stop is not None else None


def gest_api_gen_f(H: np.ndarray, persis_info: dict, gen_specs: Any, libE_info: dict):
    """The persistent gen_f that drives ``gen_specs.generator`` (see the module docstring)."""
    session = GestSession(gen_specs, libE_info, 0 if H is None else len(H))
    ps = PersistentSupport(libE_info)
    try:
        step = session.start(H, libE_info["H_rows"], libE_info["workerID"])
        while step is not DONE:
            tag, work, calc_in = ps.send_recv(step)
            step = session.feed(calc_in, _ids(work, ps), tag in STOP_TAGS)
    finally:
        session.finalize()
    return None, persis_info, FINISHED_PERSISTENT_GEN_TAG
