"""Reading the job's nodes, cores and GPUs, and sharing them among workers."""

from __future__ import annotations

import socket

import pytest

from libens.cli import main
from libens.errors import ResourceError
from libens.resources import (
    Resources,
    assign,
    dedicated,
    detect,
    expand_hostlist,
    scheduler_nodes,
)


@pytest.mark.parametrize(
    "text, hosts",
    [
        ("node7", ["node7"]),
        ("nid[001-003,007],login1", ["nid001", "nid002", "nid003", "nid007", "login1"]),
        ("a[8-11]", ["a8", "a9", "a10", "a11"]),
        ("r[1-2]n[08-09]", ["r1n08", "r1n09", "r2n08", "r2n09"]),
        ("x[1],y[03-04]-ib", ["x1", "y03-ib", "y04-ib"]),
    ],
)
def test_expand_hostlist(text, hosts):
    assert expand_hostlist(text) == hosts


@pytest.mark.parametrize("text, says", [("nid[001-003", "unclosed"), ("nid[a-b]", "'a-b'")])
def test_bad_hostlist_names_the_problem(text, says):
    with pytest.raises(ResourceError, match=says):
        expand_hostlist(text)


def test_scheduler_nodes_from_slurm_pbs_lsf(tmp_path):
    assert scheduler_nodes({"SLURM_JOB_NODELIST": "c[1-2]"}) == ["c1", "c2"]
    node_file = tmp_path / "nodes"
    node_file.write_text("b2\nb2\nb1\nb1\n\n")
    assert scheduler_nodes({"PBS_NODEFILE": str(node_file)}) == ["b2", "b1"]
    assert scheduler_nodes({"LSB_MCPU_HOSTS": "h1 42 h2 42"}) == ["h1", "h2"]
    assert scheduler_nodes({}) is None


def test_unreadable_pbs_nodefile_says_which(tmp_path):
    with pytest.raises(ResourceError, match="PBS_NODEFILE names .*missing"):
        scheduler_nodes({"PBS_NODEFILE": str(tmp_path / "missing")})


def test_detect_reads_scheduler_and_gpus(tmp_path):
    for name in ("nvidia0", "nvidia1", "nvidiactl", "null"):
        (tmp_path / name).touch()
    job = detect({"SLURM_JOB_NODELIST": "g[01-02]"}, dev=tmp_path)
    assert job.nodes == ("g01", "g02") and not job.local
    assert job.cores_per_node >= 1
    assert job.gpu_ids == ("0", "1") and job.gpu_env_var == "CUDA_VISIBLE_DEVICES"
    visible = detect({"ROCR_VISIBLE_DEVICES": "2,3"}, dev=tmp_path)
    assert visible.gpu_ids == ("2", "3") and visible.gpu_env_var == "ROCR_VISIBLE_DEVICES"
    assert visible.local and len(visible.nodes) == 1
    assert detect({"SLURM_GPUS_ON_NODE": "4"}, dev=tmp_path / "none").gpu_ids == (
        "0",
        "1",
        "2",
        "3",
    )
    assert detect({}, dev=tmp_path / "none").gpu_ids == ()


def test_fewer_workers_than_nodes_get_whole_nodes():
    job = Resources(nodes=("n1", "n2", "n3", "n4", "n5"), cores_per_node=16)
    shares = assign(job, [1, 2])
    assert shares[1].nodes == ("n1", "n2") and shares[2].nodes == ("n3", "n4")
    assert shares[1].cores_per_node == 16


def test_more_workers_than_nodes_share_cores_and_gpus():
    job = Resources(nodes=("n1", "n2"), cores_per_node=8, gpu_ids=("0", "1", "2", "3"))
    shares = assign(job, [4, 1, 2, 3], zero_resource_workers=[1])
    assert sorted(shares) == [2, 3, 4]
    assert [shares[w].nodes for w in (2, 3, 4)] == [("n1",), ("n1",), ("n2",)]
    assert {s.cores_per_node for s in shares.values()} == {4}
    assert [shares[w].gpu_ids for w in (2, 3, 4)] == [("0", "1"), ("2", "3"), ("0", "1")]


def test_resources_reject_empty_nodes_and_cores():
    with pytest.raises(ResourceError, match="nodes is empty"):
        Resources(nodes=(), cores_per_node=4)
    with pytest.raises(ResourceError, match="cores_per_node is 0"):
        Resources(nodes=("a",), cores_per_node=0)


def test_resources_command_shows_the_job_its_sets_and_the_shares(monkeypatch, capsys):
    monkeypatch.setenv("SLURM_JOB_NODELIST", "nid[001-002]")
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0,1,2,3")
    assert (
        main(["resources", "--workers", "3", "--sets", "4", "--zero-resource-workers", "1"]) == 0
    )
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("job: 2 node(s) (nid001, nid002), ")
    assert lines[0].endswith("GPUs 0,1,2,3 (CUDA_VISIBLE_DEVICES)")
    assert lines[1].endswith("x 1 node(s) and 2 GPU(s) each (2 per node)")
    assert lines[2] == "worker 1: no resources"
    assert lines[3].startswith("worker 2: 1 node(s) (nid001)") and lines[3].endswith(
        "GPUs 0,1,2,3 (CUDA_VISIBLE_DEVICES)"
    )
    assert lines[4].startswith("worker 3: 1 node(s) (nid002)")


def test_dedicated_mode_leaves_out_the_ensembles_node():
    job = Resources(nodes=("a", "b", "c"), cores_per_node=4)
    assert dedicated(job, "a.cluster.org").nodes == ("b", "c")
    assert dedicated(job, "login1") is job  # the run started off the job's nodes
    with pytest.raises(ResourceError, match="dedicated_mode=True leaves no node"):
        dedicated(Resources(nodes=("a",), cores_per_node=4), "a")


def test_resources_command_in_dedicated_mode_leaves_this_node_out(monkeypatch, capsys):
    monkeypatch.setenv("SLURM_JOB_NODELIST", f"{socket.gethostname()},n2")
    assert main(["resources", "--dedicated"]) == 0
    assert capsys.readouterr().out.startswith("job: 1 node(s) (n2), ")
