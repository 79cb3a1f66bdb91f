"""SiamFC's training targets and loss (Bertinetto et al. 2016, section 2.2;
``docs/siamfc.md#training-recipe``).

Labels (``logistic_labels``): a score-map cell is positive (1) when its centre lies within
``radius`` search-crop pixels (Euclidean, the paper's ``k ||u - c|| <= R``; R = 16 px = 2
cells at stride 8) of the target's centre, negative (0) otherwise. The paper centres every
search crop on the target; the pair mapper may shift it, so the radius is measured from the
box centre the mapper reports. A negative pair (search crop around another object) has only
negatives.

Loss (``balanced_logistic_loss``): the logistic loss ``log(1 + exp(-y v))`` (binary
cross-entropy with logits, y in {0, 1}) with balanced weights over the batch: the positives
share half of the total weight and the negatives the other half, every cell of a class
weighted alike (all of it to the negatives when the batch has no positive).
"""

import torch
import torch.nn.functional as F

__all__ = ["balanced_logistic_loss", "logistic_labels"]


def logistic_labels(
    cell_centers_xy: torch.Tensor,
    boxes_xyxy: torch.Tensor,
    is_negative: torch.Tensor,
    radius: float,
) -> torch.Tensor:
    """Labels (B, 1, H, W) float32 in {0, 1} of a batch.

    Args:
        cell_centers_xy: (H, W, 2) cell centres in search-crop pixels (``cell_centers_xy``).
        boxes_xyxy: (B, 4) target boxes in search-crop pixels (distractors for negative pairs).
        is_negative: (B,) bool, True for negative pairs (all cells negative).
        radius: positive radius in search-crop pixels (``MODEL.SIAMFC.POSITIVE_RADIUS``).
    """
    centers = (boxes_xyxy[:, :2] + boxes_xyxy[:, 2:]) / 2.0  # (B, 2)
    offsets = cell_centers_xy.unsqueeze(0) - centers.view(-1, 1, 1, 2).to(cell_centers_xy)
    inside = offsets.pow(2).sum(-1) <= float(radius) ** 2  # (B, H, W)
    inside &= ~is_negative.to(inside.device).view(-1, 1, 1)
    return inside.unsqueeze(1).float()


def balanced_logistic_loss(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Weighted sum of the per-cell logistic losses (module docstring).

    Args:
        logits: (B, 1, H, W) responses before the sigmoid.
        labels: (B, 1, H, W) in {0, 1} (``logistic_labels``).

    Returns:
        scalar: ``0.5 * mean(loss over positives) + 0.5 * mean(loss over negatives)``, or the
        mean over the negatives when there is no positive.
    """
    labels = labels.to(logits.dtype)
    positive = labels > 0.5
    num_pos = positive.sum()
    num_neg = positive.numel() - num_pos
    share = 0.5 if num_pos > 0 else 0.0
    weights = torch.where(
        positive,
        share / num_pos.clamp(min=1).to(logits.dtype),
        (1.0 - share) / num_neg.clamp(min=1).to(logits.dtype),
    )
    losses = F.binary_cross_entropy_with_logits(logits.float(), labels.float(), reduction="none")
    return (weights.float() * losses).sum()
