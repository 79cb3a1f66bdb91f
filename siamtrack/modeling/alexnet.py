"""AlexNet for Siamese trackers (SiamFC, SiamRPN) as a detectron2 backbone.

The layout of pysot's ``pysot/models/backbone/alexnet.py`` (``AlexNetLegacy`` / ``AlexNet``) and
of SiamFC's: five unpadded convolutions, each with a bias and followed by a norm,

    conv1 11x11 stride 2 -> ReLU -> max-pool 3x3 stride 2
    conv2  5x5           -> ReLU -> max-pool 3x3 stride 2
    conv3  3x3           -> ReLU
    conv4  3x3           -> ReLU
    conv5  3x3           (no ReLU)

with widths ``[96, 256, 384, 384, 256]`` times a width multiplier (pysot's rounding:
``int(c * width_mult)``). ``groups`` gives each conv's groups (SiamFC's original network uses
``[1, 2, 1, 2, 2]``); ``last_norm=False`` drops conv5's norm (SiamFC). pysot applies its
max-pools between norm and ReLU; ReLU and max-pooling commute exactly, so the outputs are the
same.

Stages (children, usable in ``MODEL.BACKBONE.TRAIN_STAGES`` / ``FREEZE_AT``) are ``conv1`` ...
``conv5``, each a detectron2 ``Conv2d`` with a ``norm`` child (so ``fold_batchnorm`` folds
them); stage ``convN``'s output includes its pool. Output strides: conv1 4, conv2 ... conv5 8.

Geometry (``feature_grid``): an input of side ``8n + 7`` gives ``(n - 9) x (n - 9)`` conv5
features whose grid is centred on the input centre (127 -> 6x6, 255 -> 22x22, 287 -> 26x26);
cell ``i`` of conv5 sees the input centred at continuous coordinate ``43.5 + 8 i``.

Config: ``MODEL.ALEXNET`` (``add_alexnet_config``), built by ``build_alexnet_backbone``
(``MODEL.BACKBONE.NAME``).
"""

from typing import Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from detectron2.config import CfgNode as CN
from detectron2.layers import Conv2d, FrozenBatchNorm2d, ShapeSpec, get_norm
from detectron2.modeling import BACKBONE_REGISTRY, Backbone

from ..config import register_config_adder
from ..errors import ConfigError

__all__ = [
    "ALEXNET_CHANNELS",
    "ALEXNET_STAGES",
    "AlexNet",
    "add_alexnet_config",
    "alexnet_channels",
    "build_alexnet_backbone",
]

#: Output channels of conv1 ... conv5 at width multiplier 1 (pysot's and SiamFC's).
ALEXNET_CHANNELS: Tuple[int, ...] = (96, 256, 384, 384, 256)
#: Stage (child) names, in order.
ALEXNET_STAGES: Tuple[str, ...] = ("conv1", "conv2", "conv3", "conv4", "conv5")
# (kernel, stride) of each conv, and whether a 3x3 stride-2 max-pool follows it.
_CONV_SPECS = ((11, 2, True), (5, 1, True), (3, 1, False), (3, 1, False), (3, 1, False))
_POOL_KERNEL, _POOL_STRIDE = 3, 2


def alexnet_channels(
    channels: Sequence[int] = ALEXNET_CHANNELS, width_mult: float = 1.0
) -> List[int]:
    """Widths of conv1 ... conv5 for a width multiplier, rounded as pysot does
    (``int(c * width_mult)``)."""
    return [int(c * width_mult) for c in channels]


class AlexNet(Backbone):
    """AlexNet with a norm after every conv (see the module docstring).

    Attributes:
        stage_names (list[str]): ``conv1`` ... ``conv5``.
        layout (str): ``"alexnet"`` (for messages about crop sizes).
    """

    layout = "alexnet"

    def __init__(
        self,
        *,
        channels: Sequence[int] = ALEXNET_CHANNELS,
        width_mult: float = 1.0,
        groups: Sequence[int] = (1, 1, 1, 1, 1),
        norm: str = "BN",
        last_norm: bool = True,
        out_features: Sequence[str] = ("conv5",),
        in_channels: int = 3,
        freeze_at: int = 0,
    ):
        """
        Args:
            channels: output channels of conv1 ... conv5 at width multiplier 1.
            width_mult: multiplier of every width (``int(c * width_mult)``).
            groups: groups of conv1 ... conv5 (each must divide the conv's input and output
                channels).
            norm: norm after each conv (detectron2 ``get_norm`` name: "BN", "SyncBN",
                "FrozenBN", "GN", ...; "" for none).
            last_norm: False leaves conv5 without a norm (SiamFC).
            out_features: stages whose outputs ``forward`` returns (any of conv1 ... conv5).
            in_channels: image channels.
            freeze_at: freeze the first ``freeze_at`` stages (no gradients, FrozenBatchNorm),
                as detectron2's ``ResNet.freeze``.
        """
        super().__init__()
        widths = alexnet_channels(channels, width_mult)
        if len(widths) != 5 or len(groups) != 5:
            raise ConfigError(
                f"AlexNet needs 5 channel counts and 5 group counts, got {list(channels)} and "
                f"{list(groups)}"
            )
        unknown = [name for name in out_features if name not in ALEXNET_STAGES]
        if unknown or not out_features:
            raise ConfigError(
                f"AlexNet out_features {list(out_features)}: choose among {list(ALEXNET_STAGES)}"
            )
        self.stage_names = list(ALEXNET_STAGES)
        self._pool_after = set()
        self._grid_ops: List[Tuple[int, int]] = []  # (kernel, stride) of every op, in order
        self._stage_grid_ops: Dict[str, int] = {}  # stage -> number of grid ops up to its end
        self._out_feature_channels, self._out_feature_strides = {}, {}
        cin, stride = in_channels, 1
        for index, (name, cout, group, (kernel, conv_stride, pool)) in enumerate(
            zip(ALEXNET_STAGES, widths, groups, _CONV_SPECS)
        ):
            if cout < 1 or group < 1 or cin % group or cout % group:
                raise ConfigError(
                    f"AlexNet {name}: {cin} -> {cout} channels cannot use groups={group} "
                    f"(widths {widths} from channels {list(channels)} x {width_mult})"
                )
            last = index == len(ALEXNET_STAGES) - 1
            use_norm = norm and (last_norm or not last)
            conv = Conv2d(
                cin,
                cout,
                kernel_size=kernel,
                stride=conv_stride,
                groups=group,
                bias=True,
                norm=get_norm(norm, cout) if use_norm else None,
                activation=None if last else F.relu,
            )
            self.add_module(name, conv)
            self._grid_ops.append((kernel, conv_stride))
            stride *= conv_stride
            if pool:
                self._pool_after.add(name)
                self._grid_ops.append((_POOL_KERNEL, _POOL_STRIDE))
                stride *= _POOL_STRIDE
            self._stage_grid_ops[name] = len(self._grid_ops)
            self._out_feature_channels[name] = cout
            self._out_feature_strides[name] = stride
            cin = cout
        self._out_features = [name for name in ALEXNET_STAGES if name in out_features]
        self.freeze(freeze_at)

    def forward(self, x: torch.Tensor) -> Dict[str, torch.Tensor]:
        """(B, C, H, W) images -> ``{stage name: (B, C_l, h, w)}`` for ``out_features``."""
        outputs = {}
        for name in self.stage_names:
            x = getattr(self, name)(x)
            if name in self._pool_after:
                x = F.max_pool2d(x, kernel_size=_POOL_KERNEL, stride=_POOL_STRIDE)
            if name in self._out_features:
                outputs[name] = x
            if name == self._out_features[-1]:
                break
        return outputs

    def output_shape(self) -> Dict[str, ShapeSpec]:
        return {
            name: ShapeSpec(
                channels=self._out_feature_channels[name], stride=self._out_feature_strides[name]
            )
            for name in self._out_features
        }

    def freeze(self, freeze_at: int = 0) -> "AlexNet":
        """Freeze the first ``freeze_at`` stages: no gradients, BatchNorm -> FrozenBatchNorm2d."""
        for name in self.stage_names[:freeze_at]:
            stage = getattr(self, name)
            for param in stage.parameters():
                param.requires_grad_(False)
            setattr(self, name, FrozenBatchNorm2d.convert_frozen_batchnorm(stage))
        return self

    def feature_grid(
        self, input_size: int, feature: Optional[str] = None
    ) -> Tuple[int, float, int]:
        """Geometry of an output level (the deepest by default) for a square input.

        Returns:
            (size, first_center, stride): the map is ``size x size``; cell ``i`` is centred on
            continuous input coordinate ``first_center + stride * i`` (pixel ``j`` covers
            ``[j, j + 1)``).
        """
        name = feature or self._out_features[-1]
        size, center, step = int(input_size), 0.5, 1
        for kernel, stride in self._grid_ops[: self._stage_grid_ops[name]]:
            size = (size - kernel) // stride + 1
            center += step * (kernel - 1) / 2.0
            step *= stride
        return size, center, step

    def feature_size(self, input_size: int, feature: Optional[str] = None) -> int:
        """Side of an output level's map (the deepest by default) for a square input."""
        return self.feature_grid(input_size, feature)[0]


@register_config_adder
def add_alexnet_config(cfg: CN) -> None:
    """Add ``MODEL.ALEXNET`` (the AlexNet backbone's keys) in place."""
    if getattr(cfg.MODEL, "ALEXNET", None) is not None:
        return
    cfg.MODEL.ALEXNET = CN()
    # Output channels of conv1 ... conv5 at width multiplier 1 (pysot / SiamFC).
    cfg.MODEL.ALEXNET.CHANNELS = list(ALEXNET_CHANNELS)
    # Every width times WIDTH_MULT, rounded down (pysot's width_mult).
    cfg.MODEL.ALEXNET.WIDTH_MULT = 1.0
    # Groups of conv1 ... conv5 (pysot: all 1; SiamFC's original network: [1, 2, 1, 2, 2]).
    cfg.MODEL.ALEXNET.GROUPS = [1, 1, 1, 1, 1]
    # Norm after each conv ("BN", "SyncBN", "FrozenBN", "GN", "" for none).
    cfg.MODEL.ALEXNET.NORM = "BN"
    # False: conv5 has no norm (SiamFC); pysot's AlexNet has one.
    cfg.MODEL.ALEXNET.LAST_NORM = True
    # Stages returned by the backbone (conv1 ... conv5).
    cfg.MODEL.ALEXNET.OUT_FEATURES = ["conv5"]


@BACKBONE_REGISTRY.register()
def build_alexnet_backbone(cfg, input_shape: Optional[ShapeSpec] = None) -> AlexNet:
    """AlexNet from ``MODEL.ALEXNET.*`` (and ``MODEL.BACKBONE.FREEZE_AT``)."""
    alexnet = cfg.MODEL.ALEXNET
    in_channels = 3
    if input_shape is not None and input_shape.channels is not None:
        in_channels = input_shape.channels
    return AlexNet(
        channels=list(alexnet.CHANNELS),
        width_mult=alexnet.WIDTH_MULT,
        groups=list(alexnet.GROUPS),
        norm=alexnet.NORM,
        last_norm=alexnet.LAST_NORM,
        out_features=list(alexnet.OUT_FEATURES),
        in_channels=in_channels,
        freeze_at=cfg.MODEL.BACKBONE.FREEZE_AT,
    )
