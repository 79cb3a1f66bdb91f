"""The one-warp crop equals pysot's 511-crop-then-augment scheme; blur/colour/flip as pysot."""

import cv2
import numpy as np

from siamtrack.data.augmentation import (
    CropAugParams,
    color_offset,
    hflip,
    motion_blur,
    sample_crop_window,
)
from siamtrack.data.crops import crop_window, mean_color
from siamtrack.utils.boxes import context_crop_side


def _smooth_image(seed=0, size_wh=(320, 240)):
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, (size_wh[1] // 16, size_wh[0] // 16, 3), dtype=np.uint8)
    return cv2.resize(small, size_wh, interpolation=cv2.INTER_CUBIC)


def test_single_warp_equals_two_step_511_crop():
    image = _smooth_image()
    pad = mean_color(image)
    params = CropAugParams(shift=64, scale=0.18)
    for seed, box in enumerate([(100, 80, 60, 40), (10, 20, 30, 90), (200, 150, 110, 80)]):
        x, y, w, h = box
        s_z = float(context_crop_side(w, h, 0.5))
        window, crop_box = sample_crop_window(
            box, 255, s_z / 127, 511, params, np.random.default_rng(seed)
        )
        ours = crop_window(image, window, 255, pad)

        # pysot: 511 crop of side s_z * 511/127 around the target, then a sub-window of it
        rng = np.random.default_rng(seed)  # the same draws as sample_crop_window
        scales = 1 + rng.uniform(-1, 1, 2) * 0.18
        shifts = rng.uniform(-1, 1, 2) * 64
        center = np.array([x + w / 2, y + h / 2])
        big = crop_window(
            image, np.r_[center - s_z * 511 / 254, center + s_z * 511 / 254], 511, pad
        )
        sub_center = 255.5 + shifts
        sub_half = 255 * scales / 2
        two_step = crop_window(big, np.r_[sub_center - sub_half, sub_center + sub_half], 255, pad)
        diff = np.abs(ours.astype(int) - two_step.astype(int))
        assert diff.mean() < 1.5, diff.mean()  # only the second interpolation differs

        # box: size * 127/s_z divided by the scale factor, at centre - shift / scale
        expected_size = np.array([w, h]) * 127 / s_z / scales
        expected_center = 127.5 + (-shifts) / scales
        np.testing.assert_allclose((crop_box[:2] + crop_box[2:]) / 2, expected_center, atol=1e-6)
        np.testing.assert_allclose(crop_box[2:] - crop_box[:2], expected_size, atol=1e-6)


def test_window_stays_inside_virtual_511_square():
    params = CropAugParams(shift=400, scale=3.0)  # far beyond pysot's values: clamps apply
    for seed in range(50):
        window, _ = sample_crop_window(
            (0, 0, 40, 40), 255, 1.0, 511, params, np.random.default_rng(seed)
        )
        center = 20.0
        assert window[0] >= center - 255.5 - 1e-6 and window[2] <= center + 255.5 + 1e-6
        assert window[1] >= center - 255.5 - 1e-6 and window[3] <= center + 255.5 + 1e-6


def test_motion_blur_equals_pysot_cross_kernel():
    crop = _smooth_image(1, (64, 48))
    rng_a, rng_b = np.random.default_rng(5), np.random.default_rng(5)
    ours = motion_blur(crop, rng_a)
    size = int(rng_b.choice(np.arange(5, 46, 2)))
    wx = rng_b.random()
    kernel = np.zeros((size, size))
    kernel[:, size // 2] += wx / size
    kernel[size // 2, :] += (1 - wx) / size
    reference = cv2.filter2D(crop, -1, kernel)
    assert np.abs(ours.astype(int) - reference.astype(int)).max() <= 1


def test_color_offset_is_small_and_clipped():
    crop = np.full((8, 8, 3), 128, np.uint8)
    shifted = color_offset(crop, np.random.default_rng(0))
    offset = shifted.astype(int) - 128
    assert np.all(offset == offset[0, 0]) and np.abs(offset).max() < 40
    assert (
        color_offset(np.full((2, 2, 3), 255, np.uint8), np.random.default_rng(1)).dtype == np.uint8
    )


def test_hflip_box():
    crop = np.arange(2 * 10 * 3, dtype=np.uint8).reshape(2, 10, 3)
    flipped, box = hflip(crop, np.array([1.0, 0.0, 4.0, 2.0]))
    assert np.array_equal(flipped[:, 0], crop[:, 9])
    np.testing.assert_allclose(box, [6.0, 0.0, 9.0, 2.0])
