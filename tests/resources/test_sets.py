"""Resource sets: cutting the job into sets, lending teams of them, giving them back."""

from __future__ import annotations

import numpy as np
import pytest

from libens.errors import ResourceError
from libens.resources import Resources, ResourceSets
from libens.resources.sets import Lending

ONE_NODE = Resources(nodes=("n0",), cores_per_node=8, gpu_ids=("0", "1", "2", "3"))
TWO_NODES = Resources(nodes=("n0", "n1"), cores_per_node=8, gpu_ids=("0", "1", "2", "3"))


def test_sets_of_one_node_split_its_cores_and_gpus():
    sets = ResourceSets(ONE_NODE, 4)
    team = sets.take(2)
    assert team == (0, 1)
    share = sets.share(team)
    assert share.nodes == ("n0",) and share.cores_per_node == 4
    assert share.gpu_ids == ("0", "1")
    assert sets.share(sets.take(1)).gpu_ids == ("2",)


def test_a_team_waits_until_enough_sets_are_given_back():
    sets = ResourceSets(ONE_NODE, 4)
    first, second = sets.take(3), sets.take(1)
    assert first == (0, 1, 2) and second == (3,)
    assert sets.take(1) is None
    sets.release(second)
    assert sets.take(2) is None
    sets.release(first)
    assert sets.take(4) == (0, 1, 2, 3)


def test_small_teams_fill_the_fullest_node_that_fits():
    sets = ResourceSets(TWO_NODES, 4)  # 2 sets per node: 0, 1 on n0; 2, 3 on n1
    assert sets.take(1) == (0,)
    assert sets.take(1) == (1,)  # n0 again: n1 stays whole for a two-set team
    assert sets.share(sets.take(2)).nodes == ("n1",)


def test_a_team_larger_than_a_node_takes_the_same_slots_on_several_nodes():
    sets = ResourceSets(TWO_NODES, 4)
    team = sets.take(4)
    assert team == (0, 1, 2, 3)
    share = sets.share(team)
    assert share.nodes == ("n0", "n1") and share.cores_per_node == 8
    assert share.gpu_ids == ("0", "1", "2", "3")
    sets.release(team)
    sets.take(1)  # slot 0 of n0 busy: no two nodes share a free slot 0
    assert sets.take(2) == (2, 3)
    sets.release((2, 3))
    assert sets.take(2) == (2, 3)  # one node's two sets, not one set on each node


def test_fewer_sets_than_nodes_are_blocks_of_whole_nodes():
    four = Resources(nodes=("a", "b", "c", "d"), cores_per_node=16)
    sets = ResourceSets(four, 2)
    assert sets.procs_per_set == 32
    share = sets.share(sets.take(1))
    assert share.nodes == ("a", "b") and share.cores_per_node == 16
    assert sets.share(sets.take(1)).nodes == ("c", "d")


def test_an_empty_team_has_no_resources():
    sets = ResourceSets(ONE_NODE, 4)
    assert sets.take(0) == () and sets.share(()) is None


@pytest.mark.parametrize(
    "resources, num, says",
    [
        (TWO_NODES, 3, "num_resource_sets=3 does not split the job's 2 nodes evenly"),
        (ONE_NODE, 0, "num_resource_sets=0; give 1 or more"),
    ],
)
def test_sets_that_do_not_divide_the_job_are_refused(resources, num, says):
    with pytest.raises(ResourceError, match=says):
        ResourceSets(resources, num)


@pytest.mark.parametrize(
    "k, says", [(5, "the job has 4"), (3, "splits evenly"), (-1, "give 0 .none. or more")]
)
def test_a_team_that_can_never_fit_says_what_does(k, says):
    sets = ResourceSets(TWO_NODES, 4)
    with pytest.raises(ResourceError, match=f"asks for {k} resource sets.*{says}"):
        sets.take(k)


def test_needed_reads_resource_sets_else_procs_and_gpus():
    sets = ResourceSets(ONE_NODE, 4)  # 2 cores and 1 GPU per set
    H = np.zeros(3, dtype=[("resource_sets", int)])
    H["resource_sets"] = [1, 3, 0]
    assert sets.needed(H, np.array([0, 1])) == 3
    assert sets.needed(H, np.array([2])) == 0
    H = np.zeros(3, dtype=[("num_procs", int), ("num_gpus", int)])
    H["num_procs"] = [1, 5, 2]
    H["num_gpus"] = [0, 1, 3]
    assert sets.needed(H, np.array([0])) == 1
    assert sets.needed(H, np.array([1])) == 3  # 5 processes at 2 cores a set
    assert sets.needed(H, np.array([2])) == 3  # 3 GPUs at 1 a set
    assert sets.needed(np.zeros(1, dtype=[("x", float)]), np.array([0])) == 1


def test_gpus_asked_of_sets_without_gpus_are_an_error():
    sets = ResourceSets(Resources(nodes=("n0",), cores_per_node=8), 4)
    H = np.ones(1, dtype=[("num_gpus", int)])
    with pytest.raises(ResourceError, match="num_gpus=1.*no GPUs"):
        sets.needed(H, np.array([0]))


def test_take_exactly_takes_only_free_sets():
    sets = ResourceSets(ONE_NODE, 4)
    assert sets.take_exactly((1, 2))
    assert not sets.take_exactly((2, 3)) and not sets.take_exactly((3, 3))
    assert not sets.take_exactly((4,))
    assert sets.take(2) == (0, 3)


def test_generator_sets_that_can_never_fit_are_refused_at_the_start():
    with pytest.raises(ResourceError, match="gen_num_procs / gen_num_gpus ask for 5 .*has 4"):
        Lending(ResourceSets(ONE_NODE, 4), gen_sets=5)


def test_a_waiting_call_holds_back_the_next_until_a_team_comes_back():
    book = Lending(ResourceSets(ONE_NODE, 4))
    assert book.lend(1, 3, None) == (0, 1, 2)
    assert book.lend(2, 2, None) is None  # waits: 1 set free
    assert book.lend(3, 1, None) is None  # held back, though 1 set is free
    book.give_back(1)
    assert book.lend(2, 2, None) == (0, 1) and book.lend(3, 1, None) == (2,)
    with pytest.raises(ResourceError, match=r"sets \[2, 3\], which are not all free"):
        book.lend(4, 0, [2, 3])
