"""Depthwise cross-correlation against a slow loop oracle."""

import pytest
import torch
import torch.nn.functional as F

from siamtrack.modeling import depthwise_xcorr
from siamtrack.modeling import xcorr as xcorr_module
from siamtrack.modeling.xcorr import _depthwise_xcorr_bands


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


@pytest.mark.parametrize("kernel_batch", [3, 1])
@pytest.mark.parametrize("kernel_size", [(4, 4), (5, 5), (3, 2)])
@pytest.mark.parametrize("padding", [0, 1])
def test_depthwise_xcorr_export_form_matches_loop(kernel_batch, kernel_size, padding):
    """The ONNX export form (search rows x band matrices), with and without padding, square
    and non-square kernels, shared or per-sample kernels."""
    generator = torch.Generator().manual_seed(1)
    search = torch.randn(3, 4, 9, 8, generator=generator)
    kernel = torch.randn(kernel_batch, 4, *kernel_size, generator=generator)
    out = _depthwise_xcorr_bands(search, kernel, padding)
    expected = loop_oracle(F.pad(search, (padding,) * 4), kernel)
    torch.testing.assert_close(out.double(), expected, rtol=1e-5, atol=1e-5)


def test_depthwise_xcorr_uses_the_export_form_while_exporting(monkeypatch):
    used = []
    monkeypatch.setattr(torch.onnx, "is_in_onnx_export", lambda: True)
    monkeypatch.setattr(
        xcorr_module,
        "_depthwise_xcorr_bands",
        lambda *a: used.append(a[2]) or _depthwise_xcorr_bands(*a),
    )
    depthwise_xcorr(torch.zeros(1, 2, 8, 8), torch.zeros(1, 2, 4, 4), padding=1)
    assert used == [1]


def test_depthwise_xcorr_rejects_mismatched_inputs():
    with pytest.raises(ValueError, match="same C"):
        depthwise_xcorr(torch.zeros(1, 4, 9, 9), torch.zeros(1, 3, 3, 3))
    with pytest.raises(ValueError, match="must be 1 or match"):
        depthwise_xcorr(torch.zeros(3, 4, 9, 9), torch.zeros(2, 4, 3, 3))
