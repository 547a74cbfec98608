"""Resource sets: the job cut into equal slices that the manager lends to calculations.

With ``LibeSpecs.num_resource_sets`` the workers have no fixed share: each simulation asks
for a number of sets (the ``resource_sets`` field of its point, or its ``num_procs`` /
``num_gpus`` fields counted in sets) and runs on the team it is lent, which is given back
when its result arrives; generator calls are lent ``gen_num_procs`` / ``gen_num_gpus``
worth. A call waits while too few sets are free.

A set is a slice of one node (``num_resource_sets`` a multiple of the node count) or a
block of whole nodes (a divisor of it). A team smaller than a node's sets stays on one
node; a larger one takes the same slots on each of several nodes, split evenly, so one
GPU list serves every node of an MPI launch.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from libens.errors import ResourceError
from libens.resources.machine import Resources

Team = tuple[int, ...]  # set ids: group * sets_per_group + slot


class InsufficientFreeResources(Exception):
    """Too few resource sets are free now for a work order (libEnsemble's name):
    ``AllocSupport.sim_work`` raises it, and an allocation function stops giving work."""


class ResourceSets:
    """The job's sets, which of them are free, and what a team of them is."""

    def __init__(self, resources: Resources, num_sets: int) -> None:
        nodes = len(resources.nodes)
        if num_sets < 1:
            raise ResourceError(f"LibeSpecs.num_resource_sets={num_sets}; give 1 or more")
        if num_sets % nodes and nodes % num_sets:
            raise ResourceError(
                f"LibeSpecs.num_resource_sets={num_sets} does not split the job's {nodes} "
                "nodes evenly; give a multiple of the node count or a divisor of it"
            )
        self.resources = resources
        self.num_sets = num_sets
        per_node = max(1, num_sets // nodes)
        self.nodes_per_group = max(1, nodes // num_sets)
        self.slots = per_node  # sets per group (a group: one node, or a block of nodes)
        self.cores_per_set = max(1, resources.cores_per_node // per_node)
        self.gpus_per_set = len(resources.gpu_ids) // per_node
        groups = num_sets // per_node
        self.free: list[set[int]] = [set(range(per_node)) for _ in range(groups)]

    @property
    def procs_per_set(self) -> int:
        return self.cores_per_set * self.nodes_per_group

    def needed(self, H: np.ndarray, ids: np.ndarray) -> int:
        """Sets the points ``ids`` ask for together (the largest request among them):
        ``resource_sets``, else ``num_procs`` and ``num_gpus`` in sets, else 1."""
        names = H.dtype.names or ()
        if not len(ids):
            return 0
        if "resource_sets" in names:
            return int(H["resource_sets"][ids].max())
        procs = int(H["num_procs"][ids].max()) if "num_procs" in names else 0
        gpus = int(H["num_gpus"][ids].max()) if "num_gpus" in names else 0
        return max(1, self.sets_for(procs, gpus, "a point asks for "))

    def sets_for(self, procs: int, gpus: int, who: str) -> int:
        """Sets that hold ``procs`` processes (a core each) and ``gpus`` GPUs; ``who``
        starts the error's ``num_gpus=...`` (a field name's prefix, or words)."""
        if gpus and not self.gpus_per_set:
            raise ResourceError(
                f"{who}num_gpus={gpus}, but the {self.num_sets} resource sets have no "
                f"GPUs (the job has {len(self.resources.gpu_ids)}); give fewer "
                "LibeSpecs.num_resource_sets, or set LibeSpecs.resources with gpu_ids"
            )
        by_gpus = math.ceil(gpus / self.gpus_per_set) if gpus else 0
        return max(math.ceil(procs / self.procs_per_set), by_gpus)

    def check(self, k: int, who: str = "a point asks for") -> None:
        """Raise a ResourceError that says what fits if a team of ``k`` can never be lent."""
        if k < 0:
            raise ResourceError(f"{who} {k} resource sets; give 0 (none) or more")
        if k > self.num_sets or (k and k % math.ceil(k / self.slots)):
            raise ResourceError(
                f"{who} {k} resource sets; the job has {self.num_sets} "
                f"({self.slots} per node): ask for at most {self.slots}, or for a number that "
                f"splits evenly over whole nodes' worth (such as a multiple of {self.slots})"
            )

    def take(self, k: int) -> Team | None:
        """A team of ``k`` free sets, or None while too few are free. A request that can
        never be met is a ResourceError that says what fits. Costs O(nodes log nodes):
        small next to a calculation that needs a share of the job's nodes."""
        self.check(k)
        if k == 0:
            return ()
        groups = math.ceil(k / self.slots)
        per_group = k // groups
        for g, free in sorted(enumerate(self.free), key=lambda gf: len(gf[1])):
            if len(free) < per_group:
                continue
            slots = set(sorted(free)[:per_group])
            chosen = [g] + [h for h, f in enumerate(self.free) if h != g and slots <= f]
            if len(chosen) >= groups:
                team = []
                for h in sorted(chosen[:groups]):
                    self.free[h] -= slots
                    team += [h * self.slots + s for s in sorted(slots)]
                return tuple(team)
        return None

    def take_exactly(self, team: Team) -> bool:
        """Take the sets ``team`` names if every one is free (an allocation function's
        choice); False, and nothing taken, if not."""
        if any(
            not 0 <= r < self.num_sets or r % self.slots not in self.free[r // self.slots]
            for r in team
        ) or len(set(team)) < len(team):
            return False
        for r in team:
            self.free[r // self.slots].discard(r % self.slots)
        return True

    def release(self, team: Team) -> None:
        """Give a team's sets back."""
        for rset in team:
            self.free[rset // self.slots].add(rset % self.slots)

    def share(self, team: Team) -> Resources | None:
        """The nodes, cores and GPUs of a team (None for an empty one)."""
        if not team:
            return None
        res = self.resources
        groups = sorted({r // self.slots for r in team})
        slots = sorted({r % self.slots for r in team if r // self.slots == groups[0]})
        per = self.nodes_per_group
        nodes = tuple(n for g in groups for n in res.nodes[g * per : (g + 1) * per])
        g = self.gpus_per_set
        return replace(
            res,
            nodes=nodes,
            cores_per_node=self.cores_per_set * len(slots),
            gpu_ids=tuple(gpu for s in slots for gpu in res.gpu_ids[s * g : (s + 1) * g]),
        )


class Lending:
    """The manager's book of resource sets: which worker holds which team. Teams are lent
    in the order points are given out: once a point waits (``blocked``), no team is lent
    until one is given back, so smaller points after it cannot starve it."""

    def __init__(self, sets: ResourceSets, gen_sets: int = 0) -> None:
        sets.check(gen_sets, "LibeSpecs.gen_num_procs / gen_num_gpus ask for")
        self.sets = sets
        self.gen_sets = gen_sets  # lent to each generator call (gen_num_procs / gen_num_gpus)
        self.teams: dict[int, Team] = {}
        self.blocked = False
        self.reserved: set[int] = set()  # taken for orders an alloc_f is building

    def reserve(self, need: int) -> Team:
        """Take a team for an order an allocation function is building (libEnsemble's
        ``AllocSupport.sim_work``); InsufficientFreeResources while too few are free.
        The order names it (``rset_team``); what no order names comes back afterwards."""
        team = None if self.blocked else self.sets.take(need)
        if team is None:
            raise InsufficientFreeResources(f"{need} resource set(s) asked, too few free now")
        self.reserved.update(team)
        return team

    def unreserve(self) -> None:
        """The allocation function's orders are sent: give back what none of them named."""
        self.sets.release(tuple(self.reserved))
        self.reserved.clear()

    def lend(self, wid: int, need: int, chosen: Sequence[int] | None) -> Team | None:
        """Lend worker ``wid`` a team of ``need`` sets (or the sets an allocation function
        ``chosen``); None while the call must wait."""
        if self.blocked and chosen is None:
            return None
        if chosen is not None:
            team = tuple(int(r) for r in chosen)
            if self.reserved.issuperset(team):
                self.reserved.difference_update(team)
            elif not self.sets.take_exactly(team):
                raise ResourceError(
                    f"the allocation function lent worker {wid} resource sets {list(team)}, "
                    "which are not all free; leave rset_team out and the manager picks them"
                )
        else:
            taken = self.sets.take(need)
            if taken is None:
                self.blocked = True
                return None
            team = taken
        self.teams[wid] = team
        return team

    def give_back(self, wid: int) -> None:
        """Worker ``wid``'s simulation ended (or the worker was lost): its team is free."""
        team = self.teams.pop(wid, None)
        if team:
            self.sets.release(team)
            self.blocked = False
