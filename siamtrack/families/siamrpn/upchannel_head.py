"""SiamRPN's up-channel RPN head (Li et al. 2018; pysot's ``UPChannelRPN``,
``docs/siamrpnpp.md#siamrpn-alexnet-up-channel-head``).

One feature level of C channels. The template side turns the template features into the
correlation kernels themselves: a 3x3 conv to ``2A * C`` channels gives the cls kernel (2A
output channels of C input channels each), one to ``4A * C`` channels the loc kernel. The
search side adapts the search features with a 3x3 conv (C -> C) per branch; each branch is then
a full convolution of the search features with its sample's kernel (``upchannel_xcorr``, pysot's
``xcorr_fast``: a grouped conv over the batch), and the loc response goes through a 1x1 conv
(``loc_adjust``). All convs have a bias and no norm or activation, as in pysot.

Initialisation: pysot keeps PyTorch's default, with which a response sums ``C * k * k``
products of two conv outputs and starts with a standard deviation of about 20 (C = 256, k = 4;
initial losses of 8 (cls) and 30 (loc)). Here the template convs start from
``N(0, 1 / (48 C^2))`` with zero bias instead, which gives responses of about unit variance for
unit-variance features and 4x4 kernels, so training from scratch starts at ordinary losses
(about 0.7 and 1). Loaded weights replace it.

Balanced gradients (``balanced_gradients``, ``MODEL.SIAM_RPN.UPCHANNEL_BALANCED_GRADIENTS``; off
in pysot): a response is bilinear in the template conv weights and the search features and
sums ``C * C * 9 * k * k`` weight products, so one SGD step on the template convs moves it by
about ``48 C^2 x LR x gradient`` (an ordinary layer: fan-in x LR x gradient): for C = 128 and an
LR of 0.001 the loc loss climbs from 4 to 17 within 40 iterations of training from scratch. With the option on, training
multiplies the gradients of the template convs by ``1 / (48 C^2)`` (the same as the "equalised
learning rate" parametrisation ``w = w0 / (C sqrt(48))``): forward values and weights keep
pysot's meaning, so checkpoints load either way.

Child modules carry pysot's names (``template_cls_conv``, ``template_loc_conv``,
``search_cls_conv``, ``search_loc_conv``, ``loc_adjust``), so pysot's ``rpn_head.*`` keys map
by prefix alone. Output layout as ``MultiLevelDepthwiseRPNHead``: cls channel ``k * A + a``
(k = 0 background, 1 foreground), loc channel ``c * A + a`` (c = dx, dy, dw, dh).

Sizes for pysot's AlexNet (C = 256, A = 5) and 127/255 crops: template 6x6 -> kernels
(B, 2560, 4, 4) and (B, 5120, 4, 4); search 22x22 -> 20x20 -> responses 17x17.
"""

from typing import Dict, Sequence, Tuple

import torch
import torch.nn.functional as F
from detectron2.config import configurable
from detectron2.layers import ShapeSpec
from torch import nn

from ...errors import ConfigError
from ...modeling.heads import SIAM_HEAD_REGISTRY
from ...modeling.xcorr import upchannel_xcorr

__all__ = ["UpChannelRPNHead"]

Kernels = Tuple[torch.Tensor, ...]


@SIAM_HEAD_REGISTRY.register()
class UpChannelRPNHead(nn.Module):
    """pysot's ``UPChannelRPN`` as a ``SiameseHead`` (one level; see the module docstring)."""

    @configurable
    def __init__(
        self,
        *,
        in_feature: str,
        in_channels: int,
        num_anchors: int,
        balanced_gradients: bool = False,
    ):
        """
        Args:
            in_feature: name of the one feature level the head reads.
            in_channels: C, width of the template and search features.
            num_anchors: A, anchors per score-map cell.
            balanced_gradients: scale the template convs' gradients by ``1 / (48 C^2)`` in
                training (see the module docstring); False: pysot's plain gradients.
        """
        super().__init__()
        self.in_features = [in_feature]
        self.in_channels = in_channels
        self.num_anchors = num_anchors
        cls_outputs, loc_outputs = 2 * num_anchors, 4 * num_anchors
        self.template_cls_conv = nn.Conv2d(in_channels, in_channels * cls_outputs, 3)
        self.template_loc_conv = nn.Conv2d(in_channels, in_channels * loc_outputs, 3)
        self.search_cls_conv = nn.Conv2d(in_channels, in_channels, 3)
        self.search_loc_conv = nn.Conv2d(in_channels, in_channels, 3)
        self.loc_adjust = nn.Conv2d(loc_outputs, loc_outputs, 1)
        # response variance = C * k^2 * var(search conv out) * var(kernel); the search convs
        # keep the default init (var about 1/3 of the input's), k = 4 as in pysot's AlexNet
        std = 1.0 / (in_channels * (3.0 * 16) ** 0.5)
        for conv in (self.template_cls_conv, self.template_loc_conv):
            nn.init.normal_(conv.weight, std=std)
            nn.init.zeros_(conv.bias)
        self.template_grad_scale = std**2 if balanced_gradients else 1.0

    @classmethod
    def from_config(cls, cfg, input_shape: Dict[str, ShapeSpec]):
        """``input_shape``: the neck's output for the one level of ``MODEL.SIAM_RPN.IN_FEATURES``."""
        rpn = cfg.MODEL.SIAM_RPN
        in_features = list(rpn.IN_FEATURES)
        if len(in_features) != 1:
            raise ConfigError(
                f"UpChannelRPNHead reads one feature level, MODEL.SIAM_RPN.IN_FEATURES has "
                f"{in_features} (for several levels use MultiLevelDepthwiseRPNHead)"
            )
        return {
            "in_feature": in_features[0],
            "in_channels": input_shape[in_features[0]].channels,
            "num_anchors": len(rpn.ANCHOR_RATIOS) * len(rpn.ANCHOR_SCALES),
            "balanced_gradients": rpn.UPCHANNEL_BALANCED_GRADIENTS,
        }

    def template_kernels(self, template_features: Sequence[torch.Tensor]) -> Kernels:
        """Template side (computed once per target).

        Args:
            template_features: one (B, C, h, w) tensor.

        Returns:
            (cls_kernel, loc_kernel): (B, 2A * C, h - 2, w - 2) and (B, 4A * C, h - 2, w - 2).
        """
        (template,) = self._one_level(template_features)
        return self._template_conv(self.template_cls_conv, template), self._template_conv(
            self.template_loc_conv, template
        )

    def _template_conv(self, conv: nn.Conv2d, template: torch.Tensor) -> torch.Tensor:
        if self.template_grad_scale == 1.0 or not (self.training and torch.is_grad_enabled()):
            return conv(template)
        # same values (w - w.detach() is exactly 0), gradients times template_grad_scale
        weight, bias = (
            p.detach() + (p - p.detach()) * self.template_grad_scale
            for p in (conv.weight, conv.bias)
        )
        return F.conv2d(template, weight, bias)

    def forward_with_kernels(
        self, kernels: Kernels, search_features: Sequence[torch.Tensor]
    ) -> Tuple[torch.Tensor, torch.Tensor]:
        """Search side with cached kernels.

        Args:
            kernels: ``(cls_kernel, loc_kernel)`` from ``template_kernels``, batch 1 (shared by
                every search) or B.
            search_features: one (B, C, H, W) tensor.

        Returns:
            cls_logits (B, 2A, H', W') and loc_deltas (B, 4A, H', W'), H' = H - 1 - k for
            kernels of side k.
        """
        (search,) = self._one_level(search_features)
        if len(kernels) != 2:
            raise ValueError(f"expected 2 kernels (cls, loc), got {len(kernels)}")
        cls_kernel, loc_kernel = kernels
        cls_logits = upchannel_xcorr(self.search_cls_conv(search), cls_kernel)
        loc_deltas = self.loc_adjust(upchannel_xcorr(self.search_loc_conv(search), loc_kernel))
        return cls_logits, loc_deltas

    def forward(
        self, template_features: Sequence[torch.Tensor], search_features: Sequence[torch.Tensor]
    ) -> Tuple[torch.Tensor, torch.Tensor]:
        """Both sides at once (training): see ``template_kernels`` / ``forward_with_kernels``."""
        return self.forward_with_kernels(self.template_kernels(template_features), search_features)

    def _one_level(self, features: Sequence[torch.Tensor]) -> Sequence[torch.Tensor]:
        if len(features) != 1:
            raise ValueError(
                f"UpChannelRPNHead expects 1 feature level {self.in_features}, "
                f"got {len(features)}"
            )
        return features
