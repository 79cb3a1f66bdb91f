"""Residual blocks that detectron2's ResNet blocks cannot express.

detectron2's ``BottleneckBlock`` pads its 3x3 conv by its dilation and always uses a 1x1
projection shortcut, and its ``BasicBlock`` has no dilation. SiamRPN++'s dilated ResNet needs:

- ``ProjectionBottleneckBlock``: a bottleneck whose 3x3 conv padding and whose projection
  shortcut (kernel size, dilation, padding) are given explicitly. pysot's ``resnet_atrous``
  uses it as the first block of res3-res5: stride 2 with padding 0 and a 3x3 stride-2
  shortcut with padding 0 (res3), or a 3x3 shortcut with dilation d/2 (res4, res5).
- ``DilatedBasicBlock``: the two-3x3-conv block of ResNet-18/34 with dilation, for the
  stride-8 R-18/34 variants of both layouts.
- ``PysotStem``: 7x7 stride-2 conv with **padding 0** + BN + ReLU + 3x3 stride-2 max-pool.

Child names follow detectron2 (``conv1``, ``conv2``, ``conv3``, ``shortcut``; norm layers as
``<conv>.norm``) so checkpoints convert by renaming only.
"""

from typing import Optional

import fvcore.nn.weight_init as weight_init
import torch
import torch.nn.functional as F
from detectron2.layers import CNNBlockBase, Conv2d, get_norm

__all__ = ["ProjectionBottleneckBlock", "DilatedBasicBlock", "PysotStem"]


def _projection(
    in_channels: int,
    out_channels: int,
    *,
    kernel_size: int,
    stride: int,
    dilation: int,
    padding: int,
    norm: str,
) -> Conv2d:
    return Conv2d(
        in_channels,
        out_channels,
        kernel_size=kernel_size,
        stride=stride,
        padding=padding,
        dilation=dilation,
        bias=False,
        norm=get_norm(norm, out_channels),
    )


class ProjectionBottleneckBlock(CNNBlockBase):
    """Bottleneck (1x1 -> 3x3 -> 1x1, stride on the 3x3) with an explicit projection shortcut.

    Input (N, in_channels, H, W) -> output (N, out_channels, H', W') with
    ``H' = (H + 2 * padding - 2 * dilation - 1) // stride + 1`` (the shortcut must give the
    same size; the constructor does not check it, the forward's add does).
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        *,
        bottleneck_channels: int,
        stride: int = 1,
        dilation: int = 1,
        padding: int = 1,
        shortcut_kernel_size: int = 3,
        shortcut_dilation: int = 1,
        shortcut_padding: int = 1,
        norm: str = "BN",
    ):
        """
        Args:
            in_channels, out_channels, bottleneck_channels: channel counts.
            stride: stride of the 3x3 conv and of the shortcut.
            dilation, padding: of the 3x3 conv.
            shortcut_kernel_size, shortcut_dilation, shortcut_padding: of the projection conv.
            norm: normalization after every conv (see ``detectron2.layers.get_norm``).
        """
        super().__init__(in_channels, out_channels, stride)
        self.shortcut = _projection(
            in_channels,
            out_channels,
            kernel_size=shortcut_kernel_size,
            stride=stride,
            dilation=shortcut_dilation,
            padding=shortcut_padding,
            norm=norm,
        )
        self.conv1 = Conv2d(
            in_channels,
            bottleneck_channels,
            kernel_size=1,
            bias=False,
            norm=get_norm(norm, bottleneck_channels),
        )
        self.conv2 = Conv2d(
            bottleneck_channels,
            bottleneck_channels,
            kernel_size=3,
            stride=stride,
            padding=padding,
            dilation=dilation,
            bias=False,
            norm=get_norm(norm, bottleneck_channels),
        )
        self.conv3 = Conv2d(
            bottleneck_channels,
            out_channels,
            kernel_size=1,
            bias=False,
            norm=get_norm(norm, out_channels),
        )
        for layer in (self.conv1, self.conv2, self.conv3, self.shortcut):
            weight_init.c2_msra_fill(layer)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu_(self.conv1(x))
        out = F.relu_(self.conv2(out))
        out = self.conv3(out)
        out += self.shortcut(x)
        return F.relu_(out)


class DilatedBasicBlock(CNNBlockBase):
    """ResNet-18/34 block (3x3 conv -> 3x3 conv) with dilation and configurable padding.

    ``conv1`` has the stride, ``conv1_dilation`` and ``conv1_padding``; ``conv2`` has
    ``dilation`` and padding ``dilation`` (size-preserving). A projection shortcut is built
    when the stride is not 1 or the channel count changes.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        *,
        stride: int = 1,
        dilation: int = 1,
        conv1_dilation: Optional[int] = None,
        conv1_padding: Optional[int] = None,
        shortcut_kernel_size: int = 1,
        shortcut_dilation: int = 1,
        shortcut_padding: int = 0,
        norm: str = "BN",
    ):
        """
        Args:
            in_channels, out_channels: channel counts.
            stride: stride of conv1 and of the shortcut.
            dilation: dilation (and padding) of conv2.
            conv1_dilation, conv1_padding: of conv1 (default: ``dilation`` for both).
            shortcut_kernel_size, shortcut_dilation, shortcut_padding: of the projection.
            norm: normalization after every conv.
        """
        super().__init__(in_channels, out_channels, stride)
        conv1_dilation = dilation if conv1_dilation is None else conv1_dilation
        conv1_padding = conv1_dilation if conv1_padding is None else conv1_padding
        if stride != 1 or in_channels != out_channels:
            self.shortcut = _projection(
                in_channels,
                out_channels,
                kernel_size=shortcut_kernel_size,
                stride=stride,
                dilation=shortcut_dilation,
                padding=shortcut_padding,
                norm=norm,
            )
        else:
            self.shortcut = None
        self.conv1 = Conv2d(
            in_channels,
            out_channels,
            kernel_size=3,
            stride=stride,
            padding=conv1_padding,
            dilation=conv1_dilation,
            bias=False,
            norm=get_norm(norm, out_channels),
        )
        self.conv2 = Conv2d(
            out_channels,
            out_channels,
            kernel_size=3,
            padding=dilation,
            dilation=dilation,
            bias=False,
            norm=get_norm(norm, out_channels),
        )
        for layer in (self.conv1, self.conv2, self.shortcut):
            if layer is not None:
                weight_init.c2_msra_fill(layer)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu_(self.conv1(x))
        out = self.conv2(out)
        out += x if self.shortcut is None else self.shortcut(x)
        return F.relu_(out)


class PysotStem(CNNBlockBase):
    """pysot's stem: 7x7 stride-2 conv with padding 0 + norm + ReLU + 3x3/2 max-pool (pad 1).

    (N, C, H, W) -> (N, out_channels, ((H - 7) // 2 + 1 - 1) // 2 + 1, ...): 127 -> 31, 255 -> 63.
    """

    def __init__(self, in_channels: int = 3, out_channels: int = 64, norm: str = "BN"):
        super().__init__(in_channels, out_channels, 4)
        self.conv1 = Conv2d(
            in_channels,
            out_channels,
            kernel_size=7,
            stride=2,
            padding=0,
            bias=False,
            norm=get_norm(norm, out_channels),
        )
        weight_init.c2_msra_fill(self.conv1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu_(self.conv1(x))
        return F.max_pool2d(x, kernel_size=3, stride=2, padding=1)
