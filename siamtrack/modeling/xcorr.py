"""Depthwise cross-correlation (SiamRPN++'s ``xcorr_depthwise``, spec §4)."""

import torch
import torch.nn.functional as F

__all__ = ["depthwise_xcorr"]


def depthwise_xcorr(search: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
    """Correlate every search channel with the same channel of the kernel, per sample.

    No padding, stride 1, no flipping (cross-correlation, as ``F.conv2d``).

    Args:
        search: (B, C, H, W) search features.
        kernel: (B, C, h, w) or (1, C, h, w) template kernels; a batch of 1 is shared by all
            search samples.

    Returns:
        (B, C, H - h + 1, W - w + 1).
    """
    if search.dim() != 4 or kernel.dim() != 4 or search.shape[1] != kernel.shape[1]:
        raise ValueError(
            f"depthwise_xcorr expects (B, C, H, W) search and (B or 1, C, h, w) kernel with the "
            f"same C, got {tuple(search.shape)} and {tuple(kernel.shape)}"
        )
    batch, channels = search.shape[:2]
    if kernel.shape[0] == 1:
        return F.conv2d(search, kernel.transpose(0, 1), groups=channels)
    if kernel.shape[0] != batch:
        raise ValueError(
            f"depthwise_xcorr: kernel batch {kernel.shape[0]} must be 1 or match the search "
            f"batch {batch}"
        )
    out = F.conv2d(
        search.reshape(1, batch * channels, *search.shape[2:]),
        kernel.reshape(batch * channels, 1, *kernel.shape[2:]),
        groups=batch * channels,
    )
    return out.reshape(batch, channels, *out.shape[2:])
