"""Depthwise cross-correlation RPN head of SiamRPN++ (``docs/siamrpnpp.md#network``).

``MultiLevelDepthwiseRPNHead`` follows the ``SiameseHead`` contract
(``siamtrack.modeling.contracts``) and is registered in ``SIAM_HEAD_REGISTRY``: it maps
template features and search features (lists, one tensor per level, all with the neck's width)
to classification logits (B, 2A, H, W) and box deltas (B, 4A, H, W), in pysot's channel
layout: cls channel ``k * A + a`` (k = 0 background, 1 foreground), loc channel ``c * A + a``
(c = dx, dy, dw, dh). The template side is split out (``template_kernels``: the cls kernels
of every level, then the loc kernels, one flat tuple) so the tracker computes it once per
target and reuses it every frame.
"""

from typing import Dict, List, Sequence, Tuple

import torch
import torch.nn.functional as F
from detectron2.config import configurable
from detectron2.layers import Conv2d, ShapeSpec, get_norm
from torch import nn

from ...errors import ConfigError
from ...modeling.heads import SIAM_HEAD_REGISTRY
from ...modeling.xcorr import depthwise_xcorr

__all__ = ["DepthwiseXCorrBranch", "DepthwiseRPN", "MultiLevelDepthwiseRPNHead"]

Kernels = Tuple[torch.Tensor, ...]


class DepthwiseXCorrBranch(nn.Module):
    """One prediction branch (cls or loc) of a level: pysot's ``DepthwiseXCorr``.

    template_conv: 3x3 conv (no padding, no bias) + norm + ReLU on template features;
    search_conv: the same on search features (separate weights);
    depthwise xcorr; head_conv: 1x1 conv + norm + ReLU; predictor: 1x1 conv with bias.
    Template (B, C, 7, 7) -> kernel (B, hidden, 5, 5); search (B, C, 31, 31) -> (B, hidden,
    29, 29) -> correlation (B, hidden, 25, 25) -> output (B, out_channels, 25, 25).
    """

    def __init__(self, in_channels: int, hidden_channels: int, out_channels: int, norm="BN"):
        super().__init__()

        def conv_norm_relu(cin: int, cout: int, kernel_size: int) -> Conv2d:
            return Conv2d(
                cin, cout, kernel_size, bias=False, norm=get_norm(norm, cout), activation=F.relu
            )

        self.template_conv = conv_norm_relu(in_channels, hidden_channels, 3)
        self.search_conv = conv_norm_relu(in_channels, hidden_channels, 3)
        self.head_conv = conv_norm_relu(hidden_channels, hidden_channels, 1)
        self.predictor = nn.Conv2d(hidden_channels, out_channels, kernel_size=1)

    def template_kernel(self, template_feature: torch.Tensor) -> torch.Tensor:
        """(B, C, h, w) template features -> (B, hidden, h - 2, w - 2) correlation kernel."""
        return self.template_conv(template_feature)

    def forward_with_kernel(self, kernel: torch.Tensor, search_feature: torch.Tensor):
        """kernel (B or 1, hidden, k, k), search (B, C, H, W) -> (B, out, H - 1 - k, W - 1 - k)."""
        correlation = depthwise_xcorr(self.search_conv(search_feature), kernel)
        return self.predictor(self.head_conv(correlation))


class DepthwiseRPN(nn.Module):
    """The cls (2A outputs) and loc (4A outputs) branches of one level."""

    def __init__(self, in_channels: int, hidden_channels: int, num_anchors: int, norm="BN"):
        super().__init__()
        self.cls = DepthwiseXCorrBranch(in_channels, hidden_channels, 2 * num_anchors, norm)
        self.loc = DepthwiseXCorrBranch(in_channels, hidden_channels, 4 * num_anchors, norm)


@SIAM_HEAD_REGISTRY.register()
class MultiLevelDepthwiseRPNHead(nn.Module):
    """One ``DepthwiseRPN`` per level, fused by learned softmax weights (pysot ``MultiRPN``).

    Child modules: ``levels.<feature name>.{cls,loc}``; parameters ``cls_fusion_weights`` and
    ``loc_fusion_weights`` (one per level, initialised to 1 -> plain mean at start) exist when
    ``weighted_fusion`` is on and there is more than one level; otherwise levels are averaged.
    """

    @configurable
    def __init__(
        self,
        *,
        in_features: Sequence[str],
        in_channels: int,
        hidden_channels: int,
        num_anchors: int,
        weighted_fusion: bool = True,
        norm: str = "BN",
    ):
        """
        Args:
            in_features: level names, in the order the feature lists are given.
            in_channels: width of every level's template/search features.
            hidden_channels: width of the 3x3 and hidden 1x1 convs.
            num_anchors: A, anchors per score-map cell.
            weighted_fusion: learned softmax fusion weights (else plain mean).
            norm: normalization used after each hidden conv.
        """
        super().__init__()
        self.in_features = list(in_features)
        self.num_anchors = num_anchors
        self.levels = nn.ModuleDict(
            {
                name: DepthwiseRPN(in_channels, hidden_channels, num_anchors, norm)
                for name in self.in_features
            }
        )
        self.weighted_fusion = bool(weighted_fusion) and len(self.in_features) > 1
        if self.weighted_fusion:
            self.cls_fusion_weights = nn.Parameter(torch.ones(len(self.in_features)))
            self.loc_fusion_weights = nn.Parameter(torch.ones(len(self.in_features)))

    @classmethod
    def from_config(cls, cfg, input_shape: Dict[str, ShapeSpec]):
        """``input_shape``: the neck's output per level of ``MODEL.SIAM_RPN.IN_FEATURES``."""
        in_features = list(cfg.MODEL.SIAM_RPN.IN_FEATURES)
        channels = {input_shape[name].channels for name in in_features}
        if len(channels) != 1:
            raise ConfigError(f"all RPN input levels need the same width, got {sorted(channels)}")
        rpn = cfg.MODEL.SIAM_RPN
        return {
            "in_features": in_features,
            "in_channels": channels.pop(),
            "hidden_channels": rpn.HIDDEN_CHANNELS,
            "num_anchors": len(rpn.ANCHOR_RATIOS) * len(rpn.ANCHOR_SCALES),
            "weighted_fusion": rpn.WEIGHTED_FUSION,
        }

    def template_kernels(self, template_features: Sequence[torch.Tensor]) -> Kernels:
        """Template side of every branch (computed once per target).

        Args:
            template_features: per level (B, C, h, w) (neck output, already centre-cropped).

        Returns:
            flat tuple: the cls kernels of every level, then the loc kernels, each
            (B, hidden, h - 2, w - 2).
        """
        self._check_levels(template_features)
        levels = [self.levels[name] for name in self.in_features]
        cls_kernels = tuple(
            level.cls.template_kernel(z) for level, z in zip(levels, template_features)
        )
        loc_kernels = tuple(
            level.loc.template_kernel(z) for level, z in zip(levels, template_features)
        )
        return cls_kernels + loc_kernels

    def forward_with_kernels(
        self, kernels: Kernels, search_features: Sequence[torch.Tensor]
    ) -> Tuple[torch.Tensor, torch.Tensor]:
        """Search side: correlate with cached kernels and fuse the levels.

        Args:
            kernels: from ``template_kernels`` (batch 1 or B).
            search_features: per level (B, C, H, W).

        Returns:
            cls_logits (B, 2A, H', W') and loc_deltas (B, 4A, H', W'), H' = H - 1 - k.
        """
        self._check_levels(search_features)
        levels = len(self.in_features)
        if len(kernels) != 2 * levels:
            raise ValueError(
                f"expected {2 * levels} kernels (cls and loc of {self.in_features}), "
                f"got {len(kernels)}"
            )
        cls_kernels, loc_kernels = kernels[:levels], kernels[levels:]
        cls_outputs, loc_outputs = [], []
        for name, cls_kernel, loc_kernel, x in zip(
            self.in_features, cls_kernels, loc_kernels, search_features
        ):
            level = self.levels[name]
            cls_outputs.append(level.cls.forward_with_kernel(cls_kernel, x))
            loc_outputs.append(level.loc.forward_with_kernel(loc_kernel, x))
        if self.weighted_fusion:
            return (
                self._fuse(cls_outputs, self.cls_fusion_weights),
                self._fuse(loc_outputs, self.loc_fusion_weights),
            )
        return sum(cls_outputs) / len(cls_outputs), sum(loc_outputs) / len(loc_outputs)

    def forward(
        self, template_features: Sequence[torch.Tensor], search_features: Sequence[torch.Tensor]
    ):
        """Both sides at once (training): see ``template_kernels`` / ``forward_with_kernels``."""
        return self.forward_with_kernels(self.template_kernels(template_features), search_features)

    @staticmethod
    def _fuse(outputs: List[torch.Tensor], logits: torch.Tensor) -> torch.Tensor:
        weights = F.softmax(logits, dim=0)
        return sum(w * out for w, out in zip(weights, outputs))

    def _check_levels(self, features: Sequence[torch.Tensor]) -> None:
        if len(features) != len(self.in_features):
            raise ValueError(
                f"expected {len(self.in_features)} feature levels {self.in_features}, "
                f"got {len(features)}"
            )
