"""SiamRPN++ modeling: dilated ResNet backbone, neck, depthwise-xcorr RPN head, meta-arch.

Importing this package registers ``build_siam_resnet_backbone`` (BACKBONE_REGISTRY),
``MultiLevelDepthwiseRPNHead`` (SIAM_RPN_HEAD_REGISTRY) and ``SiameseRPN``
(META_ARCH_REGISTRY).
"""

from .anchors import anchor_grid_cxcywh, anchor_shapes_wh, decode_boxes_cxcywh, score_map_geometry
from .backbone import SiamResNet, build_siam_resnet_backbone
from .fold_batchnorm import count_batchnorm, fold_batchnorm
from .meta_arch import SiameseRPN, SiamTrackOutput, TemplateFeatures
from .neck import SiamNeck
from .rpn_head import (
    SIAM_RPN_HEAD_REGISTRY,
    DepthwiseRPN,
    DepthwiseXCorrBranch,
    MultiLevelDepthwiseRPNHead,
    build_siam_rpn_head,
)
from .xcorr import depthwise_xcorr

__all__ = [
    "SIAM_RPN_HEAD_REGISTRY",
    "DepthwiseRPN",
    "DepthwiseXCorrBranch",
    "MultiLevelDepthwiseRPNHead",
    "SiamNeck",
    "SiamResNet",
    "SiamTrackOutput",
    "SiameseRPN",
    "TemplateFeatures",
    "anchor_grid_cxcywh",
    "anchor_shapes_wh",
    "build_siam_resnet_backbone",
    "build_siam_rpn_head",
    "count_batchnorm",
    "decode_boxes_cxcywh",
    "depthwise_xcorr",
    "fold_batchnorm",
    "score_map_geometry",
]
