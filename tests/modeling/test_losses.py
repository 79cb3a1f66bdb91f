"""Anchor labelling on hand-made boxes and the SiamRPN++ losses."""

import numpy as np
import torch

from siamtrack.families.siamrpn.anchors import cxcywh_to_xyxy
from siamtrack.families.siamrpn.losses import siamese_rpn_losses
from siamtrack.utils.boxes import iou_xywh

from .helpers import TINY_PYSOT, build


def _model():
    torch.manual_seed(0)
    return build(TINY_PYSOT)  # 5 x 11 x 11 anchors, first centre 23.5, stride 8


def _label(model, boxes_xyxy, negatives):
    torch.manual_seed(1)
    return model.label_anchors(torch.tensor(boxes_xyxy), torch.tensor(negatives))


def test_box_equal_to_one_anchor_is_its_positive():
    model = _model()
    anchor = model.anchors_cxcywh[2, 5, 5]  # square 64x64 anchor at the crop centre
    labels, deltas = _label(model, [cxcywh_to_xyxy(anchor).tolist()], [False])
    assert labels.shape == (1, 5, 11, 11)
    assert labels[0, 2, 5, 5] == 1
    torch.testing.assert_close(deltas[0, 2, 5, 5], torch.zeros(4))
    # independent IoU (numpy, utils.boxes): positives have IoU >= 0.6, negatives < 0.3
    anchors_xywh = model.anchors_cxcywh.reshape(-1, 4).numpy().copy()
    anchors_xywh[:, :2] -= anchors_xywh[:, 2:] / 2
    box_xywh = np.array([anchor[0] - 32, anchor[1] - 32, 64, 64], dtype=np.float64)
    iou = iou_xywh(anchors_xywh, np.broadcast_to(box_xywh, anchors_xywh.shape)).reshape(5, 11, 11)
    positives, negatives = (labels[0] == 1).numpy(), (labels[0] == 0).numpy()
    assert positives.sum() == min(16, (iou >= 0.6).sum()) and (iou[positives] >= 0.6).all()
    assert negatives.sum() == 48 and (iou[negatives] < 0.3).all()


def _num_iou_above(model, box_xyxy, threshold):
    anchors = model.anchors_cxcywh.reshape(-1, 4).numpy().copy()
    anchors[:, :2] -= anchors[:, 2:] / 2
    box = np.array(box_xyxy, dtype=np.float64)
    box[2:] -= box[:2]
    return int((iou_xywh(anchors, np.broadcast_to(box, anchors.shape)) >= threshold).sum())


def test_positive_and_negative_caps_are_independent():
    torch.manual_seed(0)
    model = build(TINY_PYSOT, "MODEL.SIAM_RPN.ANCHOR_SCALES", [7.5, 8.0, 8.5])  # 15 anchors
    box = [63.5 - 32, 63.5 - 32, 63.5 + 32, 63.5 + 32]
    assert _num_iou_above(model, box, 0.6) > 16
    labels, _ = _label(model, [box], [False])
    assert int((labels == 1).sum()) == 16
    assert int((labels == 0).sum()) == 48
    # a tiny box: no anchor reaches 0.6, still 48 negatives and no forced positive
    labels, deltas = _label(model, [[60.0, 60.0, 64.0, 64.0]], [False])
    assert int((labels == 1).sum()) == 0
    assert int((labels == 0).sum()) == 48


def test_regression_targets_of_positives():
    model = _model()
    anchor = model.anchors_cxcywh[2, 5, 5]
    box = torch.tensor([anchor[0] + 4.0, anchor[1] - 2.0, 70.0, 60.0])
    labels, deltas = _label(model, [cxcywh_to_xyxy(box).tolist()], [False])
    assert labels[0, 2, 5, 5] == 1
    expected = torch.tensor([4.0 / 64, -2.0 / 64, torch.log(torch.tensor(70 / 64.0)),
                             torch.log(torch.tensor(60 / 64.0))])  # fmt: skip
    torch.testing.assert_close(deltas[0, 2, 5, 5], expected)


def test_negative_pair_samples_16_near_the_distractor():
    model = _model()
    # distractor centred on cell (row 2, col 8): centre = 23.5 + 8 * index
    cx, cy = 23.5 + 8 * 8, 23.5 + 8 * 2
    labels, deltas = _label(model, [[cx - 10, cy - 10, cx + 10, cy + 10]], [True])
    negatives = (labels[0] == 0).nonzero()
    assert len(negatives) == 16 and int((labels == 1).sum()) == 0
    assert negatives[:, 1].min() >= 0 and negatives[:, 1].max() <= 5  # rows 2 +- 3, clipped
    assert negatives[:, 2].min() >= 5 and negatives[:, 2].max() <= 10  # cols 8 +- 3, clipped
    assert not deltas.any()


def test_losses_by_hand_and_single_anchor_terms_are_kept():
    num_anchors, size = 1, 2
    cls_logits = torch.zeros(1, 2 * num_anchors, size, size, requires_grad=True)
    loc = torch.zeros(1, 4 * num_anchors, size, size, requires_grad=True)
    labels = torch.tensor([[[[1, 0], [-1, -1]]]])  # exactly one positive and one negative
    targets = torch.zeros(1, num_anchors, size, size, 4)
    targets[0, 0, 0, 0] = torch.tensor([0.5, -0.5, 1.0, 0.0])
    loss_cls, loss_loc = siamese_rpn_losses(cls_logits, loc, labels, targets)
    # log-softmax of equal logits = log(0.5); pysot would drop both one-element terms
    torch.testing.assert_close(loss_cls, torch.log(torch.tensor(2.0)))
    torch.testing.assert_close(loss_loc, torch.tensor(2.0))  # |0.5|+|0.5|+|1|+|0| over 1 pos
    (loss_cls + loss_loc).backward()
    assert cls_logits.grad.abs().sum() > 0 and loc.grad.abs().sum() > 0


def test_loc_loss_averages_per_pair_then_over_batch():
    labels = torch.tensor([[[[1, 1]]], [[[-1, -1]]]])  # pair 0: two positives; pair 1: none
    loc = torch.zeros(2, 4, 1, 2)
    targets = torch.zeros(2, 1, 1, 2, 4)
    targets[0, 0, 0, 0, 0] = 2.0
    targets[0, 0, 0, 1, 0] = 4.0
    targets[1] = float("-inf")  # ignored anchors may hold anything (e.g. log(0))
    _, loss_loc = siamese_rpn_losses(torch.zeros(2, 2, 1, 2), loc, labels, targets)
    torch.testing.assert_close(loss_loc, torch.tensor((2.0 + 4.0) / 2 / 2))


def test_losses_without_positives_are_zero_but_connected():
    cls_logits = torch.randn(1, 2, 3, 3, requires_grad=True)
    loc = torch.randn(1, 4, 3, 3, requires_grad=True)
    labels = torch.full((1, 1, 3, 3), -1)
    loss_cls, loss_loc = siamese_rpn_losses(cls_logits, loc, labels, torch.zeros(1, 1, 3, 3, 4))
    assert loss_cls.item() == 0.0 and loss_loc.item() == 0.0
    (loss_cls + loss_loc).backward()
    assert cls_logits.grad is not None and loc.grad is not None
