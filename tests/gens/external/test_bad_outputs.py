"""Every way an external program can misbehave gives an error naming the program, the
parameter and the value; failures are retried, then end the run with finished work kept."""

from __future__ import annotations

import json
import os
import textwrap
from pathlib import Path

import numpy as np
import psutil
import pytest

from libens import VOCS, Ensemble, ExitCriteria, GeneratorError, GenSpecs, LibeSpecs, SimSpecs
from libens.gens.external import ExternalGenerator, ExternalGeneratorError

VOCS1 = VOCS(
    variables={
        "x": {"type": "ContinuousVariable", "domain": [1, 10], "dtype": "int"},
        "y": [0.0, 1.0],
        "c": {"a", "b"},
    },
    constants={"z": 7},
    objectives={"f": "MINIMIZE"},
)
GOOD = {"x": 3, "y": 0.5, "c": "a", "z": 7}


def program(tmp_path: Path, body: str) -> list[str]:
    """A sh program; ``$1`` is its directory."""
    path = tmp_path / "prog.sh"
    path.write_text("#!/bin/sh\n" + textwrap.dedent(body))
    return ["sh", str(path)]


def writes(tmp_path: Path, content: str) -> list[str]:
    (tmp_path / "out.txt").write_text(content)
    return program(tmp_path, f'cp "{tmp_path}/out.txt" "$1/results.json"\n')


def gen_for(cmd, **kw):
    return ExternalGenerator(VOCS1, cmd, constraints=["y <= x - 2"], retries=0, **kw)


@pytest.mark.parametrize(
    "params, match",
    [
        ({k: v for k, v in GOOD.items() if k != "y"}, "did not return parameter 'y'"),
        ({**GOOD, "w": 1}, r"unknown parameter\(s\) \['w'\]"),
        ({**GOOD, "x": "three"}, "x='three', which is not of type INT"),
        ({**GOOD, "x": 2.5}, "x=2.5, which is not of type INT"),
        ({**GOOD, "x": 11}, r"x=11, outside its range \[1, 10\]"),
        ({**GOOD, "c": "q"}, r"c='q', not one of its choices \['a', 'b'\]"),
        ({**GOOD, "z": 8}, "z=8, but it is fixed at 7"),
        ({**GOOD, "x": 2, "y": 0.5}, "violates the constraint 'y <= x - 2'"),
    ],
)
def test_invalid_points(tmp_path, params, match):
    gen = gen_for(writes(tmp_path, json.dumps({"parameters": params})))
    with pytest.raises(ExternalGeneratorError, match=match) as info:
        gen.suggest(1)
    assert "prog.sh" in str(info.value)


def test_values_as_strings_are_converted_and_missing_fixed_filled(tmp_path):
    gen = gen_for(writes(tmp_path, json.dumps({"parameters": {"x": "4", "y": "0.25", "c": "b"}})))
    assert gen.suggest(1) == [{"x": 4, "y": 0.25, "c": "b", "z": 7}]


@pytest.mark.parametrize(
    "body, match",
    [
        ('echo "{not json" > "$1/results.json"\n', "invalid JSON"),
        ("true\n", "wrote no results.json"),
        (
            'echo "ValueError: model exploded" >&2\nexit 3\n',
            "(?s)exited with code 3.*model exploded",
        ),
        ('echo \'{"params": {}}\' > "$1/results.json"\n', "must be"),
    ],
)
def test_program_failures(tmp_path, body, match):
    with pytest.raises(ExternalGeneratorError, match=match):
        gen_for(program(tmp_path, body)).suggest(1)


def test_timeout_kills_the_program_and_its_children(tmp_path):
    body = f'sleep 60 &\necho $! > "{tmp_path}/child.pid"\nsleep 60\n'
    gen = gen_for(program(tmp_path, body), timeout=1.0)
    with pytest.raises(ExternalGeneratorError, match="longer than its timeout of 1.0 s"):
        gen.suggest(1)
    child = int((tmp_path / "child.pid").read_text())
    assert not psutil.pid_exists(child) or psutil.Process(child).status() == "zombie"


def test_retries_then_succeeds(tmp_path, caplog):
    body = f'''
    if [ ! -f "{tmp_path}/tried" ]; then touch "{tmp_path}/tried"; exit 1; fi
    echo '{json.dumps({"parameters": GOOD})}' > "$1/results.json"
    '''
    gen = ExternalGenerator(VOCS1, program(tmp_path, body), retries=1)
    assert gen.suggest(1) == [GOOD]
    assert "retrying" in caplog.text


def test_directories_removed_unless_kept_and_env_and_cwd_controlled(tmp_path):
    body = f'''
    echo "$1" >> "{tmp_path}/dirs"
    pwd > "{tmp_path}/cwd"
    echo '{{"parameters": {{"x": '$MY_X', "y": 0.5, "c": "a"}}}}' > "$1/results.json"
    '''
    cmd = program(tmp_path, body)
    gen = ExternalGenerator(
        VOCS1, cmd, env={"MY_X": "5", "PATH": os.environ["PATH"]}, cwd=str(tmp_path)
    )
    assert gen.suggest(1)[0]["x"] == 5
    assert (tmp_path / "cwd").read_text().strip() == str(tmp_path)
    assert not Path((tmp_path / "dirs").read_text().split()[0]).exists()
    ExternalGenerator(
        VOCS1, cmd, env={"MY_X": "6", "PATH": os.environ["PATH"]}, keep_dirs=True
    ).suggest(1)
    kept = Path((tmp_path / "dirs").read_text().split()[1])
    assert (kept / "input.json").exists() and (kept / "results.json").exists()


def test_shell_only_when_asked(tmp_path):
    (tmp_path / "out.txt").write_text(json.dumps({"parameters": GOOD}))
    line = f'put() {{ cp {tmp_path}/out.txt "$1/results.json"; }}; put'  # needs a shell
    gen = ExternalGenerator(VOCS1, f"sh -c 'cp {tmp_path}/out.txt \"$0/results.json\"'")
    assert gen.suggest(1) == [GOOD]  # a string is split like a shell would, no shell run
    gen = ExternalGenerator(VOCS1, line, shell=True)
    assert gen.suggest(1) == [GOOD]  # with shell=True the directory is appended


def sphere(p: dict) -> dict:
    return {"f": p["x"] + p["y"]}


def test_a_failing_program_ends_the_run_and_keeps_finished_work(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    body = f'''
    n=$(cat "{tmp_path}/n" 2>/dev/null || echo 0); echo $((n+1)) > "{tmp_path}/n"
    if [ "$n" -ge 4 ]; then echo "out of ideas" >&2; exit 2; fi
    echo '{{"parameters": {{"x": '$((n+3))', "y": 0.5, "c": "a"}}}}' > "$1/results.json"
    '''
    gen = ExternalGenerator(VOCS1, program(tmp_path, body), retries=1)
    with pytest.raises(GeneratorError, match="(?s)ExternalGenerator.suggest.*out of ideas"):
        Ensemble(
            sim_specs=SimSpecs(simulator=sphere, vocs=VOCS1),
            gen_specs=GenSpecs(generator=gen, vocs=VOCS1, batch_size=1),
            exit_criteria=ExitCriteria(sim_max=20),
            libE_specs=LibeSpecs(comms="threads", nworkers=1),
        ).run()
    H = np.load(tmp_path / "libE_history_at_abort.npy")
    assert H["sim_ended"].sum() == 4 and sorted(H["x"].tolist()) == [3, 4, 5, 6]
