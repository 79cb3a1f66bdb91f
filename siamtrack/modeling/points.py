"""Anchor-free box coding of NanoTrack / SiamBAN: a grid of points, (l, t, r, b) distances.

Point ``(row, col)`` of an S x S score map sits at ``c + stride * (col - S // 2)``,
``c + stride * (row - S // 2)`` in continuous search-crop coordinates, ``c = search_size / 2``
the crop centre: the cell ``S // 2`` lies on the centre, so for S = 16 the grid runs from
-128 to +112 px around it (NanoTrack's layout, which its weights were trained with; see
``docs/nanotrack.md``). The box of a point is ``[p_x - l, p_y - t, p_x + r, p_y + b]``.

Training targets (``label_points``): positives are the points inside the ellipse with
semi-axes (w/4, h/4) around the target centre (at most ``positive_num``, sampled), negatives
those outside the (w/2, h/2) ellipse (at most ``negative_num``); for a negative pair (search
crop around a distractor) the points inside the distractor's (w/4, h/4) ellipse become
negatives (at most ``negative_pair_num``); everything else is ignored (-1).
"""

from typing import Tuple

import torch

__all__ = ["point_grid_xy", "decode_ltrb", "encode_ltrb", "label_points", "linear_iou_loss"]


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


def _ellipse_value(points_xy: torch.Tensor, box_xyxy: torch.Tensor, fraction: float):
    cx, cy = (box_xyxy[0] + box_xyxy[2]) / 2, (box_xyxy[1] + box_xyxy[3]) / 2
    w, h = box_xyxy[2] - box_xyxy[0], box_xyxy[3] - box_xyxy[1]
    dx = (points_xy[..., 0] - cx) / (fraction * w)
    dy = (points_xy[..., 1] - cy) / (fraction * h)
    return dx * dx + dy * dy


def _keep_random(mask: torch.Tensor, limit: int, generator=None) -> torch.Tensor:
    """``mask`` with all but ``limit`` randomly chosen True entries cleared."""
    indices = mask.flatten().nonzero().squeeze(1)
    if len(indices) <= limit:
        return mask
    chosen = indices[torch.randperm(len(indices), generator=generator, device="cpu")[:limit]]
    kept = torch.zeros(mask.numel(), dtype=torch.bool, device=mask.device)
    kept[chosen.to(mask.device)] = True
    return kept.view_as(mask)


def label_points(
    points_xy: torch.Tensor,
    box_xyxy: torch.Tensor,
    is_negative: bool,
    *,
    positive_num: int = 16,
    negative_num: int = 48,
    negative_pair_num: int = 16,
    generator: torch.Generator = None,
) -> Tuple[torch.Tensor, torch.Tensor]:
    """Labels (S, S) int64 in {-1, 0, 1} and box targets (S, S, 4) (l, t, r, b) of one pair.

    Args:
        points_xy: (S, S, 2) from ``point_grid_xy``.
        box_xyxy: (4,) target (positive pair) or distractor (negative pair) box in crop pixels.
        is_negative: the pair is negative (template and search show different objects).
        positive_num, negative_num, negative_pair_num: caps of the sampled sets (16, 48, 16).
        generator: torch RNG for the sampling (default: the global one).
    """
    inner = _ellipse_value(points_xy, box_xyxy, 0.25) < 1
    labels = torch.full(points_xy.shape[:2], -1, dtype=torch.int64, device=points_xy.device)
    if is_negative:
        labels[_keep_random(inner, negative_pair_num, generator)] = 0
    else:
        outer = _ellipse_value(points_xy, box_xyxy, 0.5) > 1
        labels[_keep_random(outer, negative_num, generator)] = 0
        labels[_keep_random(inner, positive_num, generator)] = 1
    return labels, encode_ltrb(points_xy, box_xyxy)


def linear_iou_loss(pred_ltrb: torch.Tensor, target_ltrb: torch.Tensor) -> torch.Tensor:
    """Mean of ``1 - (I + 1) / (U + 1)`` over (N, 4) distance pairs (UnitBox-style IoU of two
    boxes sharing their point); 0 when N = 0."""
    if pred_ltrb.numel() == 0:
        return pred_ltrb.sum() * 0.0
    pl, pt, pr, pb = pred_ltrb.unbind(-1)
    tl, tt, tr, tb = target_ltrb.unbind(-1)
    intersection = (torch.min(pl, tl) + torch.min(pr, tr)) * (torch.min(pt, tt) + torch.min(pb, tb))
    union = (pl + pr) * (pt + pb) + (tl + tr) * (tt + tb) - intersection
    return (1.0 - (intersection + 1.0) / (union + 1.0)).mean()
