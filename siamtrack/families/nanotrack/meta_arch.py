"""``NanoTrack``: anchor-free Siamese trackers (NanoTrack v1/v2/v3) as a meta-architecture.

Follows the ``SiameseNetwork`` contract (``siamtrack.modeling.contracts``, implemented by
``SiameseNetworkBase``) with A = 1: the backbone's single
feature map goes (no neck) into a BAN-style head (``head.py``) that predicts, per point of
an S x S grid, foreground logits and the distances (l, t, r, b) to the box edges; ``decode``
turns them into ``(B, 1, S, S)`` scores and ``(B, 1, S, S, 4)`` cxcywh boxes around the points
of ``points.py``. Training (``losses``, ``losses.py``): point labels from ellipses around the
target, ``0.5 * NLL(positives) + 0.5 * NLL(negatives)`` and a linear IoU loss on the positives
(``docs/nanotrack.md``).
"""

from typing import List

import torch
import torch.nn.functional as F
from detectron2.config import configurable
from detectron2.layers import ShapeSpec
from detectron2.modeling import META_ARCH_REGISTRY, build_backbone
from torch import nn

from ...errors import ConfigError
from ...modeling.heads import build_siam_head
from ...modeling.siamese import DeviceCopies, SiameseNetworkBase, SiamTrackOutput
from .head import head_input_shape
from .losses import label_points, nanotrack_losses
from .points import decode_ltrb, point_grid_xy

__all__ = ["NanoTrack"]


@META_ARCH_REGISTRY.register()
class NanoTrack(SiameseNetworkBase):
    """Backbone + anchor-free head (NanoTrack): one box per score-map point."""

    # siamtrack's own checkpoints and NanoTrack's releases (checkpoint.py)
    checkpoint_formats = ("siamtrack", "nanotrack")

    @configurable
    def __init__(
        self,
        *,
        backbone: nn.Module,
        head: nn.Module,
        template_size: int,
        search_size: int,
        pixel_mean=(0.0, 0.0, 0.0),
        pixel_std=(1.0, 1.0, 1.0),
        input_format: str = "BGR",
        point_stride: int = 16,
        positive_num: int = 16,
        negative_num: int = 48,
        negative_pair_num: int = 16,
        cls_loss_weight: float = 1.0,
        loc_loss_weight: float = 1.0,
    ):
        """
        Args:
            backbone: a backbone with one output feature and ``feature_size(input_size)``
                (e.g. ``MobileNetV3Small``).
            head: an anchor-free head (``SIAM_HEAD_REGISTRY``, e.g. ``NanoTrackV3Head``) with
                ``score_size(search_feature_size)``.
            template_size, search_size: crop sides T and S (127 / 255).
            pixel_mean, pixel_std, input_format: as ``SiameseNetwork`` (NanoTrack: raw BGR).
            point_stride: spacing of the point grid in search-crop pixels (16).
            positive_num, negative_num, negative_pair_num: sampled points per pair (16/48/16).
            cls_loss_weight, loc_loss_weight: loss weights (1, 1).
        """
        super().__init__(
            backbone=backbone,
            template_size=template_size,
            search_size=search_size,
            pixel_mean=pixel_mean,
            pixel_std=pixel_std,
            input_format=input_format,
        )
        self.head = head
        (self._feature_name,) = backbone.output_shape()
        self._score_size = head.score_size(backbone.feature_size(search_size))
        if self._score_size < 1:
            raise ConfigError(
                f"search size {search_size} gives an empty score map with this backbone/head"
            )
        self.point_stride = point_stride
        self._points = DeviceCopies(point_grid_xy(self._score_size, point_stride, search_size))
        self.positive_num, self.negative_num = positive_num, negative_num
        self.negative_pair_num = negative_pair_num
        self.cls_loss_weight, self.loc_loss_weight = cls_loss_weight, loc_loss_weight

    @classmethod
    def from_config(cls, cfg):
        backbone = build_backbone(cfg)
        shapes = backbone.output_shape()
        feature = head_input_shape(shapes)  # the one level the head reads
        (name,) = shapes
        template_hw = backbone.feature_size(cfg.MODEL.SIAMESE.TEMPLATE_SIZE)
        head_shape = ShapeSpec(
            channels=feature.channels, height=template_hw, width=template_hw, stride=feature.stride
        )
        nano = cfg.MODEL.NANOTRACK
        return {
            "backbone": backbone,
            "head": build_siam_head(cfg, {name: head_shape}),
            **cls.base_args_from_config(cfg),
            "point_stride": nano.POINT_STRIDE,
            "positive_num": nano.POSITIVE_NUM,
            "negative_num": nano.NEGATIVE_NUM,
            "negative_pair_num": nano.NEGATIVE_PAIR_NUM,
            "cls_loss_weight": nano.CLS_LOSS_WEIGHT,
            "loc_loss_weight": nano.LOC_LOSS_WEIGHT,
        }

    # ------------------------------------------------------------------ properties
    @property
    def score_size(self) -> int:
        return self._score_size

    @property
    def num_anchors(self) -> int:
        return 1

    @property
    def points_xy(self) -> torch.Tensor:
        """(S, S, 2) float32 point coordinates in search-crop pixels, on ``device``."""
        return self._points.on(self.device)

    # ------------------------------------------------------------------ family hooks
    def features(self, images: torch.Tensor, kind: str) -> List[torch.Tensor]:
        """The backbone's single feature map (no neck), as a one-level list."""
        return [self.backbone(images)[self._feature_name]]

    def decode(self, cls_logits: torch.Tensor, box_ltrb: torch.Tensor) -> SiamTrackOutput:
        """Scores (B, 1, S, S) and boxes (B, 1, S, S, 4) from (B, 2, S, S) / (B, 4, S, S)."""
        size = tuple(cls_logits.shape[2:])
        if size != (self._score_size, self._score_size):
            raise RuntimeError(f"score map {size} does not match the point grid {self._score_size}")
        scores = F.softmax(cls_logits.float(), dim=1)[:, 1:2]
        ltrb = box_ltrb.float().permute(0, 2, 3, 1).unsqueeze(1)
        return SiamTrackOutput(scores, decode_ltrb(self.points_xy, ltrb))

    # ------------------------------------------------------------------ training
    def losses(self, template_images, search_images, boxes_xyxy, is_negative):
        """``{"loss_cls", "loss_loc"}``: point cross-entropy and IoU loss (weighted)."""
        cls_logits, box_ltrb = self.head_outputs(template_images, search_images)
        labels, targets = self.label_points(boxes_xyxy, is_negative)
        loss_cls, loss_loc = nanotrack_losses(cls_logits, box_ltrb, labels, targets)
        return {
            "loss_cls": loss_cls * self.cls_loss_weight,
            "loss_loc": loss_loc * self.loc_loss_weight,
        }

    @torch.no_grad()
    def label_points(self, boxes_xyxy: torch.Tensor, is_negative: torch.Tensor):
        """Labels (B, S, S) in {-1, 0, 1} and (l, t, r, b) targets (B, S, S, 4) of a batch."""
        labels, targets = [], []
        for box, negative in zip(boxes_xyxy, is_negative.tolist()):
            label, target = label_points(
                self.points_xy,
                box,
                negative,
                positive_num=self.positive_num,
                negative_num=self.negative_num,
                negative_pair_num=self.negative_pair_num,
            )
            labels.append(label)
            targets.append(target)
        return torch.stack(labels), torch.stack(targets)
