"""``safe_mode``: check that an allocation function left the reserved history fields as
they were (policies return work orders; they never write H)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from libens.errors import LibensError
from libens.history import RESERVED_NAMES


def protected_copy(H: np.ndarray) -> dict[str, np.ndarray]:
    """A copy of the reserved fields, taken before the allocation function runs."""
    return {f: H[f].copy() for f in RESERVED_NAMES}


def check_protected(before: dict[str, np.ndarray], H: np.ndarray, alloc_f: Callable) -> None:
    """Raise if the allocation function changed a reserved field since ``before``."""
    changed = [f for f, v in before.items() if not np.array_equal(v, H[f])]
    if changed:
        raise LibensError(
            f"allocation function {getattr(alloc_f, '__name__', alloc_f)} modified "
            f"reserved history fields {changed} (found by safe_mode); policies must "
            "leave H unchanged and return work orders instead"
        )
