"""SiamRPN++ (pysot's multi-level depthwise-xcorr RPN tracker): ``SiameseRPN``.

Importing the package registers: the meta-architecture ``SiameseRPN`` (META_ARCH_REGISTRY),
the dilated ResNet ``build_siam_resnet_backbone`` (BACKBONE_REGISTRY), the heads
``MultiLevelDepthwiseRPNHead`` and ``UpChannelRPNHead`` (SIAM_HEAD_REGISTRY), the config keys
(``add_siamrpn_config``)
and the checkpoint formats ``"pysot"``, ``"resnet"`` and ``"siamrpn_rpn_head"``. It tracks with
``PenaltyWindowSearch`` and exports in siamtrack's ONNX layout.

- ``meta_arch.py``: ``SiameseRPN`` (features, decoding, training targets and losses);
- ``backbone.py`` / ``resnet_blocks.py``: the dilated ResNet (pysot and standard layouts);
- ``neck.py``: per-level adjustment and template centre crop;
- ``head.py``: the depthwise-xcorr RPN head, fused over levels;
- ``upchannel_head.py``: SiamRPN's up-channel head (one level, with the shared AlexNet
  backbone ``siamtrack.modeling.alexnet``: the SiamRPN configs ``siamrpn_alex_*.yaml``);
- ``anchors.py``: anchor shapes, grid, score-map geometry, box decoding;
- ``losses.py``: anchor labels and the cls / loc losses;
- ``config.py``: ``MODEL.SIAM_RESNET``, ``MODEL.SIAM_NECK``, ``MODEL.SIAM_RPN``;
- ``checkpoint.py``: pysot / torchvision names <-> siamtrack names;
- ``manifest.py``: torch-free facts for the tools (export layouts: none).

Configs: ``configs/siamrpn/`` (``Base-SiamRPN.yaml``, quick schedules in
``configs/siamrpn/quick_schedules/``). See ``docs/siamrpnpp.md``.
"""

from . import checkpoint  # noqa: F401  registers the checkpoint formats
from .anchors import anchor_grid_cxcywh, anchor_shapes_wh, decode_boxes_cxcywh, score_map_geometry
from .backbone import SiamResNet, build_siam_resnet_backbone
from .checkpoint import (
    pysot_to_siamtrack_state_dict,
    resnet_to_siamtrack_state_dict,
    siamtrack_to_pysot_state_dict,
)
from .config import add_siamrpn_config
from .head import DepthwiseRPN, DepthwiseXCorrBranch, MultiLevelDepthwiseRPNHead
from .meta_arch import SiameseRPN
from .neck import SiamNeck
from .upchannel_head import UpChannelRPNHead

__all__ = [
    "DepthwiseRPN",
    "DepthwiseXCorrBranch",
    "MultiLevelDepthwiseRPNHead",
    "SiamNeck",
    "SiamResNet",
    "SiameseRPN",
    "UpChannelRPNHead",
    "add_siamrpn_config",
    "anchor_grid_cxcywh",
    "anchor_shapes_wh",
    "build_siam_resnet_backbone",
    "decode_boxes_cxcywh",
    "pysot_to_siamtrack_state_dict",
    "resnet_to_siamtrack_state_dict",
    "score_map_geometry",
    "siamtrack_to_pysot_state_dict",
]
