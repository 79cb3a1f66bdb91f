"""What the benchmark scripts share: paths, the machine line printed with every number, waiting
for an idle CPU, and one timed tracking run.

Run the scripts from the repository root (``python benchmarks/<name>.py``); this module is
imported as a sibling script.
"""

import os
import platform
import time
from pathlib import Path

import numpy as np
import torch

from siamtrack.tracking import iterate_tracking

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"  # ../shared: evaluation sequences and released weights


def machine_description() -> str:
    """CPU model, core count and torch's CPU capability (AVX2 / AVX512 machines differ ~4x)."""
    model = platform.processor() or "unknown CPU"
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    capability = torch.backends.cpu.get_cpu_capability()
    return f"{model}, {os.cpu_count()} cores, torch CPU capability {capability}"


def cpu_idle_fraction(seconds: float = 1.0) -> float:
    """Fraction of CPU time idle over the next ``seconds`` (Linux /proc/stat)."""

    def snapshot():
        with open("/proc/stat") as stat:
            values = [float(v) for v in stat.readline().split()[1:]]
        return values[3] + values[4], sum(values)

    idle0, total0 = snapshot()
    time.sleep(seconds)
    idle1, total1 = snapshot()
    return (idle1 - idle0) / max(total1 - total0, 1e-9)


def wait_quiet(max_seconds: float) -> float:
    """Wait until the CPU is >= 90% idle for 3 s in a row (at most ``max_seconds``); returns
    the last idle fraction (print it: a loaded machine makes every time meaningless)."""
    deadline, streak, idle = time.time() + max_seconds, 0, 0.0
    while time.time() < deadline and streak < 3:
        idle = cpu_idle_fraction()
        streak = streak + 1 if idle >= 0.9 else 0
    return idle


def timed_tracking(tracker, frames, init):
    """Track ``frames`` (frame 0 = ``init``) with siamtrack's tracking loop.

    Returns:
        (results, update_seconds, init_seconds): one result per frame, and the seconds of each
        ``update`` as an array.
    """
    records = [record.without_image() for record in iterate_tracking(tracker, frames, init)]
    seconds = np.asarray([record.seconds for record in records[1:]])
    return [record.result for record in records], seconds, records[0].seconds


def boxes_of(results) -> np.ndarray:
    """(N, 4) float64 ``box_xywh`` of one-target results."""
    return np.stack([np.asarray(result.box_xywh, np.float64) for result in results])
