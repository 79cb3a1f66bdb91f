"""Re-detection: where a tracker looks for a target it has lost (pure numpy).

While a target is reported absent for ``TRACKER.REDETECT_AFTER`` frames in a row, the tracker
searches the whole frame: it tiles the frame with square crops of the target's search side (the
local search's scale, so the network sees the target at the size it knows), spaced so that the
crops' score maps overlap, and evaluates a few of them per frame, in turn, together with a crop
at the place the target was last seen, all in the frame's one batched network call. The first
candidate the presence model accepts brings the target back to local tracking.
"""

import math
from typing import Tuple

import numpy as np

__all__ = ["TILE_SPACING", "tile_centers", "next_tiles"]

# Tile centres are this fraction of the crop side apart: the score map of a crop covers its
# central ~75-90 % (SiamRPN++ R-50: 192 of 255 px; NanoTrack: 224-240 of 255 px).
TILE_SPACING = 0.75


def tile_centers(image_hw: Tuple[int, int], side: float) -> np.ndarray:
    """Centres (N, 2) ``(x, y)`` of square crops of ``side`` px covering an ``H x W`` frame,
    row by row, evenly spread, at most ``TILE_SPACING * side`` apart (one crop in the centre
    when the frame fits in it)."""
    height, width = float(image_hw[0]), float(image_hw[1])
    if not side > 0:
        raise ValueError(f"tile side must be positive, got {side}")
    step = TILE_SPACING * float(side)
    columns = max(1, math.ceil((width - side) / step) + 1) if width > side else 1
    rows = max(1, math.ceil((height - side) / step) + 1) if height > side else 1
    xs = _spread(width, side, columns)
    ys = _spread(height, side, rows)
    return np.array([(x, y) for y in ys for x in xs], dtype=np.float64)


def _spread(length: float, side: float, count: int) -> np.ndarray:
    """``count`` centres from ``side / 2`` to ``length - side / 2`` (the middle if one)."""
    if count == 1:
        return np.array([length / 2.0])
    return np.linspace(side / 2.0, length - side / 2.0, count)


def next_tiles(centers: np.ndarray, cursor: int, count: int) -> Tuple[np.ndarray, int]:
    """The next ``count`` tiles from ``cursor`` (wrapping around; never a tile twice in one
    call) and the new cursor."""
    total = len(centers)
    count = min(int(count), total)
    indices = [(cursor + k) % total for k in range(count)]
    return centers[indices], (cursor + count) % total
