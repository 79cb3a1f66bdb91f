"""Training targets and losses of the Siamese RPN (``docs/siamrpnpp.md#training-recipe``).

Labels per anchor: 1 positive, 0 negative, -1 ignored; shape (A, H, W) per pair.

Positive pair (search crop around the target): detectron2's ``Matcher`` with thresholds
(0.3, 0.6) labels IoU < 0.3 negative and IoU >= 0.6 positive (pysot: > 0.6; equal IoU is a
measure-zero event), no forced positive (``allow_low_quality_matches=False``). Then
``subsample_labels`` is called twice so that, as in pysot, at most ``positive_num`` (16)
positives **and independently** at most ``negative_num`` (48) negatives are kept (a single
call would top negatives up to 64 when positives are few). Regression targets come from
``Box2BoxTransform(weights=(1, 1, 1, 1))``: ``dx = (tcx - acx) / aw``, ``dw = ln(tw / aw)``.

Negative pair (search crop around a distractor): the anchors of the (2R+1) x (2R+1) cells
around the cell **nearest** to the distractor's centre are candidates, ``negative_pair_num``
(16) of them are sampled as negatives, the rest ignored. (pysot's
``12 + ceil((c - 127) / 8 + 0.5)`` puts this window one cell right/down of a centred
distractor; here it is centred on it.)

Losses: ``loss_cls = 0.5 * mean NLL over all positives of the batch + 0.5 * mean NLL over all
negatives`` (log-softmax over 2 classes); a term with no anchors is 0 — unlike pysot, a term
with exactly one anchor is kept. ``loss_loc`` = L1 over (dx, dy, dw, dh), averaged over each
pair's positives, summed over pairs and divided by the batch size (negative pairs count 0).
"""

from typing import Tuple

import torch
import torch.nn.functional as F
from detectron2.modeling.box_regression import Box2BoxTransform
from detectron2.modeling.matcher import Matcher
from detectron2.modeling.sampling import subsample_labels
from detectron2.structures import Boxes, pairwise_iou

__all__ = ["label_positive_pair", "label_negative_pair", "siamese_rpn_losses"]


def label_positive_pair(
    anchors_xyxy: torch.Tensor,
    box_xyxy: torch.Tensor,
    matcher: Matcher,
    box2box: Box2BoxTransform,
    positive_num: int,
    negative_num: int,
) -> Tuple[torch.Tensor, torch.Tensor]:
    """Labels and regression targets of one positive pair.

    Args:
        anchors_xyxy: (N, 4) anchors, flattened in (a, row, col) order.
        box_xyxy: (4,) target box in search-crop coordinates.
        matcher: IoU thresholds -> labels {0, -1, 1}.
        box2box: encoder of regression targets.
        positive_num, negative_num: caps of sampled positives and negatives.

    Returns:
        labels (N,) int64 in {-1, 0, 1}; deltas (N, 4) float32 (meaningful on positives).
    """
    iou = pairwise_iou(Boxes(box_xyxy.view(1, 4)), Boxes(anchors_xyxy))  # (1, N)
    _, matched = matcher(iou)
    pos_idx, _ = subsample_labels(matched, positive_num, 1.0, 0)
    _, neg_idx = subsample_labels(matched, negative_num, 0.0, 0)
    labels = torch.full_like(matched, -1, dtype=torch.int64)
    labels[pos_idx] = 1
    labels[neg_idx] = 0
    deltas = torch.zeros_like(anchors_xyxy)
    if pos_idx.numel():
        deltas[pos_idx] = box2box.get_deltas(
            anchors_xyxy[pos_idx], box_xyxy.view(1, 4).expand(pos_idx.numel(), 4)
        )
    return labels, deltas


def label_negative_pair(
    num_anchors: int,
    size: int,
    first_center: float,
    stride: float,
    box_xyxy: torch.Tensor,
    radius: int,
    negative_num: int,
) -> torch.Tensor:
    """Labels of one negative pair: ``negative_num`` negatives near the distractor.

    Args:
        num_anchors, size: score map is (A, size, size).
        first_center, stride: centre of cell 0 and cell spacing in search-crop pixels.
        box_xyxy: (4,) distractor box in search-crop coordinates.
        radius: R; the window is (2R+1) x (2R+1) cells, clipped to the map.
        negative_num: anchors sampled from the window.

    Returns:
        labels (A * size * size,) int64 in {-1, 0}.
    """
    center = (box_xyxy[:2] + box_xyxy[2:]) / 2.0
    cell = torch.floor((center - first_center) / stride + 0.5).long().clamp(0, size - 1)
    col, row = int(cell[0]), int(cell[1])
    candidates = torch.full(
        (num_anchors, size, size), -1, dtype=torch.int64, device=box_xyxy.device
    )
    candidates[
        :, max(0, row - radius) : row + radius + 1, max(0, col - radius) : col + radius + 1
    ] = 0
    candidates = candidates.flatten()
    _, neg_idx = subsample_labels(candidates, negative_num, 0.0, 0)
    labels = torch.full_like(candidates, -1)
    labels[neg_idx] = 0
    return labels


def siamese_rpn_losses(
    cls_logits: torch.Tensor,
    loc_deltas: torch.Tensor,
    labels: torch.Tensor,
    target_deltas: torch.Tensor,
) -> Tuple[torch.Tensor, torch.Tensor]:
    """Unweighted classification and localisation losses of a batch.

    Args:
        cls_logits: (B, 2A, H, W), channel k * A + a.
        loc_deltas: (B, 4A, H, W), channel c * A + a.
        labels: (B, A, H, W) int64 in {-1, 0, 1}.
        target_deltas: (B, A, H, W, 4) regression targets (used on positives only).

    Returns:
        (loss_cls, loss_loc), scalars connected to both inputs' graphs.
    """
    batch, num_anchors, height, width = labels.shape
    log_probs = F.log_softmax(cls_logits.view(batch, 2, num_anchors, height, width), dim=1)
    positive, negative = labels == 1, labels == 0
    zero = cls_logits.sum() * 0.0

    def mean_nll(class_index: int, mask: torch.Tensor) -> torch.Tensor:
        selected = log_probs[:, class_index][mask]
        return -selected.mean() if selected.numel() else zero

    loss_cls = 0.5 * mean_nll(1, positive) + 0.5 * mean_nll(0, negative)

    deltas = loc_deltas.view(batch, 4, num_anchors, height, width).permute(0, 2, 3, 4, 1)
    num_pos = positive.flatten(1).sum(dim=1)  # (B,)
    if int(num_pos.sum()) == 0:
        return loss_cls, loc_deltas.sum() * 0.0
    l1 = (deltas[positive] - target_deltas[positive].to(deltas)).abs().sum(dim=-1)  # (P,)
    image_index = torch.nonzero(positive, as_tuple=True)[0]
    weights = 1.0 / num_pos.clamp(min=1).to(l1)[image_index]
    loss_loc = (l1 * weights).sum() / batch
    return loss_cls, loss_loc
