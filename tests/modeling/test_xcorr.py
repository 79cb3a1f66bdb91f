"""Depthwise cross-correlation against a slow loop oracle."""

import pytest
import torch

from siamtrack.modeling import depthwise_xcorr


def loop_oracle(search, kernel):
    batch, channels, height, width = search.shape
    kh, kw = kernel.shape[2:]
    out = torch.zeros(batch, channels, height - kh + 1, width - kw + 1, dtype=torch.float64)
    for b in range(batch):
        kb = kernel[b if kernel.shape[0] > 1 else 0]
        for c in range(channels):
            for i in range(height - kh + 1):
                for j in range(width - kw + 1):
                    window = search[b, c, i : i + kh, j : j + kw]
                    out[b, c, i, j] = (window.double() * kb[c].double()).sum()
    return out


@pytest.mark.parametrize("kernel_batch", [3, 1])
def test_depthwise_xcorr_matches_loop(kernel_batch):
    generator = torch.Generator().manual_seed(0)
    search = torch.randn(3, 4, 9, 8, generator=generator)
    kernel = torch.randn(kernel_batch, 4, 3, 2, generator=generator)
    out = depthwise_xcorr(search, kernel)
    assert out.shape == (3, 4, 7, 7)
    torch.testing.assert_close(out.double(), loop_oracle(search, kernel), rtol=1e-5, atol=1e-5)


def test_depthwise_xcorr_rejects_mismatched_inputs():
    with pytest.raises(ValueError, match="same C"):
        depthwise_xcorr(torch.zeros(1, 4, 9, 9), torch.zeros(1, 3, 3, 3))
    with pytest.raises(ValueError, match="must be 1 or match"):
        depthwise_xcorr(torch.zeros(3, 4, 9, 9), torch.zeros(2, 4, 3, 3))
