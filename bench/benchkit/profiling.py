"""Running a bench's unit of work under cProfile, counting CPU time rather than waits."""

from __future__ import annotations

import cProfile
import time
from collections.abc import Callable, Iterable
from typing import TypeVar

Item = TypeVar("Item")


def cpu_profiled(
    one: Callable[[Item], object], items: Iterable[Item]
) -> tuple[float, cProfile.Profile]:
    """Run `one` on every item under cProfile; the process CPU seconds it took, and the profile."""
    profile = cProfile.Profile(time.process_time)  # CPU, not waits
    cpu = time.process_time()
    profile.enable()
    for item in items:
        one(item)
    profile.disable()
    return time.process_time() - cpu, profile
