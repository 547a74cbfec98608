"""Ensemble and libE(): validate the specs, start the comms, run the manager, return results."""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from libens.alloc import give_sim_work_first, only_persistent_gens
from libens.comms import registry
from libens.errors import SpecError
from libens.history import History, build_dtype
from libens.manager import Manager, RunSpecs
from libens.outputs import OutputFiles
from libens.specs import AllocSpecs, ExitCriteria, GenSpecs, LibeSpecs, SimSpecs
from libens.tools import add_unique_random_streams
from libens.worker import run_worker

Results = tuple[np.ndarray | None, dict, int]


class Ensemble:
    """One ensemble run: specs in, ``(H, persis_info, exit_flag)`` out (as libEnsemble)."""

    def __init__(
        self,
        sim_specs: SimSpecs | dict | None = None,
        gen_specs: GenSpecs | dict | None = None,
        exit_criteria: ExitCriteria | dict | None = None,
        libE_specs: LibeSpecs | dict | None = None,
        alloc_specs: AllocSpecs | dict | None = None,
        persis_info: dict | None = None,
        H0: np.ndarray | None = None,
    ) -> None:
        if sim_specs is None:
            raise SpecError(
                "Ensemble needs sim_specs: SimSpecs(sim_f=...) or SimSpecs(simulator=...)"
            )
        self.sim_specs = SimSpecs.coerce(sim_specs)
        self.gen_specs = GenSpecs.coerce(gen_specs) if gen_specs is not None else None
        self.exit_criteria = ExitCriteria.coerce(exit_criteria)
        self.libE_specs = LibeSpecs.coerce(libE_specs)
        self.alloc_specs = AllocSpecs.coerce(alloc_specs)
        self.persis_info = persis_info
        self.H0 = H0

    def run(self) -> Results:
        """Run the ensemble; on worker-only processes (MPI ranks > 0) serve work and return."""
        libE = self.libE_specs
        comms = libE.comms or ("mpi" if registry.launched_under_mpi() else "local")
        backend = registry.get(comms)(**_comms_options(libE))
        if not backend.is_manager:
            backend.run_worker(run_worker)
            return None, self.persis_info or {}, 0
        nworkers = _nworkers(libE, backend.default_nworkers)
        gen_on_manager = _gen_on_manager(libE, self.gen_specs)
        hist = History(self._dtype(), self.H0)
        self._check_fields(hist.dtype)
        persis_info = self.persis_info
        if persis_info is None:
            persis_info = add_unique_random_streams({}, nworkers + 1)
        specs = RunSpecs(
            self.sim_specs,
            self.gen_specs,
            self.alloc_specs,
            self.exit_criteria,
            libE,
            self._alloc_f(),
        )
        outputs = OutputFiles(
            libE.output_dir,
            libE.H_file_prefix,
            save_on_completion=libE.save_H_on_completion,
            save_on_abort=libE.save_H_and_persis_on_abort,
            log_files=not libE.disable_log_files,
        )
        try:
            pool = backend.open_pool(nworkers, run_worker, [0] if gen_on_manager else [])
        except BaseException:
            outputs.close()
            raise
        gen_workers = [0] if gen_on_manager else libE.gen_workers
        return Manager(pool, hist, specs, persis_info, outputs, gen_workers).run()

    def _dtype(self) -> np.dtype:
        lists = [self.sim_specs.outputs, self.alloc_specs.outputs]
        if self.gen_specs is not None:
            lists.insert(0, self.gen_specs.outputs)
        try:
            return build_dtype(*lists)
        except TypeError as e:
            raise SpecError(
                f"an outputs entry is not a valid NumPy field spec: {e}; "
                "use ('name', type) or ('name', type, shape)"
            ) from e

    def _alloc_f(self) -> Any:
        if self.alloc_specs.alloc_f is not None:
            return self.alloc_specs.alloc_f
        if self.gen_specs is not None and self.gen_specs.generator is not None:
            return only_persistent_gens
        return give_sim_work_first

    def _check_fields(self, dtype: np.dtype) -> None:
        names = set(dtype.names or ())
        for f in self.sim_specs.inputs:
            if f not in names:
                raise SpecError(
                    f"SimSpecs.inputs names {f!r}, which no generator output or H0 "
                    "field provides; add it to gen_specs.outputs or fix the name"
                )
        if self.gen_specs is not None:
            sim_out = {s[0] for s in self.sim_specs.outputs}
            for field_list, label in (
                (self.gen_specs.inputs, "inputs"),
                (self.gen_specs.persis_in, "persis_in"),
            ):
                for f in field_list:
                    if f not in names and f not in sim_out:
                        raise SpecError(
                            f"GenSpecs.{label} names {f!r}, which is not a field of the "
                            "history; declare it in sim_specs.outputs or fix the name"
                        )


def _comms_options(libE: LibeSpecs) -> dict[str, Any]:
    return {
        "start_method": libE.start_method,
        "mpi_comm": libE.mpi_comm,
        "ip": libE.ip,
        "port": libE.port,
        "authkey": libE.authkey,
        "nworkers": libE.nworkers,
        "workers": libE.workers,
    }


def _nworkers(libE: LibeSpecs, implied: int | None) -> int:
    if implied is not None:
        return implied
    if libE.nworkers is not None:
        return libE.nworkers
    return max(1, (os.cpu_count() or 2))


def _gen_on_manager(libE: LibeSpecs, gen_specs: GenSpecs | None) -> bool:
    """Explicit setting, else True for gest-api generator objects (their state then stays in
    the caller's object and needs no pickling), else False."""
    if gen_specs is None:
        return False
    if libE.gen_on_manager is not None:
        return libE.gen_on_manager
    return gen_specs.generator is not None


def libE(
    sim_specs: SimSpecs | dict,
    gen_specs: GenSpecs | dict | None,
    exit_criteria: ExitCriteria | dict,
    persis_info: dict | None = None,
    alloc_specs: AllocSpecs | dict | None = None,
    libE_specs: LibeSpecs | dict | None = None,
    H0: np.ndarray | None = None,
) -> Results:
    """Run an ensemble with libEnsemble's call signature.

    Returns ``(H, persis_info, exit_flag)``.
    """
    return Ensemble(
        sim_specs, gen_specs, exit_criteria, libE_specs, alloc_specs, persis_info, H0
    ).run()
