"""Siamese tracker networks: SiamRPN++ (anchors) and NanoTrack-style anchor-free models.

Importing this package registers with detectron2: the backbones ``build_siam_resnet_backbone``
and ``build_mobilenet_v3_backbone`` (BACKBONE_REGISTRY), the heads
``MultiLevelDepthwiseRPNHead`` (SIAM_RPN_HEAD_REGISTRY) and ``NanoTrackV{1,2,3}Head``
(SIAM_BAN_HEAD_REGISTRY), and the meta-architectures ``SiameseRPN`` and ``SiameseBAN``
(META_ARCH_REGISTRY), which share the ``SiameseNetwork`` contract.
"""

from .anchors import anchor_grid_cxcywh, anchor_shapes_wh, decode_boxes_cxcywh, score_map_geometry
from .backbone import SiamResNet, build_siam_resnet_backbone
from .ban_head import (
    SIAM_BAN_HEAD_REGISTRY,
    NanoTrackV1Head,
    NanoTrackV2Head,
    NanoTrackV3Head,
    build_siam_ban_head,
)
from .fold_batchnorm import count_batchnorm, fold_batchnorm
from .mobilenet import MobileNetV3Small, build_mobilenet_v3_backbone
from .neck import SiamNeck
from .points import decode_ltrb, label_points, point_grid_xy
from .rpn_head import (
    SIAM_RPN_HEAD_REGISTRY,
    DepthwiseRPN,
    DepthwiseXCorrBranch,
    MultiLevelDepthwiseRPNHead,
    build_siam_rpn_head,
)
from .siamese import SiameseNetwork, SiamTrackOutput, TemplateBranch, TemplateFeatures, TrackStep
from .siamese_ban import SiameseBAN
from .siamese_rpn import SiameseRPN
from .xcorr import depthwise_xcorr, pixelwise_xcorr

__all__ = [
    "SIAM_BAN_HEAD_REGISTRY",
    "SIAM_RPN_HEAD_REGISTRY",
    "DepthwiseRPN",
    "DepthwiseXCorrBranch",
    "MobileNetV3Small",
    "MultiLevelDepthwiseRPNHead",
    "NanoTrackV1Head",
    "NanoTrackV2Head",
    "NanoTrackV3Head",
    "SiamNeck",
    "SiamResNet",
    "SiamTrackOutput",
    "SiameseBAN",
    "SiameseNetwork",
    "SiameseRPN",
    "TemplateBranch",
    "TemplateFeatures",
    "TrackStep",
    "anchor_grid_cxcywh",
    "anchor_shapes_wh",
    "build_mobilenet_v3_backbone",
    "build_siam_ban_head",
    "build_siam_resnet_backbone",
    "build_siam_rpn_head",
    "count_batchnorm",
    "decode_boxes_cxcywh",
    "decode_ltrb",
    "depthwise_xcorr",
    "fold_batchnorm",
    "label_points",
    "pixelwise_xcorr",
    "point_grid_xy",
    "score_map_geometry",
]
