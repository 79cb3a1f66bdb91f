"""Anchor-free (BAN-style) heads of NanoTrack v1 / v2 / v3 (``SIAM_HEAD_REGISTRY``).

A head follows the ``SiameseHead`` contract (``siamtrack.modeling.contracts``): it maps the
backbone's single feature level, template (B, C, h, w) and search (B, C, H, W), each passed as a
one-element list, to classification logits (B, 2, S, S) (channel 0 background, 1 foreground)
and box distances (B, 4, S, S): for every point of the score map, the distances (left, top,
right, bottom) in search-crop pixels from the point to the box edges, made positive by
``exp``. The template side is split out (``template_kernels``, run once per target) so the
tracker caches it; the kernels are a flat tuple of (B, ...) tensors. Built as ``head(cfg,
input_shape)``: ``input_shape`` holds the one feature's ``ShapeSpec``, whose height and width
(the template feature's) set the pixel-wise correlation's width. NanoTrack heads also give
``score_size(search_feature_size)``. Architectures and where the numbers come from:
``docs/nanotrack.md``.

- ``NanoTrackV1Head``: one pixel-wise correlation of the raw features + channel attention,
  shared by a cls tower (3 separable units, 128 wide) and a box tower (4 units, 96 wide).
- ``NanoTrackV2Head``: a separate pixel-wise correlation (1x1 conv + BN on each side,
  channel attention) per branch, towers of 6 separable units, 96 wide.
- ``NanoTrackV3Head``: per branch a pixel-wise correlation (refined by a 2x2 separable conv to
  15x15) and a depth-wise correlation of the template's 4x4 centre (padding 1, 15x15),
  concatenated and fused by a 1x1 conv; towers of 6 units (dw + BN + ReLU6, pw + BN).
"""

from typing import Dict, List, Sequence, Tuple

import torch
import torch.nn.functional as F
from detectron2.config import configurable
from detectron2.layers import Conv2d, ShapeSpec, get_norm
from torch import nn

from ...errors import ConfigError
from ...modeling.gates import apply_gate, channel_mean
from ...modeling.heads import SIAM_HEAD_REGISTRY
from ...modeling.xcorr import depthwise_xcorr, pixelwise_xcorr

__all__ = [
    "ChannelAttention",
    "SeparableConv",
    "PixelwiseCorrelation",
    "DepthwiseCorrelation",
    "NanoTrackV1Head",
    "NanoTrackV2Head",
    "NanoTrackV3Head",
]

Kernels = Tuple[torch.Tensor, ...]


class ChannelAttention(nn.Module):
    """Gate channels by global context: pool, 1x1 conv, ReLU, 1x1 conv, sigmoid, multiply."""

    def __init__(self, channels: int):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 1)
        self.conv2 = nn.Conv2d(channels, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        gate = torch.sigmoid(self.conv2(F.relu(self.conv1(channel_mean(x)))))
        return apply_gate(x, gate)


class SeparableConv(nn.Module):
    """Depth-wise kxk conv then point-wise 1x1 conv, each optionally with BN and ReLU6.

    Args:
        in_channels, out_channels: widths (the depth-wise conv keeps ``in_channels``).
        kernel_size: depth-wise kernel.
        padding: depth-wise padding (default ``kernel_size // 2``: same size).
        depthwise_norm: BN (+ ReLU6) after the depth-wise conv (v3 style).
        pointwise_activation: ReLU6 after the point-wise BN (v1/v2 style).
        pointwise_bias: bias in the point-wise conv.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        *,
        padding: int = None,
        depthwise_norm: bool = False,
        pointwise_activation: bool = True,
        pointwise_bias: bool = False,
        norm: str = "BN",
    ):
        super().__init__()
        self.depthwise = Conv2d(
            in_channels,
            in_channels,
            kernel_size,
            padding=kernel_size // 2 if padding is None else padding,
            groups=in_channels,
            bias=False,
            norm=get_norm(norm, in_channels) if depthwise_norm else None,
            activation=nn.ReLU6() if depthwise_norm else None,
        )
        self.pointwise = Conv2d(
            in_channels,
            out_channels,
            1,
            bias=pointwise_bias,
            norm=get_norm(norm, out_channels),
            activation=nn.ReLU6() if pointwise_activation else None,
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pointwise(self.depthwise(x))


def _adjust_conv(channels: int, norm: str) -> Conv2d:
    """1x1 conv (with bias) + BN applied to one side before a correlation."""
    return Conv2d(channels, channels, 1, bias=True, norm=get_norm(norm, channels))


class PixelwiseCorrelation(nn.Module):
    """Pixel-wise correlation + channel attention, optionally with 1x1 adjust convs and a
    2x2 separable refinement (v3: S -> S - 1).

    Args:
        in_channels: backbone width C.
        template_positions: h * w of the template feature (the correlation's channels).
        adjust: 1x1 conv + BN on each side before correlating (v2, v3).
        refine: the v3 refinement [dw 2x2 valid, BN, ReLU6, pw with bias, BN].
    """

    def __init__(
        self,
        in_channels: int,
        template_positions: int,
        *,
        adjust: bool,
        refine: bool = False,
        norm: str = "BN",
    ):
        super().__init__()
        self.template_conv = _adjust_conv(in_channels, norm) if adjust else None
        self.search_conv = _adjust_conv(in_channels, norm) if adjust else None
        self.attention = ChannelAttention(template_positions)
        self.refine = (
            SeparableConv(
                template_positions,
                template_positions,
                2,
                padding=0,
                depthwise_norm=True,
                pointwise_activation=False,
                pointwise_bias=True,
                norm=norm,
            )
            if refine
            else None
        )

    def template_kernel(self, template_feature: torch.Tensor) -> torch.Tensor:
        if self.template_conv is None:
            return template_feature
        return self.template_conv(template_feature)

    def forward(self, kernel: torch.Tensor, search_feature: torch.Tensor) -> torch.Tensor:
        search = (
            self.search_conv(search_feature) if self.search_conv is not None else search_feature
        )
        out = self.attention(pixelwise_xcorr(search, kernel))
        return self.refine(out) if self.refine is not None else out


class DepthwiseCorrelation(nn.Module):
    """Depth-wise correlation of the template's centre ``crop_size`` x ``crop_size`` with the
    search map (zero padding ``padding``), both sides through a 1x1 conv + BN (v3)."""

    def __init__(self, in_channels: int, crop_size: int = 4, padding: int = 1, norm: str = "BN"):
        super().__init__()
        self.crop_size = crop_size
        self.padding = padding
        self.template_conv = _adjust_conv(in_channels, norm)
        self.search_conv = _adjust_conv(in_channels, norm)

    def template_kernel(self, template_feature: torch.Tensor) -> torch.Tensor:
        size = template_feature.shape[-1]
        if size > self.crop_size:
            start = (size - self.crop_size) // 2
            end = start + self.crop_size
            template_feature = template_feature[:, :, start:end, start:end]
        return self.template_conv(template_feature)

    def forward(self, kernel: torch.Tensor, search_feature: torch.Tensor) -> torch.Tensor:
        return depthwise_xcorr(self.search_conv(search_feature), kernel, padding=self.padding)

    def output_size(self, search_size: int) -> int:
        return search_size - self.crop_size + 1 + 2 * self.padding


def _tower(units: Sequence[Tuple[int, int, int]], **unit_kwargs) -> nn.Sequential:
    """Separable units from (in_channels, out_channels, kernel_size) triples."""
    return nn.Sequential(*[SeparableConv(i, o, k, **unit_kwargs) for i, o, k in units])


class _PointHead(nn.Module):
    """Shared parts: the contract's methods over one feature level, the predictors and the
    output convention of every NanoTrack head. Subclasses implement ``_template_kernels`` /
    ``_forward_with_kernels`` on the level's tensor."""

    def template_kernels(self, template_features: Sequence[torch.Tensor]) -> Kernels:
        """[(B, C, h, w)] template feature -> flat tuple of kernels."""
        return tuple(self._template_kernels(_single(template_features)))

    def forward_with_kernels(self, kernels: Kernels, search_features: Sequence[torch.Tensor]):
        """Kernels + [(B, C, H, W)] search feature -> (cls logits, box ltrb), (B, 2|4, S, S)."""
        return self._forward_with_kernels(kernels, _single(search_features))

    def forward(
        self, template_features: Sequence[torch.Tensor], search_features: Sequence[torch.Tensor]
    ):
        """Both sides at once (training): ``forward_with_kernels(template_kernels(z), x)``."""
        return self.forward_with_kernels(self.template_kernels(template_features), search_features)

    def _predict(self, cls_features: torch.Tensor, loc_features: torch.Tensor):
        cls_logits = self.cls_predictor(self.cls_tower(cls_features))
        box_ltrb = torch.exp(self.loc_predictor(self.loc_tower(loc_features)))
        return cls_logits, box_ltrb

    @classmethod
    def from_config(cls, cfg, input_shape: Dict[str, ShapeSpec]):
        shape = head_input_shape(input_shape)
        if not shape.height or shape.height != shape.width:
            raise ConfigError(
                f"{cls.__name__} needs the square template feature's size in its input shape "
                f"(ShapeSpec height = width), got {shape}"
            )
        return {
            "in_channels": shape.channels,
            "template_positions": shape.height * shape.width,
            "norm": cfg.MODEL.NANOTRACK.NORM,
        }


def _single(features: Sequence[torch.Tensor]) -> torch.Tensor:
    if len(features) != 1:
        raise ValueError(f"NanoTrack heads read one feature level, got {len(features)}")
    return features[0]


@SIAM_HEAD_REGISTRY.register()
class NanoTrackV1Head(_PointHead):
    """NanoTrack v1 head (97,446 parameters with 48-channel features and an 8x8 template)."""

    @configurable
    def __init__(self, *, in_channels: int, template_positions: int, norm: str = "BN"):
        """
        Args:
            in_channels: backbone width (48).
            template_positions: template feature positions h * w (64).
            norm: normalisation in the towers.
        """
        super().__init__()
        positions = template_positions
        self.correlation = PixelwiseCorrelation(in_channels, positions, adjust=False, norm=norm)
        self.cls_tower = _tower([(positions, 128, 5), (128, 128, 5), (128, 128, 3)], norm=norm)
        self.loc_tower = _tower(
            [(positions, 96, 3), (96, 96, 3), (96, 96, 5), (96, 96, 5)], norm=norm
        )
        self.cls_predictor = nn.Conv2d(128, 2, 1)
        self.loc_predictor = nn.Conv2d(96, 4, 1)

    def _template_kernels(self, template_feature: torch.Tensor) -> Kernels:
        return (self.correlation.template_kernel(template_feature),)

    def _forward_with_kernels(self, kernels: Kernels, search_feature: torch.Tensor):
        correlation = self.correlation(kernels[0], search_feature)
        return self._predict(correlation, correlation)

    def score_size(self, search_feature_size: int) -> int:
        return search_feature_size


@SIAM_HEAD_REGISTRY.register()
class NanoTrackV2Head(_PointHead):
    """NanoTrack v2 head (143,558 parameters with 48-channel features and an 8x8 template)."""

    @configurable
    def __init__(self, *, in_channels: int, template_positions: int, norm: str = "BN"):
        super().__init__()
        positions, width = template_positions, 96
        units = [(positions, width, 3)] + [(width, width, 3)] * 5
        self.cls_correlation = PixelwiseCorrelation(in_channels, positions, adjust=True, norm=norm)
        self.loc_correlation = PixelwiseCorrelation(in_channels, positions, adjust=True, norm=norm)
        self.cls_tower = _tower(units, norm=norm)
        self.loc_tower = _tower(units, norm=norm)
        self.cls_predictor = nn.Conv2d(width, 2, 1)
        self.loc_predictor = nn.Conv2d(width, 4, 1)

    def _template_kernels(self, template_feature: torch.Tensor) -> Kernels:
        return (
            self.cls_correlation.template_kernel(template_feature),
            self.loc_correlation.template_kernel(template_feature),
        )

    def _forward_with_kernels(self, kernels: Kernels, search_feature: torch.Tensor):
        cls_kernel, loc_kernel = kernels
        return self._predict(
            self.cls_correlation(cls_kernel, search_feature),
            self.loc_correlation(loc_kernel, search_feature),
        )

    def score_size(self, search_feature_size: int) -> int:
        return search_feature_size


class _FusedCorrelation(nn.Module):
    """v3 branch input: pixel-wise (refined) and depth-wise correlations, concatenated in that
    order and fused by a 1x1 conv with bias."""

    def __init__(self, in_channels: int, positions: int, out_channels: int, norm: str):
        super().__init__()
        self.pixelwise = PixelwiseCorrelation(
            in_channels, positions, adjust=True, refine=True, norm=norm
        )
        self.depthwise = DepthwiseCorrelation(in_channels, norm=norm)
        self.fuse = nn.Conv2d(positions + in_channels, out_channels, 1)

    def template_kernels(self, template_feature: torch.Tensor) -> List[torch.Tensor]:
        return [
            self.pixelwise.template_kernel(template_feature),
            self.depthwise.template_kernel(template_feature),
        ]

    def forward(self, pixelwise_kernel, depthwise_kernel, search_feature) -> torch.Tensor:
        pixelwise = self.pixelwise(pixelwise_kernel, search_feature)
        depthwise = self.depthwise(depthwise_kernel, search_feature)
        return self.fuse(torch.cat([pixelwise, depthwise], dim=1))


@SIAM_HEAD_REGISTRY.register()
class NanoTrackV3Head(_PointHead):
    """NanoTrack v3 head (259,078 parameters with 96-channel features and an 8x8 template)."""

    @configurable
    def __init__(self, *, in_channels: int, template_positions: int, norm: str = "BN"):
        super().__init__()
        positions, width = template_positions, in_channels
        self.cls_correlation = _FusedCorrelation(in_channels, positions, width, norm)
        self.loc_correlation = _FusedCorrelation(in_channels, positions, width, norm)
        unit = dict(depthwise_norm=True, pointwise_activation=False, norm=norm)
        self.cls_tower = _tower([(width, width, 3)] * 6, **unit)
        self.loc_tower = _tower([(width, width, 3)] * 6, **unit)
        self.cls_predictor = nn.Conv2d(width, 2, 1)
        self.loc_predictor = nn.Conv2d(width, 4, 1)

    def _template_kernels(self, template_feature: torch.Tensor) -> Kernels:
        return tuple(
            self.cls_correlation.template_kernels(template_feature)
            + self.loc_correlation.template_kernels(template_feature)
        )

    def _forward_with_kernels(self, kernels: Kernels, search_feature: torch.Tensor):
        cls_pixel, cls_depth, loc_pixel, loc_depth = kernels
        return self._predict(
            self.cls_correlation(cls_pixel, cls_depth, search_feature),
            self.loc_correlation(loc_pixel, loc_depth, search_feature),
        )

    def score_size(self, search_feature_size: int) -> int:
        pixelwise = search_feature_size - 1  # the 2x2 valid refinement
        depthwise = self.cls_correlation.depthwise.output_size(search_feature_size)
        if pixelwise != depthwise:
            raise ValueError(
                f"NanoTrackV3Head: pixel-wise ({pixelwise}) and depth-wise ({depthwise}) maps "
                f"differ for a {search_feature_size}x{search_feature_size} search feature"
            )
        return pixelwise


def head_input_shape(shapes: Dict[str, ShapeSpec]) -> ShapeSpec:
    """The single backbone output an anchor-free head reads."""
    if len(shapes) != 1:
        raise ConfigError(
            f"anchor-free heads read one backbone feature, the backbone gives {sorted(shapes)}"
        )
    return next(iter(shapes.values()))
