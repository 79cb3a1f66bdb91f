"""Template/search correlations: depthwise (SiamRPN++, NanoTrack v3), pixel-wise (NanoTrack) and
up-channel (SiamRPN's up-channel head; with one output channel, SiamFC's correlation).

Both take a batch of B search feature maps and B template kernels (or one kernel shared by all
B searches), so K targets of a video can be searched in one call.

During ONNX export (``torch.onnx.is_in_onnx_export()``) the depthwise correlation is written
without a convolution by tensor weights: a grouped convolution with per-sample kernels needs a
group count that depends on the batch, which ONNX cannot express, and convolutions with tensor
(non-constant) weights are not supported by every runtime. It becomes two batched matmuls
instead: the kernels times a constant 0/1 shift tensor give, per channel, a banded matrix that
holds the kernel's ``h`` rows (the "bands"), and the search rows (``h`` row slices side by side)
times the bands give the output. In onnxruntime on a 2-core AVX2 CPU this is 2x faster than a
sum of ``h * w`` shifted products (Slice, Mul, Add) for NanoTrack v3's 4x4 kernels on 16x16
maps and 2.4-3.5x faster for SiamRPN++'s 5x5 and 7x7 kernels on 256 channels. Same values up
to float rounding (the bands' zeros add exactly nothing).
"""

import torch
import torch.nn.functional as F

__all__ = ["depthwise_xcorr", "pixelwise_xcorr", "upchannel_xcorr"]


def _check_batches(name: str, search: torch.Tensor, kernel: torch.Tensor) -> None:
    if search.dim() != 4 or kernel.dim() != 4 or search.shape[1] != kernel.shape[1]:
        raise ValueError(
            f"{name} expects (B, C, H, W) search and (B or 1, C, h, w) kernel with the "
            f"same C, got {tuple(search.shape)} and {tuple(kernel.shape)}"
        )
    if kernel.shape[0] not in (1, search.shape[0]):
        raise ValueError(
            f"{name}: kernel batch {kernel.shape[0]} must be 1 or match the search "
            f"batch {search.shape[0]}"
        )


def depthwise_xcorr(search: torch.Tensor, kernel: torch.Tensor, padding: int = 0) -> torch.Tensor:
    """Correlate every search channel with the same channel of the kernel, per sample.

    Stride 1, no flipping (cross-correlation, as ``F.conv2d``), zero padding ``padding``.

    Args:
        search: (B, C, H, W) search features.
        kernel: (B, C, h, w) or (1, C, h, w) template kernels; a batch of 1 is shared by all
            search samples.
        padding: zeros added on every side of the search map.

    Returns:
        (B, C, H - h + 1 + 2 padding, W - w + 1 + 2 padding).
    """
    if torch.onnx.is_in_onnx_export():
        return _depthwise_xcorr_bands(search, kernel, padding)
    _check_batches("depthwise_xcorr", search, kernel)
    batch, channels = search.shape[:2]
    if kernel.shape[0] == 1:
        return F.conv2d(search, kernel.transpose(0, 1), padding=padding, groups=channels)
    out = F.conv2d(
        search.reshape(1, batch * channels, *search.shape[2:]),
        kernel.reshape(batch * channels, 1, *kernel.shape[2:]),
        padding=padding,
        groups=batch * channels,
    )
    return out.reshape(batch, channels, *out.shape[2:])


def _depthwise_xcorr_bands(search: torch.Tensor, kernel: torch.Tensor, padding: int):
    """``depthwise_xcorr`` as two batched matmuls (export form, any batch, any kernel size).

    Output row ``y`` of a channel is its search rows ``y .. y + h - 1`` side by side
    (1 x ``h W``) times a banded (``h W`` x ``W'``) matrix whose column ``x`` holds kernel row
    ``i`` at entries ``i W + x .. i W + x + w - 1``. The band matrices are the kernels times a
    constant 0/1 tensor that puts tap ``j`` of a kernel row at entry ``x + j`` of column ``x``.
    """
    if padding:
        search = F.pad(search, (padding, padding, padding, padding))
    kernel_h, kernel_w = int(kernel.shape[2]), int(kernel.shape[3])
    width = int(search.shape[3])
    out_h, out_w = int(search.shape[2]) - kernel_h + 1, width - kernel_w + 1
    rows = torch.cat([search[:, :, i : i + out_h] for i in range(kernel_h)], dim=3)
    shift = torch.tensor(  # from Python numbers: one constant in the graph
        [
            [[float(u == x + j) for x in range(out_w)] for u in range(width)]
            for j in range(kernel_w)
        ],
        dtype=search.dtype,
        device=search.device,
    )
    bands = torch.matmul(kernel, shift.reshape(kernel_w, width * out_w))  # (B, C, h, W W')
    bands = bands.reshape(kernel.shape[0], kernel.shape[1], kernel_h * width, out_w)
    return torch.matmul(rows, bands)  # (B, C, H', h W) x (B or 1, C, h W, W')


def pixelwise_xcorr(search: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
    """Dot product over channels of every template position with every search position.

    Output channel ``k`` is template position ``(k // w, k % w)`` (row-major), so a 8x8
    template gives 64 channels (NanoTrack's pixel-wise correlation). One batched matmul.

    Args:
        search: (B, C, H, W) search features.
        kernel: (B, C, h, w) or (1, C, h, w) template features.

    Returns:
        (B, h * w, H, W).
    """
    _check_batches("pixelwise_xcorr", search, kernel)
    batch, channels, height, width = search.shape
    template = kernel.flatten(2).transpose(1, 2)  # (B or 1, h*w, C)
    out = torch.matmul(template, search.reshape(batch, channels, height * width))
    return out.reshape(batch, template.shape[1], height, width)


def upchannel_xcorr(search: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
    """Full cross-correlation with per-sample multi-channel kernels (pysot's ``xcorr_fast``).

    Output channel ``o`` of sample ``b`` correlates all C search channels with kernel channels
    ``o * C`` ... ``o * C + C - 1`` of the same sample and sums them (the kernel is an ordinary
    conv weight of shape (O, C, h, w), one per sample: a grouped conv over the batch). With
    O = 1 this is SiamFC's correlation of template and search features.

    During ONNX export it is written as ``h * w`` batched matrix products of shifted search
    windows (Slice, MatMul, Add), which works for any batch; same values up to float rounding.

    Args:
        search: (B, C, H, W) search features.
        kernel: (B, O * C, h, w) or (1, O * C, h, w) template kernels; a batch of 1 is shared
            by all search samples.

    Returns:
        (B, O, H - h + 1, W - w + 1).
    """
    if (
        search.dim() != 4
        or kernel.dim() != 4
        or search.shape[1] == 0
        or kernel.shape[1] % search.shape[1]
    ):
        raise ValueError(
            "upchannel_xcorr expects (B, C, H, W) search and (B or 1, O * C, h, w) kernel, got "
            f"{tuple(search.shape)} and {tuple(kernel.shape)}"
        )
    if kernel.shape[0] not in (1, search.shape[0]):
        raise ValueError(
            f"upchannel_xcorr: kernel batch {kernel.shape[0]} must be 1 or match the search "
            f"batch {search.shape[0]}"
        )
    if torch.onnx.is_in_onnx_export():
        return _upchannel_xcorr_unrolled(search, kernel)
    batch, channels = search.shape[:2]
    out_channels = kernel.shape[1] // channels
    weight_shape = (out_channels, channels, *kernel.shape[2:])
    if kernel.shape[0] == 1:
        return F.conv2d(search, kernel.reshape(weight_shape))
    out = F.conv2d(
        search.reshape(1, batch * channels, *search.shape[2:]),
        kernel.reshape(batch * out_channels, *weight_shape[1:]),
        groups=batch,
    )
    return out.reshape(batch, out_channels, *out.shape[2:])


def _upchannel_xcorr_unrolled(search: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
    """``upchannel_xcorr`` as a sum of (O, C) x (C, H' W') products (export form, any batch)."""
    channels = int(search.shape[1])
    out_channels = int(kernel.shape[1]) // channels
    kernel_h, kernel_w = int(kernel.shape[2]), int(kernel.shape[3])
    out_h = int(search.shape[2]) - kernel_h + 1
    out_w = int(search.shape[3]) - kernel_w + 1
    weights = kernel.reshape(kernel.shape[0], out_channels, channels, kernel_h, kernel_w)
    out = None
    for i in range(kernel_h):
        for j in range(kernel_w):
            window = search[:, :, i : i + out_h, j : j + out_w].flatten(2)  # (B, C, H' W')
            term = torch.matmul(weights[:, :, :, i, j], window)  # (B, O, H' W')
            out = term if out is None else out + term
    return out.reshape(out.shape[0], out_channels, out_h, out_w)
