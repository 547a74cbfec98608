"""The Ensemble object as libEnsemble 1.x scripts use it: specs assigned as attributes,
the command line read, random streams added, results kept and saved."""

from __future__ import annotations

import json
import pickle
import sys
import tomllib

import numpy as np
import pytest
import userfuncs as uf

from libens import Ensemble, ExitCriteria, GenSpecs, LibeSpecs, SimSpecs
from libens.errors import SpecError

GEN = {"gen_f": uf.batch_gen, "out": [("x", float, 2)], "user": {"gen_batch_size": 4}}


@pytest.fixture
def command_line(monkeypatch):
    monkeypatch.setattr(sys, "argv", ["my_study.py", "--comms", "threads", "-n", "3", "--x=1"])


def test_specs_assigned_after_parse_args_keep_the_command_line(command_line):
    ens = Ensemble(parse_args=True)
    assert (ens.nworkers, ens.is_manager, ens.extra_args) == (3, True, {"extra": ["--x=1"]})
    ens.libE_specs = LibeSpecs(disable_log_files=True, save_H_on_completion=False)
    assert (ens.libE_specs.comms, ens.libE_specs.nworkers) == ("threads", 3)
    ens.libE_specs = {"nworkers": 2, "disable_log_files": True}  # what the code sets wins
    assert (ens.libE_specs.comms, ens.libE_specs.nworkers) == ("threads", 2)


def test_object_style_run_keeps_and_saves_its_results(command_line, tmp_path):
    ens = Ensemble(parse_args=True)
    ens.libE_specs = LibeSpecs(disable_log_files=True, save_H_on_completion=False)
    assert not ens.ready()
    ens.sim_specs = {"sim_f": uf.sphere, "in": ["x"], "out": [("f", float)]}
    ens.gen_specs = GEN
    ens.exit_criteria = {"sim_max": 12}
    assert ens.ready() and isinstance(ens.gen_specs, GenSpecs)
    streams = ens.add_random_streams()
    assert sorted(streams) == [0, 1, 2, 3] and ens.persis_info is streams
    H, persis_info, flag = ens.run()
    assert ens.H is H and ens.persis_info is persis_info and ens.flag == flag == 0
    assert H["sim_ended"].sum() >= 12
    path = ens.save_output("/somewhere/else/my_study.py")
    evals = int(H["sim_ended"].sum())
    stem = f"length={len(H)}_evals={evals}_workers=3"
    assert path == f"my_study_history_{stem}.npy"
    assert np.array_equal(np.load(tmp_path / f"my_study_history_{stem}.npy"), H)
    with open(tmp_path / f"my_study_persis_info_{stem}.pickle", "rb") as f:
        assert sorted(k for k in pickle.load(f) if isinstance(k, int)) == [0, 1, 2, 3]
    ens.save_output("my_study", append_attrs=False)
    assert (tmp_path / "my_study.npy").exists() and (tmp_path / "my_study.pickle").exists()


def test_a_misspelled_field_fails_where_it_is_assigned():
    ens = Ensemble(sim_specs=SimSpecs(sim_f=uf.sphere, inputs=["x"], outputs=[("f", float)]))
    with pytest.raises(SpecError, match="sim_maxx.*sim_max"):
        ens.exit_criteria = {"sim_maxx": 5}
    assert ens.exit_criteria == ExitCriteria()


def test_run_without_sim_specs_says_what_is_missing():
    with pytest.raises(SpecError, match="Ensemble needs sim_specs"):
        Ensemble(libE_specs={"comms": "threads", "nworkers": 1}).run()


SPEC_TOML = """
[libE_specs]
disable_log_files = true
save_H_on_completion = false

[exit_criteria]
gen_max = 100

[sim_specs]
sim_f = "libens.sims.norm_squared"
in = ["x"]
[sim_specs.outputs.f]
type = "float"

[gen_specs]
gen_f = "libens.gens.sampling.latin_hypercube_sample"
[gen_specs.outputs.x]
type = "float"
size = 2
[gen_specs.user]
gen_batch_size = 20
lb = [-1.0, -1.0]
ub = [1.0, 1.0]
"""


def toml_to_json(text: str) -> str:
    return json.dumps(tomllib.loads(text))


@pytest.mark.parametrize("suffix", [".toml", ".json"])
def test_specs_from_a_file_in_libensembles_layout(command_line, tmp_path, suffix):
    path = tmp_path / f"study{suffix}"
    path.write_text(SPEC_TOML if suffix == ".toml" else toml_to_json(SPEC_TOML))
    ens = Ensemble(parse_args=True)
    ens.exit_criteria = {"sim_max": 25}
    getattr(ens, f"from_{suffix[1:]}")(path)
    assert ens.libE_specs.comms == "threads" and ens.libE_specs.disable_log_files
    assert ens.exit_criteria.sim_max == 25 and ens.exit_criteria.gen_max == 100
    assert ens.sim_specs.inputs == ["x"] and ens.sim_specs.outputs == [("f", float)]
    assert ens.gen_specs.outputs == [("x", float, (2,))]
    ens.add_random_streams()
    H, _, flag = ens.run()
    done = H[H["sim_ended"]]
    assert flag == 0 and len(done) >= 25
    assert np.allclose(done["f"], (done["x"] ** 2).sum(axis=1))


@pytest.mark.parametrize(
    "text, says",
    [
        ('[sim_specs]\nsim_f = "libens.sims.nope"', "sim_specs.sim_f = 'libens.sims.nope' cannot"),
        ("[sim_spec]\ninputs = []", "unknown section 'sim_spec'"),
        ("[sim_specs.outputs.f]\nsize = 2", "sim_specs.outputs.f needs a type"),
    ],
)
def test_a_bad_spec_file_names_the_place(tmp_path, text, says):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(SpecError, match=says):
        Ensemble().from_toml(path)


def test_nworkers_follows_the_specs_when_the_command_line_is_not_read():
    ens = Ensemble()
    ens.libE_specs = {"comms": "threads", "nworkers": 3}
    assert ens.nworkers == 3 and sorted(ens.add_random_streams()) == [0, 1, 2, 3]


def test_nworkers_can_be_set_as_in_libensemble():
    ens = Ensemble(libE_specs={"comms": "threads"})
    ens.nworkers = 2
    assert ens.nworkers == 2 and ens.libE_specs.nworkers == 2
