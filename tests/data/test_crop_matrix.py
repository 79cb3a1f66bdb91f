"""``crop_square`` / ``crop_window`` build the warp matrix in closed form; it must equal the
matrix product it replaces bit for bit, so crops are unchanged."""

import cv2
import numpy as np
import pytest

from siamtrack.data.crops import crop_square, crop_window, crop_window_affine, square_window

SHIFT = np.array([[1.0, 0.0, -0.5], [0.0, 1.0, -0.5], [0.0, 0.0, 1.0]])
UNSHIFT = np.array([[1.0, 0.0, 0.5], [0.0, 1.0, 0.5], [0.0, 0.0, 1.0]])


def reference_crop(image, window_xyxy, out_size, pad_color):
    """The crop as the matrix product ``shift @ affine @ unshift`` gives it."""
    to_crop = crop_window_affine(window_xyxy, out_size)
    matrix = (SHIFT @ np.vstack([to_crop, [0.0, 0.0, 1.0]]) @ UNSHIFT)[:2]
    crop = cv2.warpAffine(
        image,
        matrix,
        (out_size, out_size),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=tuple(float(c) for c in pad_color),
    )
    return matrix, crop


def closed_form_matrix(window_xyxy, out_size):
    """The matrix ``crop_window`` passes to cv2 (captured from the call)."""
    captured = {}
    original = cv2.warpAffine

    def spy(image, matrix, *args, **kwargs):
        captured["matrix"] = matrix
        return original(image, matrix, *args, **kwargs)

    cv2.warpAffine = spy
    try:
        crop_window(np.zeros((4, 4, 3), np.uint8), window_xyxy, out_size, (0, 0, 0))
    finally:
        cv2.warpAffine = original
    return captured["matrix"]


def test_closed_form_matrix_is_the_matrix_product_bit_for_bit():
    rng = np.random.default_rng(7)
    for _ in range(20000):
        scale = 10.0 ** rng.uniform(-2, 4)
        center = rng.uniform(-2, 2, size=2) * scale
        side = rng.uniform(1e-3, 3) * scale
        out_size = int(rng.choice([63, 127, 129, 255, 257]))
        window = square_window(center, side)
        expected, _ = reference_crop(np.zeros((2, 2, 3), np.uint8), window, out_size, (0, 0, 0))
        actual = closed_form_matrix(window, out_size)
        assert np.array_equal(actual, expected), (window, out_size)


@pytest.mark.parametrize("out_size", [127, 255])
def test_crops_are_unchanged(out_size):
    rng = np.random.default_rng(3)
    image = rng.integers(0, 256, size=(240, 320, 3), dtype=np.uint8)
    pad = (12.5, 100.0, 200.25)
    for _ in range(200):
        center = rng.uniform(-40, 360, size=2)
        side = rng.uniform(5, 500)
        _, expected = reference_crop(image, square_window(center, side), out_size, pad)
        assert np.array_equal(crop_square(image, center, side, out_size, pad), expected)
        into = np.zeros((2, out_size, out_size, 3), np.uint8)
        assert crop_square(image, center, side, out_size, pad, out=into[1]) is not None
        assert np.array_equal(into[1], expected) and not into[0].any()
