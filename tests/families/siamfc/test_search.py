"""SiamFC's tracker step (``ScalePyramidSearch``) on hand-built score maps: the pyramid's crop
sides, the scale choice with the penalty, the damped size, the displacement through the 16x
upsampled map, the cosine window, one crop without the motion prior."""

import json

import numpy as np
import pytest

from siamtrack.families.siamfc import ScalePyramidSearch
from siamtrack.tracking.search import (
    SEARCH_STRATEGY_REGISTRY,
    build_search_strategy,
    search_strategy_from_settings,
)

from .common import tiny_cfg

T, S, H = 127, 255, 17
STEP, PENALTY, LR = 1.0375, 0.9745, 0.59


def _cell_boxes():
    """(1, 1, 17, 17, 4) boxes as ``SiamFC.decode`` gives them: cell centres 63.5 + 8 i."""
    centres = 63.5 + 8.0 * np.arange(H)
    boxes = np.zeros((1, 1, H, H, 4))
    boxes[..., 0] = centres[None, :]
    boxes[..., 1] = centres[:, None]
    boxes[..., 2:] = 63.5
    return boxes


def _maps(peaks):
    """(n, 1, 17, 17) maps of 0.01 with one peak each: [(value, row, col), ...]."""
    maps = np.full((len(peaks), 1, H, H), 0.01)
    for k, (value, row, col) in enumerate(peaks):
        maps[k, 0, row, col] = value
    return maps


def _search(**kwargs):
    return ScalePyramidSearch(template_size=T, search_size=S, **kwargs)


def _locate(search, maps, size_wh=(40.0, 40.0), center=(300.0, 200.0), motion_prior=True):
    size_wh = np.asarray(size_wh)
    sides = (
        search.local_search_sides(size_wh) if motion_prior else (search.redetection_side(size_wh),)
    )
    boxes = np.repeat(_cell_boxes(), len(maps), axis=0)
    centers = np.tile(np.asarray(center, float), (len(maps), 1))
    return search.locate(maps, boxes, centers, sides, size_wh, (480, 640), motion_prior)


def test_built_from_the_config():
    search = build_search_strategy(tiny_cfg(), T, S)
    assert isinstance(search, ScalePyramidSearch)
    assert SEARCH_STRATEGY_REGISTRY.get("ScalePyramidSearch") is ScalePyramidSearch
    assert np.allclose(search.scale_factors, [STEP**-1, 1.0, STEP])
    assert (search.scale_penalty, search.window_influence, search.lr) == (PENALTY, 0.176, LR)
    assert search.upsample == 16


def test_rebuilt_from_its_plain_settings():
    """What the torch-free tracker's runtime records keep: JSON values that rebuild it."""
    search = build_search_strategy(tiny_cfg("TRACKER.SCALE_PYRAMID.SCALE_STEP", 1.05), T, S)
    settings = json.loads(json.dumps(search.settings()))
    rebuilt = search_strategy_from_settings("ScalePyramidSearch", settings)
    assert rebuilt.settings() == search.settings()
    maps = _maps([(0.8, 8, 8), (0.7, 8, 8), (0.9, 6, 11)])
    first, second = _locate(search, maps), _locate(rebuilt, maps)
    assert first.center_xy.tolist() == second.center_xy.tolist()
    assert first.size_wh.tolist() == second.size_wh.tolist()


def test_three_crop_sides_around_the_siamrpn_context_side():
    search = _search()
    # a 40 x 40 target with context 0.5: template side 80, search side 80 * 255 / 127
    assert search.template_side(np.array([40.0, 40.0])) == pytest.approx(80.0)
    x = 80.0 * S / T
    sides = search.local_search_sides(np.array([40.0, 40.0]))
    assert sides == pytest.approx((x / STEP, x, x * STEP))
    assert search.redetection_side(np.array([40.0, 40.0])) == pytest.approx(x)


def test_the_penalised_best_scale_wins_and_the_size_is_damped():
    """Peaks 0.80 (scale 1/1.0375), 0.70 (1), 0.90 (1.0375): penalised 0.7796, 0.70, 0.8771,
    so the largest scale wins; the size becomes 40 * (1 - 0.59 + 0.59 * 1.0375)."""
    search = _search(window_influence=0.0)
    candidate = _locate(search, _maps([(0.80, 8, 8), (0.70, 8, 8), (0.90, 6, 11)]))
    assert candidate.size_wh == pytest.approx(40.0 * (1 - LR + LR * STEP) * np.ones(2))
    # without the window, the peak cell's centre exactly: (11, 6) -> crop (151.5, 111.5),
    # (+24, -16) crop px from the centre, times the chosen crop's image px per crop px
    image_per_crop = 80.0 * S / T * STEP / S
    expected = np.array([300.0, 200.0]) + np.array([24.0, -16.0]) * image_per_crop
    assert candidate.center_xy == pytest.approx(expected, abs=1e-9)
    assert candidate.score == 0.90 and candidate.scores.shape == (1, H, H)
    assert candidate.scores[0, 6, 11] == 0.90  # the chosen scale's map
    # the penalty decides: 0.80 at the small scale beats 0.79 at scale 1 only without it
    maps = _maps([(0.80, 8, 8), (0.79, 8, 8), (0.10, 8, 8)])
    assert _locate(search, maps).size_wh == pytest.approx([40.0, 40.0])
    no_penalty = _search(window_influence=0.0, scale_penalty=1.0)
    assert _locate(no_penalty, maps).size_wh == pytest.approx(40.0 * (1 - LR + LR / STEP))


def test_a_centred_symmetric_peak_leaves_the_target_exactly_where_it_was():
    search = _search()
    candidate = _locate(search, _maps([(0.5, 8, 8), (0.9, 8, 8), (0.5, 8, 8)]))
    assert candidate.center_xy.tolist() == [300.0, 200.0]
    assert candidate.size_wh.tolist() == [40.0, 40.0]
    # a flat (saturated) map: the window alone decides, the centre again
    flat = _locate(search, np.ones((3, 1, H, H)))
    assert flat.center_xy.tolist() == [300.0, 200.0] and flat.score == 1.0


def test_the_window_pulls_towards_the_centre():
    """Two equal peaks, 3 cells left and 2 cells right of the centre: without the window the
    first in raster order wins, with it the nearer one; a peak a cell off the centre moves the
    target by a cell, up to the quarter crop pixel the window pulls it in."""
    maps = np.full((3, 1, H, H), 0.01)
    maps[1, 0, 8, 5] = maps[1, 0, 8, 10] = 0.9
    image_per_crop = 80.0 * S / T / S
    plain = _locate(_search(window_influence=0.0), maps)
    assert plain.center_xy[0] == pytest.approx(300.0 - 24.0 * image_per_crop)
    windowed = _locate(_search(), maps)
    # of the two upsampled pixels around cell 10's centre (167, 168) the window prefers the
    # one nearer the crop centre: map x 167.5 / 16 - 0.5 = 9.96875, crop x 143.25, +15.75 px;
    # in y the two around the centre row tie and average to the centre
    assert windowed.center_xy == pytest.approx([300.0 + 15.75 * image_per_crop, 200.0])
    one_cell = _locate(_search(), _maps([(0.1, 8, 8), (0.9, 7, 9), (0.1, 8, 8)]))
    offset = (one_cell.center_xy - [300.0, 200.0]) / image_per_crop  # crop pixels
    assert offset == pytest.approx([8.0, -8.0], abs=0.25 + 1e-9)


def test_one_crop_without_the_motion_prior():
    """A re-detection tile: no window, no scale change, the peak wherever it is."""
    candidate = _locate(_search(), _maps([(0.9, 1, 15)]), motion_prior=False)
    image_per_crop = 80.0 * S / T / S
    expected = np.array([300.0, 200.0]) + np.array([56.0, -56.0]) * image_per_crop
    assert candidate.center_xy == pytest.approx(expected)
    assert candidate.size_wh.tolist() == [40.0, 40.0] and candidate.score == 0.9


def test_boxes_are_clipped_to_the_image():
    search = _search(window_influence=0.0)
    maps = _maps([(0.1, 8, 8), (0.9, 0, 0), (0.1, 8, 8)])
    candidate = _locate(search, maps, size_wh=(700.0, 20.0), center=(2.0, 3.0))
    assert candidate.center_xy.tolist() == [0.0, 0.0]
    assert candidate.size_wh.tolist() == [640.0, 20.0]


@pytest.mark.parametrize(
    "kwargs", [{"num_scales": 2}, {"scale_step": 0.9}, {"scale_penalty": 0.0}, {"lr": 1.5}]
)
def test_bad_settings_are_refused(kwargs):
    with pytest.raises(ValueError):
        _search(**kwargs)
