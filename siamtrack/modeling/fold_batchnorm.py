"""Fold BatchNorm into the preceding convolution for inference (same outputs, fewer ops)."""

import copy

import torch
from detectron2.layers import FrozenBatchNorm2d
from torch import nn

__all__ = ["fold_batchnorm", "count_batchnorm"]

_BATCHNORM_TYPES = (nn.modules.batchnorm._BatchNorm, FrozenBatchNorm2d)


@torch.no_grad()
def _fold_into_conv(conv: nn.Conv2d, norm: nn.Module) -> None:
    scale = norm.weight * torch.rsqrt(norm.running_var + norm.eps)  # (C_out,)
    bias = conv.bias if conv.bias is not None else torch.zeros_like(norm.running_mean)
    new_bias = norm.bias + (bias - norm.running_mean) * scale
    conv.weight.copy_(conv.weight * scale.view(-1, 1, 1, 1).to(conv.weight))
    if conv.bias is None:
        conv.bias = nn.Parameter(new_bias.to(conv.weight), requires_grad=conv.weight.requires_grad)
    else:
        conv.bias.copy_(new_bias)
    conv.norm = None


def fold_batchnorm(model: nn.Module, *, inplace: bool = False) -> nn.Module:
    """Return ``model`` in eval mode with every BatchNorm folded into its conv (a copy unless
    ``inplace``).

    Handles detectron2 ``Conv2d`` modules whose ``norm`` is a BatchNorm (``nn.BatchNorm2d``,
    ``SyncBatchNorm``, detectron2's ``BatchNorm2d``/``NaiveSyncBatchNorm``) or a
    ``FrozenBatchNorm2d``: ``w' = w * g / sqrt(v + eps)``, ``b' = beta + (b - m) * g /
    sqrt(v + eps)``, and the ``norm`` is removed. Outputs equal the eval-mode model up to float
    rounding.

    Args:
        model: any module (e.g. ``SiameseRPN``).
        inplace: fold ``model`` itself (no copy: for a model nothing else uses); by default
            ``model`` is not modified.

    Returns:
        the folded model (``model`` itself when ``inplace``), in eval mode.
    """
    folded = (model if inplace else copy.deepcopy(model)).eval()
    for module in folded.modules():
        norm = getattr(module, "norm", None)
        if isinstance(module, nn.Conv2d) and isinstance(norm, _BATCHNORM_TYPES):
            _fold_into_conv(module, norm)
    return folded


def count_batchnorm(model: nn.Module) -> int:
    """Number of BatchNorm/FrozenBatchNorm modules left in ``model``."""
    return sum(isinstance(m, _BATCHNORM_TYPES) for m in model.modules())
