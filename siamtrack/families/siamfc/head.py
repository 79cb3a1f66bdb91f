"""SiamFC's head: one plain cross-correlation of the embeddings and the ``adjust`` layer
(``SIAM_HEAD_REGISTRY``: ``SiamFCXCorrHead``).

The response of template features ``z`` (B or 1, C, t, t) on search features ``x`` (B, C, s, s)
is ``adjust(sum_c xcorr(x_c, z_c))``, one channel of ``(s - t + 1)`` cells per side (17x17 for
6x6 and 22x22): the template features themselves are the kernel, so ``template_kernels``
returns them unchanged. ``adjust`` is the authors' affine map of the response,
``scale * response + bias``: the scale starts at ``MODEL.SIAMFC.ADJUST_SCALE`` (1e-3) and stays
there unless ``MODEL.SIAMFC.ADJUST_LEARN_SCALE`` (in the authors' code its learning rate is 0),
the bias is learned. The head's outputs follow the ``SiameseHead`` contract as
``(response (B, 1, H, W), box_regression (B, 0, H, W))``: SiamFC regresses no boxes.
"""

from typing import Dict, Sequence, Tuple

import torch
import torch.nn.functional as F
from detectron2.config import configurable
from detectron2.layers import ShapeSpec
from torch import nn

from ...errors import ConfigError
from ...modeling.heads import SIAM_HEAD_REGISTRY
from ...modeling.xcorr import depthwise_xcorr

__all__ = ["SiamFCXCorrHead", "plain_xcorr"]

Kernels = Tuple[torch.Tensor, ...]


def plain_xcorr(search: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
    """Cross-correlation summed over channels, per sample (SiamFC's ``xcorr``).

    Args:
        search: (B, C, H, W) search features.
        kernel: (B, C, h, w) or (1, C, h, w) template features; a batch of 1 is shared.

    Returns:
        (B, 1, H - h + 1, W - w + 1).

    During ONNX export it is the channel sum of ``depthwise_xcorr`` (its matmul form, any batch);
    otherwise one convolution (grouped by sample when the kernels differ).
    """
    if torch.onnx.is_in_onnx_export():
        return depthwise_xcorr(search, kernel).sum(1, keepdim=True)
    if search.dim() != 4 or kernel.dim() != 4 or search.shape[1] != kernel.shape[1]:
        raise ValueError(
            "plain_xcorr expects (B, C, H, W) search and (B or 1, C, h, w) kernel with the same "
            f"C, got {tuple(search.shape)} and {tuple(kernel.shape)}"
        )
    batch = search.shape[0]
    if kernel.shape[0] == 1:
        return F.conv2d(search, kernel)
    if kernel.shape[0] != batch:
        raise ValueError(f"plain_xcorr: kernel batch {kernel.shape[0]} must be 1 or {batch}")
    out = F.conv2d(search.reshape(1, -1, *search.shape[2:]), kernel, groups=batch)
    return out.reshape(batch, 1, *out.shape[2:])


@SIAM_HEAD_REGISTRY.register()
class SiamFCXCorrHead(nn.Module):
    """Plain cross-correlation + ``adjust`` (see the module docstring)."""

    @configurable
    def __init__(self, *, adjust_scale: float = 1e-3, learn_scale: bool = False):
        """
        Args:
            adjust_scale: initial scale of the response (``MODEL.SIAMFC.ADJUST_SCALE``).
            learn_scale: train the scale too (``MODEL.SIAMFC.ADJUST_LEARN_SCALE``); the bias
                always trains.
        """
        super().__init__()
        self.adjust_scale = nn.Parameter(
            torch.full((1,), float(adjust_scale)), requires_grad=bool(learn_scale)
        )
        self.adjust_bias = nn.Parameter(torch.zeros(1))

    @classmethod
    def from_config(cls, cfg, input_shape: Dict[str, ShapeSpec]):
        if len(input_shape) != 1:
            raise ConfigError(f"SiamFCXCorrHead reads one feature level, got {sorted(input_shape)}")
        return {
            "adjust_scale": cfg.MODEL.SIAMFC.ADJUST_SCALE,
            "learn_scale": cfg.MODEL.SIAMFC.ADJUST_LEARN_SCALE,
        }

    def template_kernels(self, template_features: Sequence[torch.Tensor]) -> Kernels:
        """[(B, C, t, t)] template features -> (the same tensor,): they are the kernel."""
        return (_single(template_features),)

    def forward_with_kernels(
        self, kernels: Kernels, search_features: Sequence[torch.Tensor]
    ) -> Tuple[torch.Tensor, torch.Tensor]:
        """Kernels (batch 1 or B) + [(B, C, s, s)] -> response logits (B, 1, H, W) and an empty
        box regression (B, 0, H, W)."""
        if len(kernels) != 1:
            raise ValueError(f"SiamFCXCorrHead takes one kernel, got {len(kernels)}")
        response = plain_xcorr(_single(search_features), kernels[0])
        response = response * self.adjust_scale + self.adjust_bias
        return response, response[:, :0]

    def forward(
        self, template_features: Sequence[torch.Tensor], search_features: Sequence[torch.Tensor]
    ):
        """Both sides at once (training): ``forward_with_kernels(template_kernels(z), x)``."""
        return self.forward_with_kernels(self.template_kernels(template_features), search_features)


def _single(features: Sequence[torch.Tensor]) -> torch.Tensor:
    if len(features) != 1:
        raise ValueError(f"SiamFCXCorrHead reads one feature level, got {len(features)}")
    return features[0]
