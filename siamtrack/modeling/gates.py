"""Channel gates (squeeze-excite, channel attention) and the activation after them, written so
that onnxruntime keeps them in its blocked CPU layout.

In eager mode these are the usual operations: a mean over the spatial axes, a ``Linear`` on the
pooled vector, a (B, C, 1, 1) gate broadcast over the map. During ONNX export
(``torch.onnx.is_in_onnx_export()``) they are written as the operations onnxruntime's CPU
layout transform (NCHWc) can run in its blocked layout: ``GlobalAveragePool``, 1x1 ``Conv``
(with the activation fused into it), a nearest ``Resize`` of the gate to the map's size and a
``Mul`` of two tensors of the same shape. A ``ReduceMean``, a ``Gemm``, a broadcasting ``Mul``
or a ``HardSigmoid`` on its own each send the map back to plain NCHW and forth again. A
hard-swish that follows a gate (MobileNetV3 blocks) becomes an identity depthwise 1x1 conv that
onnxruntime fuses the hard-swish into. The resize bakes the map's size into the graph, so it is
used only inside ``fixed_map_sizes()`` (siamtrack's own graphs, whose crop sizes are fixed);
graphs with dynamic spatial axes (OpenCV's NanoTrack backbone) keep the broadcasting ``Mul``.
Same values up to float rounding (the 1x1 conv sums in another order than the ``Linear``; the
identity conv and the nearest resize are exact).

Measured on NanoTrack's graphs, 2-core AVX2 CPU, onnxruntime 1.32: v3's track graph
2.74 -> 2.67 ms, v2's 1.77 -> 1.70 ms (graph alone, back to back).
"""

from contextlib import contextmanager

import torch
import torch.nn.functional as F
from torch import nn

__all__ = [
    "apply_gate",
    "channel_mean",
    "fixed_map_sizes",
    "hardswish_after_gate",
    "linear_on_channels",
]

_map_sizes_fixed = False


@contextmanager
def fixed_map_sizes():
    """Inside it, an ONNX export may bake the feature maps' spatial sizes into the graph."""
    global _map_sizes_fixed
    before, _map_sizes_fixed = _map_sizes_fixed, True
    try:
        yield
    finally:
        _map_sizes_fixed = before


def channel_mean(x: torch.Tensor) -> torch.Tensor:
    """(B, C, H, W) -> (B, C, 1, 1) mean over the spatial axes."""
    if torch.onnx.is_in_onnx_export():
        return F.adaptive_avg_pool2d(x, 1)
    return x.mean(dim=(2, 3), keepdim=True)


def linear_on_channels(gate: torch.Tensor, linear: nn.Linear) -> torch.Tensor:
    """``linear`` applied to a (B, C, 1, 1) gate's channel vector; returns (B, C', 1, 1)."""
    if torch.onnx.is_in_onnx_export():
        return F.conv2d(gate, linear.weight[:, :, None, None], linear.bias)
    return linear(gate.flatten(1))[:, :, None, None]


def apply_gate(x: torch.Tensor, gate: torch.Tensor) -> torch.Tensor:
    """``x`` (B, C, H, W) times a (B, C, 1, 1) gate, channel by channel."""
    if _map_sizes_fixed and torch.onnx.is_in_onnx_export():
        scales = (float(int(x.shape[2])), float(int(x.shape[3])))
        gate = F.interpolate(gate, scale_factor=scales, mode="nearest")
    return x * gate


def hardswish_after_gate(x: torch.Tensor) -> torch.Tensor:
    """Hard-swish of a map no convolution produced (it follows a gate)."""
    if torch.onnx.is_in_onnx_export():
        channels = int(x.shape[1])
        identity = torch.ones(channels, 1, 1, 1, dtype=x.dtype, device=x.device)
        x = F.conv2d(x, identity, groups=channels)
    return F.hardswish(x)
