"""Anchor-free box coding of NanoTrack / SiamBAN: a grid of points, (l, t, r, b) distances.

Point ``(row, col)`` of an S x S score map sits at ``c + stride * (col - S // 2)``,
``c + stride * (row - S // 2)`` in continuous search-crop coordinates, ``c = search_size / 2``
the crop centre: the cell ``S // 2`` lies on the centre, so for S = 16 the grid runs from
-128 to +112 px around it (NanoTrack's layout, which its weights were trained with; see
``docs/nanotrack.md``). The box of a point is ``[p_x - l, p_y - t, p_x + r, p_y + b]``.
Training targets and losses: ``losses.py``.
"""

import torch

__all__ = ["point_grid_xy", "decode_ltrb", "encode_ltrb"]


def point_grid_xy(score_size: int, stride: float, search_size: int) -> torch.Tensor:
    """(S, S, 2) float32 point coordinates (x, y) in search-crop pixels, row-major."""
    offsets = (torch.arange(score_size, dtype=torch.float64) - score_size // 2) * stride
    coords = search_size / 2.0 + offsets
    grid_y, grid_x = torch.meshgrid(coords, coords, indexing="ij")
    return torch.stack([grid_x, grid_y], dim=-1).float()


def decode_ltrb(points_xy: torch.Tensor, ltrb: torch.Tensor) -> torch.Tensor:
    """Boxes (..., 4) cxcywh from points (..., 2) and distances (..., 4) = (l, t, r, b)."""
    left, top, right, bottom = ltrb.unbind(-1)
    px, py = points_xy[..., 0], points_xy[..., 1]
    return torch.stack(
        [px + (right - left) / 2, py + (bottom - top) / 2, left + right, top + bottom], dim=-1
    )


def encode_ltrb(points_xy: torch.Tensor, box_xyxy: torch.Tensor) -> torch.Tensor:
    """Distances (..., 4) = (p_x - x1, p_y - y1, x2 - p_x, y2 - p_y) of every point to a box."""
    px, py = points_xy[..., 0], points_xy[..., 1]
    x1, y1, x2, y2 = box_xyxy.unbind(-1)
    return torch.stack([px - x1, py - y1, x2 - px, y2 - py], dim=-1)
