"""Training targets and losses of NanoTrack (``docs/nanotrack.md#training-recipe``).

Targets (``label_points``): positives are the points inside the ellipse with semi-axes
(w/4, h/4) around the target centre (at most ``positive_num``, sampled), negatives those
outside the (w/2, h/2) ellipse (at most ``negative_num``); for a negative pair (search crop
around a distractor) the points inside the distractor's (w/4, h/4) ellipse become negatives (at
most ``negative_pair_num``); everything else is ignored (-1). Box targets are the (l, t, r, b)
distances of every point to the box (``points.encode_ltrb``).

Losses (``nanotrack_losses``): ``loss_cls = 0.5 * NLL(positives) + 0.5 * NLL(negatives)``
(log-softmax over 2 classes; a term with no points is 0), ``loss_loc`` = the linear IoU loss
over the positives.
"""

from typing import Tuple

import torch
import torch.nn.functional as F

from .points import encode_ltrb

__all__ = ["label_points", "linear_iou_loss", "nanotrack_losses"]


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


def _mean_nll(log_probs: torch.Tensor, labels: torch.Tensor, label: int) -> torch.Tensor:
    """Mean negative log-likelihood of class ``label`` over the points labelled ``label``."""
    mask = labels == label
    if not mask.any():
        return log_probs.sum() * 0.0
    return -log_probs[:, label][mask].mean()


def nanotrack_losses(
    cls_logits: torch.Tensor,
    box_ltrb: torch.Tensor,
    labels: torch.Tensor,
    target_ltrb: torch.Tensor,
) -> Tuple[torch.Tensor, torch.Tensor]:
    """Unweighted classification and localisation losses of a batch.

    Args:
        cls_logits: (B, 2, S, S), channel 1 foreground.
        box_ltrb: (B, 4, S, S) predicted distances.
        labels: (B, S, S) int64 in {-1, 0, 1}.
        target_ltrb: (B, S, S, 4) target distances (used on positives only).

    Returns:
        (loss_cls, loss_loc), scalars.
    """
    log_probs = F.log_softmax(cls_logits.float(), dim=1)  # (B, 2, S, S)
    loss_cls = 0.5 * _mean_nll(log_probs, labels, 1) + 0.5 * _mean_nll(log_probs, labels, 0)
    positive = labels == 1
    pred = box_ltrb.float().permute(0, 2, 3, 1)[positive]
    return loss_cls, linear_iou_loss(pred, target_ltrb[positive])
