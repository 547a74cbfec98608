"""Which nodes a batch job holds, read from its scheduler's environment (Slurm, PBS, LSF)."""

from __future__ import annotations

import re
from collections.abc import Mapping

from libens.errors import ResourceError

_RANGE = re.compile(r"^(\d+)(?:-(\d+))?$")


def expand_hostlist(text: str) -> list[str]:
    """Slurm's compressed host list as names, in order: ``"nid[001-003,007],login1"`` is
    nid001, nid002, nid003, nid007, login1 (zero padding is kept; brackets may repeat)."""
    hosts: list[str] = []
    for item in _split_top_level(text.strip()):
        hosts.extend(_expand_item(item, text))
    return hosts


def _split_top_level(text: str) -> list[str]:
    """Split at the commas outside brackets."""
    items, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
        elif ch == "," and depth == 0:
            items.append(text[start:i])
            start = i + 1
    items.append(text[start:])
    return [item for item in items if item]


def _expand_item(item: str, whole: str) -> list[str]:
    open_at = item.find("[")
    if open_at < 0:
        return [item]
    close_at = item.find("]", open_at)
    if close_at < 0:
        raise ResourceError(f"host list {whole!r} has an unclosed '['")
    prefix, ranges, rest = item[:open_at], item[open_at + 1 : close_at], item[close_at + 1 :]
    tails = _expand_item(rest, whole) if rest else [""]
    names: list[str] = []
    for part in ranges.split(","):
        m = _RANGE.match(part.strip())
        if m is None:
            raise ResourceError(f"host list {whole!r}: {part!r} is not a number or a range a-b")
        first, last = m.group(1), m.group(2) or m.group(1)
        width = len(first)
        for n in range(int(first), int(last) + 1):
            names.extend(f"{prefix}{n:0{width}d}{tail}" for tail in tails)
    return names


def scheduler_nodes(env: Mapping[str, str]) -> list[str] | None:
    """The job's nodes from Slurm (``SLURM_JOB_NODELIST``), PBS (``PBS_NODEFILE``) or LSF
    (``LSB_MCPU_HOSTS``), each once and in order; None outside a batch job."""
    slurm = env.get("SLURM_JOB_NODELIST") or env.get("SLURM_NODELIST")
    if slurm:
        return expand_hostlist(slurm)
    node_file = env.get("PBS_NODEFILE")
    if node_file:
        try:
            with open(node_file) as f:
                lines = [line.strip() for line in f]
        except OSError as e:
            raise ResourceError(
                f"PBS_NODEFILE names {node_file!r}, which cannot be read ({e}); "
                "unset it or give the resources explicitly (LibeSpecs.resources)"
            ) from e
        return list(dict.fromkeys(line for line in lines if line))
    lsf = env.get("LSB_MCPU_HOSTS")
    if lsf:
        words = lsf.split()
        return list(dict.fromkeys(words[0::2]))
    return None
