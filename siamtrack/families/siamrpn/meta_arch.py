"""``SiameseRPN``: SiamRPN++ as a detectron2 meta-architecture.

Follows the ``SiameseNetwork`` contract (``siamtrack.modeling.contracts``, implemented by
``SiameseNetworkBase``): ``encode_template`` gives the RPN head's template-side kernels (cls
kernels of every level, then loc kernels), ``track`` the foreground probability and decoded box
of every anchor, ``(B, A, H, W)`` and ``(B, A, H, W, 4)``. Training returns
``{"loss_cls", "loss_loc"}`` (already weighted).

The head is the ``head`` child (siamtrack checkpoints written before it had that name call it
``rpn_head``; ``checkpoint.py`` renames them).
"""

from typing import List, Sequence, Tuple

import torch
import torch.nn.functional as F
from detectron2.config import configurable
from detectron2.layers import ShapeSpec
from detectron2.modeling import META_ARCH_REGISTRY, Backbone, build_backbone
from detectron2.modeling.box_regression import Box2BoxTransform
from detectron2.modeling.matcher import Matcher
from torch import nn

from ...errors import ConfigError
from ...modeling.heads import build_siam_head
from ...modeling.siamese import DeviceCopies, SiameseNetworkBase, SiamTrackOutput
from .anchors import (
    anchor_grid_cxcywh,
    anchor_shapes_wh,
    cxcywh_to_xyxy,
    decode_boxes_cxcywh,
    score_map_geometry,
)
from .losses import label_negative_pair, label_positive_pair, siamese_rpn_losses
from .neck import SiamNeck

__all__ = ["SiameseRPN"]


@META_ARCH_REGISTRY.register()
class SiameseRPN(SiameseNetworkBase):
    """SiamRPN++: shared backbone, neck, multi-level depthwise-xcorr RPN head."""

    # siamtrack's own checkpoints, those written before the head was renamed, pysot's, and
    # ImageNet backbones (checkpoint.py)
    checkpoint_formats = ("siamtrack", "siamrpn_rpn_head", "pysot", "resnet", "imagenet_pkl")

    @configurable
    def __init__(
        self,
        *,
        backbone: Backbone,
        neck: SiamNeck,
        head: nn.Module,
        template_size: int,
        search_size: int,
        pixel_mean: Sequence[float],
        pixel_std: Sequence[float],
        input_format: str = "BGR",
        anchor_stride: int = 8,
        anchor_ratios: Sequence[float] = (0.33, 0.5, 1.0, 2.0, 3.0),
        anchor_scales: Sequence[float] = (8.0,),
        iou_thresholds: Sequence[float] = (0.3, 0.6),
        positive_num: int = 16,
        negative_num: int = 48,
        negative_pair_num: int = 16,
        negative_pair_radius: int = 3,
        cls_loss_weight: float = 1.0,
        loc_loss_weight: float = 1.2,
        scale_clamp: float = 4.135166556742356,
    ):
        """
        Args:
            backbone: a ``SiamResNet`` or ``AlexNet`` (stride-8 features with ``feature_grid``).
            neck: per-level adjustment and template centre crop.
            head: a ``SiameseHead`` over the neck's levels, e.g.
                ``MultiLevelDepthwiseRPNHead`` or ``UpChannelRPNHead`` (one level).
            template_size, search_size: crop sides T and S the network is built for.
            pixel_mean, pixel_std: per-channel normalisation, in ``input_format`` order
                (pysot: 0 and 1 on raw BGR 0-255).
            input_format: "BGR" (inputs used as given) or "RGB" (inputs, always BGR, are
                flipped to RGB before normalisation; for torchvision ImageNet weights).
            anchor_stride, anchor_ratios, anchor_scales: anchor shapes (``docs/siamrpnpp.md``); the stride
                must equal the network's.
            iou_thresholds: [negative below, positive at or above].
            positive_num, negative_num: sampled anchors per positive pair.
            negative_pair_num, negative_pair_radius: sampling of negative pairs.
            cls_loss_weight, loc_loss_weight: loss weights.
            scale_clamp: bound of |dw|, |dh| at decode.
        """
        super().__init__(
            backbone=backbone,
            template_size=template_size,
            search_size=search_size,
            pixel_mean=pixel_mean,
            pixel_std=pixel_std,
            input_format=input_format,
        )
        self.neck = neck
        self.head = head
        self.geometry = score_map_geometry(
            backbone, neck.crop_start, neck.template_crop_size, template_size, search_size
        )
        if anchor_stride != self.geometry.stride:
            raise ConfigError(
                f"MODEL.SIAM_RPN.ANCHOR_STRIDE={anchor_stride} differs from the network stride "
                f"{self.geometry.stride}"
            )
        shapes = anchor_shapes_wh(anchor_stride, anchor_ratios, anchor_scales)
        anchors = anchor_grid_cxcywh(
            shapes, self.geometry.size, self.geometry.first_center, self.geometry.stride
        )
        self._anchors = DeviceCopies(anchors)  # (A, H, W, 4)

        self.matcher = Matcher(list(iou_thresholds), [0, -1, 1], allow_low_quality_matches=False)
        self.box2box_transform = Box2BoxTransform(weights=(1.0, 1.0, 1.0, 1.0))
        self.positive_num, self.negative_num = positive_num, negative_num
        self.negative_pair_num, self.negative_pair_radius = negative_pair_num, negative_pair_radius
        self.cls_loss_weight, self.loc_loss_weight = cls_loss_weight, loc_loss_weight
        self.scale_clamp = scale_clamp

    @classmethod
    def from_config(cls, cfg):
        backbone = build_backbone(cfg)
        rpn = cfg.MODEL.SIAM_RPN
        neck = SiamNeck(
            backbone.output_shape(),
            list(rpn.IN_FEATURES),
            out_channels=cfg.MODEL.SIAM_NECK.OUT_CHANNELS,
            template_crop_size=cfg.MODEL.SIAM_NECK.TEMPLATE_CROP_SIZE,
        )
        head_shapes = {
            name: ShapeSpec(channels=neck.out_channels, stride=backbone.output_shape()[name].stride)
            for name in rpn.IN_FEATURES
        }
        return {
            "backbone": backbone,
            "neck": neck,
            "head": build_siam_head(cfg, head_shapes),
            **cls.base_args_from_config(cfg),
            "anchor_stride": rpn.ANCHOR_STRIDE,
            "anchor_ratios": list(rpn.ANCHOR_RATIOS),
            "anchor_scales": list(rpn.ANCHOR_SCALES),
            "iou_thresholds": list(rpn.IOU_THRESHOLDS),
            "positive_num": rpn.POSITIVE_NUM,
            "negative_num": rpn.NEGATIVE_NUM,
            "negative_pair_num": rpn.NEGATIVE_PAIR_NUM,
            "negative_pair_radius": rpn.NEGATIVE_PAIR_RADIUS,
            "cls_loss_weight": rpn.CLS_LOSS_WEIGHT,
            "loc_loss_weight": rpn.LOC_LOSS_WEIGHT,
            "scale_clamp": rpn.SCALE_CLAMP,
        }

    # ------------------------------------------------------------------ properties
    @property
    def anchors_cxcywh(self) -> torch.Tensor:
        """(A, H, W, 4) float32 anchors (cx, cy, w, h) in search-crop pixels, on ``device``."""
        return self._anchors.on(self.device)

    @property
    def num_anchors(self) -> int:
        """A: anchors per score-map cell."""
        return self.anchors_cxcywh.shape[0]

    @property
    def score_size(self) -> int:
        """H = W of the score map (25 for pysot's 127/255)."""
        return self.geometry.size

    # ------------------------------------------------------------------ family hooks
    def features(self, images: torch.Tensor, kind: str) -> List[torch.Tensor]:
        """The neck's levels (``MODEL.SIAM_RPN.IN_FEATURES``; template ones centre-cropped)."""
        return self.neck(self.backbone(images), is_template=kind == "template")

    def losses(self, template_images, search_images, boxes_xyxy, is_negative):
        """``{"loss_cls", "loss_loc"}`` weighted by the config weights (see ``losses.py``)."""
        cls_logits, loc_deltas = self.head_outputs(template_images, search_images)
        labels, target_deltas = self.label_anchors(boxes_xyxy, is_negative)
        loss_cls, loss_loc = siamese_rpn_losses(cls_logits, loc_deltas, labels, target_deltas)
        return {
            "loss_cls": loss_cls * self.cls_loss_weight,
            "loss_loc": loss_loc * self.loc_loss_weight,
        }

    @torch.no_grad()
    def label_anchors(
        self, boxes_xyxy: torch.Tensor, is_negative: torch.Tensor
    ) -> Tuple[torch.Tensor, torch.Tensor]:
        """Training targets of a batch (see ``losses.py``).

        Args:
            boxes_xyxy: (B, 4) target (or distractor) boxes in search-crop coordinates.
            is_negative: (B,) bool, True for negative pairs.

        Returns:
            labels (B, A, H, W) int64 in {-1, 0, 1}; target deltas (B, A, H, W, 4).
        """
        anchors = self.anchors_cxcywh
        anchors_xyxy = cxcywh_to_xyxy(anchors.reshape(-1, 4))
        all_labels, all_deltas = [], []
        for box, negative in zip(boxes_xyxy, is_negative.tolist()):
            if negative:
                labels = label_negative_pair(
                    self.num_anchors,
                    self.geometry.size,
                    self.geometry.first_center,
                    self.geometry.stride,
                    box,
                    self.negative_pair_radius,
                    self.negative_pair_num,
                )
                deltas = torch.zeros_like(anchors_xyxy)
            else:
                labels, deltas = label_positive_pair(
                    anchors_xyxy,
                    box,
                    self.matcher,
                    self.box2box_transform,
                    self.positive_num,
                    self.negative_num,
                )
            all_labels.append(labels.view(anchors.shape[:3]))
            all_deltas.append(deltas.view(anchors.shape))
        return torch.stack(all_labels), torch.stack(all_deltas)

    # ------------------------------------------------------------------ decoding
    def decode(self, cls_logits: torch.Tensor, loc_deltas: torch.Tensor) -> SiamTrackOutput:
        """Softmax scores and anchor-decoded boxes from (B, 2A, H, W) / (B, 4A, H, W)."""
        batch, _, height, width = cls_logits.shape
        num_anchors = self.num_anchors
        if (height, width) != tuple(self.anchors_cxcywh.shape[1:3]):
            raise RuntimeError(
                f"score map {height}x{width} does not match the anchor grid "
                f"{tuple(self.anchors_cxcywh.shape[1:3])}"
            )
        scores = F.softmax(cls_logits.float().view(batch, 2, num_anchors, height, width), dim=1)
        deltas = loc_deltas.view(batch, 4, num_anchors, height, width).permute(0, 2, 3, 4, 1)
        boxes = decode_boxes_cxcywh(deltas, self.anchors_cxcywh.unsqueeze(0), self.scale_clamp)
        return SiamTrackOutput(scores[:, 1], boxes)
