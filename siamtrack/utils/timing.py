"""Speed from per-frame times: one formula for every tracker, tool and report (pure numpy)."""

from typing import Sequence

import numpy as np

__all__ = ["updates_per_second"]


def updates_per_second(times: Sequence[float]) -> float:
    """Tracker updates per second over frames 1..N-1 (frame 0's ``init`` excluded), from
    per-frame seconds; NaN when there is nothing to measure."""
    times = np.asarray(times, dtype=np.float64).reshape(-1)
    total = float(np.sum(times[1:])) if len(times) > 1 else 0.0
    return (len(times) - 1) / total if total > 0 else float("nan")
