"""Truncated MobileNetV3-Small (total stride 16), NanoTrack's backbone, as a detectron2 backbone.

The network is the stem and the first ``NUM_BLOCKS`` inverted-residual ("bneck") blocks of
MobileNetV3-Small (Howard et al., "Searching for MobileNetV3", ICCV 2019, table 2), without the
final 1x1 conv, pooling and classifier. NanoTrack v1/v2 keep 8 blocks (48 channels out), v3
keeps 9 (96 channels) and runs block 9 with stride 1 so that the total stride stays 16
(``MODEL.MOBILENET_V3.MAX_STRIDE``: a block that would exceed it keeps stride 1). Feature
sizes: 127 -> 8x8, 255 -> 16x16 (``feature_size``). See ``docs/nanotrack.md``.

Children: ``stem`` (3x3 conv stride 2, BN, h-swish) and ``block1`` ... ``blockN``, so freezing
and training by stage name (``MODEL.BACKBONE.TRAIN_STAGES``) works as for the ResNets.
"""

from typing import List, NamedTuple, Optional

import torch
import torch.nn.functional as F
from detectron2.layers import Conv2d, ShapeSpec, get_norm
from detectron2.modeling import BACKBONE_REGISTRY, Backbone
from torch import nn

from ...errors import ConfigError
from ...modeling.gates import apply_gate, channel_mean, hardswish_after_gate, linear_on_channels

__all__ = [
    "BlockSpec",
    "MOBILENET_V3_SMALL_BLOCKS",
    "InvertedResidual",
    "MobileNetV3Small",
    "SqueezeExcite",
    "build_mobilenet_v3_backbone",
    "make_divisible",
]


class BlockSpec(NamedTuple):
    """One bneck block: kernel size, expansion width, output width, squeeze-excite, h-swish
    (else ReLU), stride."""

    kernel_size: int
    expansion: int
    out_channels: int
    squeeze_excite: bool
    hard_swish: bool
    stride: int


# MobileNetV3-Small, width multiplier 1.0 (the paper's table 2). The expansion widths are
# before rounding to multiples of 8 (88 -> 88, 72 -> 72 ...).
MOBILENET_V3_SMALL_BLOCKS = (
    BlockSpec(3, 16, 16, True, False, 2),
    BlockSpec(3, 72, 24, False, False, 2),
    BlockSpec(3, 88, 24, False, False, 1),
    BlockSpec(5, 96, 40, True, True, 2),
    BlockSpec(5, 240, 40, True, True, 1),
    BlockSpec(5, 240, 40, True, True, 1),
    BlockSpec(5, 120, 48, True, True, 1),
    BlockSpec(5, 144, 48, True, True, 1),
    BlockSpec(5, 288, 96, True, True, 2),
    BlockSpec(5, 576, 96, True, True, 1),
    BlockSpec(5, 576, 96, True, True, 1),
)
STEM_CHANNELS = 16


def make_divisible(value: float, divisor: int = 8) -> int:
    """Round a channel count to a multiple of ``divisor`` without losing more than 10 %."""
    rounded = max(divisor, int(value + divisor / 2) // divisor * divisor)
    return rounded + divisor if rounded < 0.9 * value else rounded


class SqueezeExcite(nn.Module):
    """Channel gate: global average pool, Linear C->R, ReLU, Linear R->C, hard-sigmoid."""

    def __init__(self, channels: int, reduced_channels: int):
        super().__init__()
        self.reduce = nn.Linear(channels, reduced_channels)
        self.expand = nn.Linear(reduced_channels, channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        gate = F.relu(linear_on_channels(channel_mean(x), self.reduce))
        return apply_gate(x, F.hardsigmoid(linear_on_channels(gate, self.expand)))


class InvertedResidual(nn.Module):
    """MobileNetV3 bneck block (Conv2d modules carry their BatchNorm as ``.norm``).

    With an expansion (hidden width != input width): ``expand`` 1x1 + BN + act, ``depthwise``
    kxk + BN, squeeze-excite, act, ``project`` 1x1 + BN. Without one (block 1): ``depthwise``
    kxk + BN + act, squeeze-excite, ``project`` 1x1 + BN. (The activation sits after the gate
    in the first form and before it in the second, as in the reference implementation whose
    weights NanoTrack trained.) A residual connection is added when the stride is 1 and the
    widths match; there is no activation after ``project``.
    """

    def __init__(self, in_channels: int, spec: BlockSpec, stride: int, norm: str = "BN"):
        super().__init__()
        hidden = make_divisible(spec.expansion)
        out_channels = make_divisible(spec.out_channels)
        self.activation = nn.Hardswish() if spec.hard_swish else nn.ReLU()
        self.has_expansion = hidden != in_channels
        self.expand = (
            Conv2d(in_channels, hidden, 1, bias=False, norm=get_norm(norm, hidden))
            if self.has_expansion
            else None
        )
        self.depthwise = Conv2d(
            hidden,
            hidden,
            spec.kernel_size,
            stride=stride,
            padding=(spec.kernel_size - 1) // 2,
            groups=hidden,
            bias=False,
            norm=get_norm(norm, hidden),
        )
        self.squeeze_excite = (
            SqueezeExcite(hidden, make_divisible(hidden // 4)) if spec.squeeze_excite else None
        )
        self.project = Conv2d(
            hidden, out_channels, 1, bias=False, norm=get_norm(norm, out_channels)
        )
        self.use_residual = stride == 1 and in_channels == out_channels
        self.stride = stride
        self.kernel_size = spec.kernel_size

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = x
        if self.expand is not None:
            y = self.activation(self.expand(y))
        y = self.depthwise(y)
        if self.has_expansion:
            y = self._activation_after_gate(self._gate(y))
        else:
            y = self._gate(self.activation(y))
        y = self.project(y)
        return x + y if self.use_residual else y

    def _gate(self, y: torch.Tensor) -> torch.Tensor:
        return self.squeeze_excite(y) if self.squeeze_excite is not None else y

    def _activation_after_gate(self, y: torch.Tensor) -> torch.Tensor:
        if self.squeeze_excite is not None and isinstance(self.activation, nn.Hardswish):
            return hardswish_after_gate(y)  # its export form: no conv precedes it
        return self.activation(y)


class MobileNetV3Small(Backbone):
    """Stem + the first ``len(blocks)`` MobileNetV3-Small blocks; one output feature."""

    def __init__(self, block_specs: List[BlockSpec], *, max_stride: int = 16, norm: str = "BN"):
        """
        Args:
            block_specs: the blocks to keep, in order (a prefix of
                ``MOBILENET_V3_SMALL_BLOCKS``).
            max_stride: total stride cap; a block whose stride would exceed it uses stride 1.
            norm: normalisation of every conv.
        """
        super().__init__()
        if not block_specs:
            raise ValueError("MobileNetV3Small needs at least one block")
        self.stem = Conv2d(
            3,
            STEM_CHANNELS,
            3,
            stride=2,
            padding=1,
            bias=False,
            norm=get_norm(norm, STEM_CHANNELS),
            activation=nn.Hardswish(),
        )
        self._convs = [(3, 2)]  # (kernel, stride) of every conv that changes the grid
        channels, stride = STEM_CHANNELS, 2
        for index, spec in enumerate(block_specs, start=1):
            block_stride = spec.stride if stride * spec.stride <= max_stride else 1
            block = InvertedResidual(channels, spec, block_stride, norm)
            self.add_module(f"block{index}", block)
            if block_stride != 1:
                self._convs.append((spec.kernel_size, block_stride))
            channels, stride = make_divisible(spec.out_channels), stride * block_stride
        self.stage_names = ["stem"] + [f"block{i}" for i in range(1, len(block_specs) + 1)]
        self._out_feature = self.stage_names[-1]
        self._out_features = [self._out_feature]
        self._out_feature_channels = {self._out_feature: channels}
        self._out_feature_strides = {self._out_feature: stride}

    def forward(self, x: torch.Tensor):
        for name in self.stage_names:
            x = getattr(self, name)(x)
        return {self._out_feature: x}

    def output_shape(self):
        name = self._out_feature
        return {
            name: ShapeSpec(
                channels=self._out_feature_channels[name], stride=self._out_feature_strides[name]
            )
        }

    def feature_size(self, input_size: int) -> int:
        """Side of the output feature map for a square input of side ``input_size``."""
        size = int(input_size)
        for kernel, stride in self._convs:
            size = (size + 2 * ((kernel - 1) // 2) - kernel) // stride + 1
        return size


def _block_specs(num_blocks: int) -> List[BlockSpec]:
    if not 1 <= num_blocks <= len(MOBILENET_V3_SMALL_BLOCKS):
        raise ConfigError(
            f"MODEL.MOBILENET_V3.NUM_BLOCKS must be in [1, {len(MOBILENET_V3_SMALL_BLOCKS)}], "
            f"got {num_blocks}"
        )
    return list(MOBILENET_V3_SMALL_BLOCKS[:num_blocks])


@BACKBONE_REGISTRY.register()
def build_mobilenet_v3_backbone(cfg, input_shape: Optional[ShapeSpec] = None) -> MobileNetV3Small:
    """Truncated MobileNetV3-Small from ``MODEL.MOBILENET_V3.*`` (NUM_BLOCKS, MAX_STRIDE, NORM)."""
    if input_shape is not None and input_shape.channels not in (None, 3):
        raise ValueError(f"MobileNetV3Small takes 3-channel images, got {input_shape.channels}")
    mobilenet = cfg.MODEL.MOBILENET_V3
    return MobileNetV3Small(
        _block_specs(mobilenet.NUM_BLOCKS), max_stride=mobilenet.MAX_STRIDE, norm=mobilenet.NORM
    )
