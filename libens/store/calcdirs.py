"""Calculation directories: each sim (or gen) call runs in a directory of its own under
``LibeSpecs.ensemble_dir_path`` (libEnsemble's names: ``sim0042``, or
``worker2/sim0042`` with ``use_worker_dirs``), started from an input directory and listed
files, so applications it launches find their inputs and leave their outputs apart."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from libens.messages import EVAL_GEN_TAG, EVAL_SIM_TAG
from libens.specs import LibeSpecs
from libens.userfuncs import UserFunction

KINDS = {EVAL_SIM_TAG: "sim", EVAL_GEN_TAG: "gen"}


@dataclass(frozen=True)
class CalcDirLayout:
    """Where one kind of call ("sim" or "gen") works, and what its directory starts with
    (the LibeSpecs fields a worker needs, sent with its setup)."""

    kind: str
    ensemble_dir: Path
    use_worker_dirs: bool
    width: int
    input_dir: Path | None
    copy_files: tuple[Path, ...]
    link_files: tuple[Path, ...]
    copy_back: Path | None = None

    @classmethod
    def of(cls, libE: LibeSpecs) -> dict[int, CalcDirLayout]:
        """The layouts of the kinds of call the specs give directories, by work tag."""
        return {
            tag: cls(
                kind,
                libE.ensemble_dir_path,
                libE.use_worker_dirs,
                libE.calc_dir_id_width,
                getattr(libE, f"{kind}_input_dir"),
                tuple(getattr(libE, f"{kind}_dir_copy_files")),
                tuple(getattr(libE, f"{kind}_dir_symlink_files")),
                libE.copy_back_dir,
            )
            for tag, kind in KINDS.items()
            if libE.calc_dirs(kind)
        }


class CalcDirs:
    """Makes and enters one worker's directories for one kind of call."""

    def __init__(self, layout: CalcDirLayout, worker_id: int) -> None:
        base = layout.ensemble_dir.resolve()  # against the worker's starting directory
        self.base = base
        self.root = base / f"worker{worker_id}" if layout.use_worker_dirs else base
        back = layout.copy_back
        self.copy_back_to = back.resolve() if back is not None else None
        self.made: dict[Path, None] = {}  # the directories to copy back, in order
        self.layout = layout
        # gen calls are counted per worker: without worker dirs the name says whose
        self.suffix = "" if layout.use_worker_dirs or layout.kind == "sim" else f"_w{worker_id}"
        self.calls = 0

    def name(self, sim_ids: Any) -> str:
        """A sim call's directory is named by its first point, a gen call's by its count."""
        kind = self.layout.kind
        number = int(sim_ids[0]) if kind == "sim" and len(sim_ids) else self.calls
        return f"{kind}{number:0{self.layout.width}d}{self.suffix}"

    @contextmanager
    def entered(self, sim_ids: Any) -> Iterator[Path]:
        """Make the call's directory (again, for a point run twice), fill it, work in it."""
        layout = self.layout
        where = self.root / self.name(sim_ids)
        self.calls += 1
        if layout.input_dir is not None:
            shutil.copytree(layout.input_dir, where, symlinks=True, dirs_exist_ok=True)
        where.mkdir(parents=True, exist_ok=True)
        for source in layout.copy_files:
            if source.is_dir():
                shutil.copytree(source, where / source.name, dirs_exist_ok=True)
            else:
                shutil.copy2(source, where / source.name)
        for source in layout.link_files:
            link = where / source.name
            if not link.is_symlink():
                link.symlink_to(source)
        if self.copy_back_to is not None:
            self.made[where] = None
        back = os.getcwd()
        os.chdir(where)
        try:
            yield where
        finally:
            os.chdir(back)

    def copy_back(self) -> None:
        """Copy this worker's directories to ``copy_back_to`` (same layout), for an
        ensemble directory on storage that does not outlive the job (node-local disks)."""
        target = self.copy_back_to
        if target is None:
            return
        for made in self.made:
            shutil.copytree(
                made, target / made.relative_to(self.base), symlinks=True, dirs_exist_ok=True
            )
        self.made.clear()


class InCalcDir(UserFunction):
    """A user function (same state, same checks) whose every call runs in its own
    calculation directory."""

    def __init__(self, func: UserFunction, dirs: CalcDirs) -> None:
        self.__dict__.update(func.__dict__)
        self.dirs = dirs

    def __call__(
        self, H: Any, persis_info: Any, specs: Any, libE_info: Any
    ) -> tuple[Any, Any, int]:
        with self.dirs.entered(libE_info["H_rows"]):
            return super().__call__(H, persis_info, specs, libE_info)


def in_calc_dirs(
    funcs: dict[int, UserFunction], layouts: dict[int, CalcDirLayout], worker_id: int
) -> list[CalcDirs]:
    """Wrap the worker's functions whose calls get directories of their own; returns the
    directories' keepers (to copy back at the end)."""
    kept = []
    for tag, layout in layouts.items():
        if tag in funcs:
            dirs = CalcDirs(layout, worker_id)
            funcs[tag] = InCalcDir(funcs[tag], dirs)
            kept.append(dirs)
    return kept
