"""Calculation directories: every call in a directory of its own, started from the inputs."""

from __future__ import annotations

import numpy as np
import pytest
import userfuncs as uf

from libens import ExitCriteria, GenSpecs, LibeSpecs, SimSpecs, libE
from libens.errors import SpecError

SIM = SimSpecs(sim_f=uf.where_sim, inputs=["x"], outputs=[("dir", "U40"), ("found", "U40")])
GEN = GenSpecs(gen_f=uf.batch_gen, outputs=[("x", float, 2)], user={"gen_batch_size": 3})


def specs(comms="local", **kw):
    return LibeSpecs(comms=comms, nworkers=2, disable_log_files=True, **kw)


@pytest.fixture
def inputs(tmp_path):
    (tmp_path / "template").mkdir()
    (tmp_path / "template" / "params.in").write_text("n = 3\n")
    (tmp_path / "data.txt").write_text("1 2 3\n")
    (tmp_path / "mesh.dat").write_text("big\n")
    return {
        "sim_input_dir": tmp_path / "template",
        "sim_dir_copy_files": [tmp_path / "data.txt"],
        "sim_dir_symlink_files": [tmp_path / "mesh.dat"],
    }


@pytest.mark.parametrize("comms", ["local", "tcp"])
def test_each_simulation_runs_in_its_own_directory(comms, inputs, tmp_path):
    H, _, flag = libE(SIM, GEN, ExitCriteria(sim_max=6), libE_specs=specs(comms, **inputs))
    done = H[H["sim_ended"]]
    assert flag == 0 and len(done) >= 6
    assert done["dir"].tolist() == [f"ensemble/sim{i:04d}" for i in done["sim_id"]]
    assert set(done["found"]) == {"params.in,data.txt,mesh.dat"}
    for i in done["sim_id"]:
        where = tmp_path / "ensemble" / f"sim{i:04d}"
        assert (where / "out.txt").read_text() == str(i)
        assert (where / "params.in").read_text() == "n = 3\n"
        assert not (where / "data.txt").is_symlink() and (where / "mesh.dat").is_symlink()
    assert not (tmp_path / "out.txt").exists()  # the worker went back to where it started


def test_worker_dirs_and_generator_dirs(tmp_path):
    _, _, flag = libE(
        SIM,
        GEN,
        ExitCriteria(sim_max=6),
        libE_specs=specs(
            sim_dirs_make=True,
            gen_dirs_make=True,
            use_worker_dirs=True,
            ensemble_dir_path=tmp_path / "runs",
            calc_dir_id_width=2,
        ),
    )
    assert flag == 0
    made = {p.relative_to(tmp_path / "runs").as_posix() for p in (tmp_path / "runs").glob("*/*")}
    sims = {m for m in made if "/sim" in m}
    gens = {m for m in made if "/gen" in m}
    assert len(sims) >= 6 and all(m.split("/")[0] in ("worker1", "worker2") for m in made)
    assert gens and all(m.split("/")[1].startswith("gen0") for m in gens)
    assert all(len(m.split("/sim")[1]) == 2 for m in sims)


def test_existing_ensemble_dir_is_kept_unless_reused(tmp_path):
    libE(SIM, GEN, ExitCriteria(sim_max=2), libE_specs=specs(sim_dirs_make=True))
    before = sorted(p.name for p in (tmp_path / "ensemble").iterdir())
    with pytest.raises(
        SpecError, match=r"'ensemble' \(LibeSpecs.ensemble_dir_path\) already holds.*reuse_output"
    ):
        libE(SIM, GEN, ExitCriteria(sim_max=2), libE_specs=specs(sim_dirs_make=True))
    assert sorted(p.name for p in (tmp_path / "ensemble").iterdir()) == before
    H, _, _ = libE(
        SIM,
        GEN,
        ExitCriteria(sim_max=2),
        libE_specs=specs(sim_dirs_make=True, reuse_output_dir=True),
    )
    assert np.all(H["dir"][H["sim_ended"]] != "")


def test_resumed_run_adds_to_its_calc_dirs(tmp_path):
    for budget in (2, 4):
        libE(
            SIM,
            GEN,
            ExitCriteria(sim_max=budget),
            libE_specs=specs(sim_dirs_make=True, run_dir=tmp_path / "run"),
        )
    made = sorted(p.name for p in (tmp_path / "ensemble").iterdir())
    assert len(made) >= 6 and made[:6] == [f"sim{i:04d}" for i in range(6)]


def test_calc_dirs_need_processes_and_a_generator_on_a_worker(tmp_path):
    with pytest.raises(SpecError, match="sim_dirs_make .*needs worker processes"):
        libE(SIM, GEN, ExitCriteria(sim_max=2), libE_specs=specs("threads", sim_dirs_make=True))
    with pytest.raises(SpecError, match="gen_dirs_make .*set gen_on_manager=False"):
        libE(
            SIM,
            GEN,
            ExitCriteria(sim_max=2),
            libE_specs=specs(gen_dirs_make=True, gen_on_manager=True),
        )
    with pytest.raises(SpecError, match="LibeSpecs.sim_input_dir: not a directory"):
        specs(sim_input_dir=tmp_path / "nope")
    assert not (tmp_path / "ensemble").exists()


@pytest.mark.parametrize("comms, worker_dirs", [("local", False), ("tcp", True)])
def test_copy_back_brings_the_directories_home(tmp_path, comms, worker_dirs):
    scratch = tmp_path / "scratch" / "ens"  # node-local storage, in a real job
    H, _, _ = libE(
        SIM,
        GEN,
        ExitCriteria(sim_max=6),
        libE_specs=specs(
            comms,
            sim_dirs_make=True,
            ensemble_dir_path=scratch,
            use_worker_dirs=worker_dirs,
            ensemble_copy_back=True,
        ),
    )
    back = tmp_path / "ens_back"
    copies = sorted(p.relative_to(back) for p in back.rglob("out.txt"))
    assert copies == sorted(p.relative_to(scratch) for p in scratch.rglob("out.txt"))
    assert len(copies) == H["sim_ended"].sum() >= 6
    assert all((back / c).read_text() == (scratch / c).read_text() for c in copies)
    assert all(c.parts[0].startswith("worker") == worker_dirs for c in copies)


def test_copy_back_needs_calc_dirs_and_a_fresh_target(tmp_path):
    with pytest.raises(SpecError, match="ensemble_copy_back=True .*makes none"):
        libE(SIM, GEN, ExitCriteria(sim_max=2), libE_specs=specs(ensemble_copy_back=True))
    (tmp_path / "ensemble_back").mkdir()
    (tmp_path / "ensemble_back" / "sim0000").mkdir()
    with pytest.raises(SpecError, match=r"\(LibeSpecs.ensemble_copy_back\) already holds"):
        libE(
            SIM,
            GEN,
            ExitCriteria(sim_max=2),
            libE_specs=specs(sim_dirs_make=True, ensemble_copy_back=True),
        )
    assert not (tmp_path / "ensemble").exists()
