"""Neck: per-level 1x1 conv + BN to a common width, centre crop of template features
(``docs/siamrpnpp.md#network``).

pysot's ``AdjustAllLayer`` crops the central 7x7 of a feature map whenever it is narrower than
20 cells; here the crop is applied to the template branch only (same result for 127/255 crops,
and no surprise when a search crop is small).
"""

from typing import Dict, List

import torch
from detectron2.layers import Conv2d, ShapeSpec, get_norm
from torch import nn

from ...errors import ConfigError

__all__ = ["SiamNeck"]


class SiamNeck(nn.Module):
    """Adjust each backbone level to ``out_channels`` (1x1 conv without bias + norm, no ReLU).

    Child modules: ``adjust.<feature name>``. ``out_channels`` 0 keeps the backbone's features
    as they are (no adjust layer, pysot's ``ADJUST: False``, as for AlexNet); every level then
    needs the same width.
    """

    def __init__(
        self,
        input_shapes: Dict[str, ShapeSpec],
        in_features: List[str],
        *,
        out_channels: int = 256,
        template_crop_size: int = 7,
        norm: str = "BN",
    ):
        """
        Args:
            input_shapes: backbone output shapes (channels are read from them).
            in_features: levels to adjust, in output order.
            out_channels: width of every adjusted level (0: no adjust layer, identity).
            template_crop_size: side of the centre crop of template features (0: no crop).
            norm: normalization after the 1x1 conv.
        """
        super().__init__()
        missing = [f for f in in_features if f not in input_shapes]
        if missing:
            raise ConfigError(
                f"MODEL.SIAM_RPN.IN_FEATURES {missing} are not backbone outputs "
                f"{sorted(input_shapes)}: add them to the backbone's OUT_FEATURES "
                "(MODEL.RESNETS.OUT_FEATURES, MODEL.ALEXNET.OUT_FEATURES)"
            )
        self.in_features = list(in_features)
        self.template_crop_size = template_crop_size
        if out_channels <= 0:
            widths = sorted({input_shapes[name].channels for name in self.in_features})
            if len(widths) != 1:
                raise ConfigError(
                    f"MODEL.SIAM_NECK.OUT_CHANNELS 0 (no adjust layer) needs levels of one "
                    f"width, got {widths} for {self.in_features}"
                )
            self.out_channels = widths[0]
            self.adjust = nn.ModuleDict({name: nn.Identity() for name in self.in_features})
            return
        self.out_channels = out_channels
        self.adjust = nn.ModuleDict(
            {
                name: Conv2d(
                    input_shapes[name].channels,
                    out_channels,
                    kernel_size=1,
                    bias=False,
                    norm=get_norm(norm, out_channels),
                )
                for name in self.in_features
            }
        )

    def crop_start(self, size: int) -> int:
        """First kept cell of the template centre crop for a ``size``-cell map (0: no crop)."""
        if self.template_crop_size <= 0 or size <= self.template_crop_size:
            return 0
        return (size - self.template_crop_size) // 2

    def forward(self, features: Dict[str, torch.Tensor], is_template: bool) -> List[torch.Tensor]:
        """
        Args:
            features: backbone outputs, each (B, C_l, H, W).
            is_template: crop the centre ``template_crop_size`` cells (template branch).

        Returns:
            list of (B, out_channels, H', W'), one per ``in_features`` entry.
        """
        outputs = []
        for name in self.in_features:
            x = self.adjust[name](features[name])
            if is_template:
                start = self.crop_start(x.shape[-1])
                if start:
                    end = start + self.template_crop_size
                    x = x[:, :, start:end, start:end]
            outputs.append(x)
        return outputs
