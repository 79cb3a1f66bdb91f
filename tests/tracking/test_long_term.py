"""Long-term tracking: presence drops without the target, re-detection finds it again (one and
several targets, both backends), and what it costs per frame."""

import numpy as np
import pytest

from siamtrack.tracking import MultiTargetTracker, SiamTracker
from siamtrack.utils.boxes import iou_xywh

from .test_nanotrack_tracker import nanotrack_cfg

HEIGHT, WIDTH = 240, 320
OBJECT_HW = (40, 30)


def _object_patch(kind: int) -> np.ndarray:
    patch = np.zeros(OBJECT_HW + (3,), np.uint8)
    if kind == 0:  # red with green rows and blue columns
        patch[..., 2] = 230
        patch[::8, :, 1] = 255
        patch[:, ::6, 0] = 255
    else:  # yellow with dark diagonal stripes
        patch[..., 1:] = 220
        rows, cols = np.mgrid[0 : OBJECT_HW[0], 0 : OBJECT_HW[1]]
        patch[(rows + cols) % 10 < 3] = 30
    return patch


def _background(kind: int) -> np.ndarray:
    y, x = np.mgrid[0:HEIGHT, 0:WIDTH]
    if kind == 0:
        return np.stack([(x // 2 + y // 4 + 60 * c) % 256 for c in range(3)], -1).astype(np.uint8)
    rng = np.random.default_rng(kind)  # a cut-away: another scene
    return (
        np.clip(rng.normal(110, 40, (HEIGHT // 8, WIDTH // 8, 3)), 0, 255)
        .astype(np.uint8)
        .repeat(8, 0)
        .repeat(8, 1)
    )


def leave_and_return_frames(objects, visible_before=8, away=12, visible_after=14):
    """Frames where every object in ``objects`` ({kind: ((x0, y0), (x1, y1))}) is at its first
    place for ``visible_before`` frames, the video cuts to another scene for ``away`` frames
    (objects whose second place is None stay), then comes back with the object at its second
    place. Returns the frames and {kind: (N, 4) boxes, NaN rows where absent}."""
    frames, boxes = [], {kind: [] for kind in objects}
    for t in range(visible_before + away + visible_after):
        phase = 0 if t < visible_before else (1 if t < visible_before + away else 2)
        frame = _background(0 if phase != 1 else 7).copy()
        for kind, (first, second) in objects.items():
            place = first if phase == 0 or (second is None) else (None if phase == 1 else second)
            if place is None:
                boxes[kind].append([np.nan] * 4)
                continue
            x, y = place
            frame[y : y + OBJECT_HW[0], x : x + OBJECT_HW[1]] = _object_patch(kind)
            boxes[kind].append([x, y, OBJECT_HW[1], OBJECT_HW[0]])
        frames.append(frame)
    return frames, {kind: np.asarray(b, np.float64) for kind, b in boxes.items()}


def _long_term_cfg(nanotrack_weights, backend="onnxruntime", long_term=True):
    return nanotrack_cfg(
        3, nanotrack_weights, "TRACKER.BACKEND", backend, "TRACKER.LONG_TERM", long_term
    )


def test_presence_drops_on_frames_without_the_target(nanotrack_weights):
    frames, boxes = leave_and_return_frames({0: ((40, 40), (40, 40))})
    tracker = SiamTracker(_long_term_cfg(nanotrack_weights, long_term=False))
    result = tracker.track(frames, boxes[0][0])
    absent = np.isnan(boxes[0][:, 0])
    assert result.present[~absent].all()
    assert np.all(result.confidences[~absent][1:] > 0.8)
    assert not result.present[absent].any() and np.all(result.confidences[absent] < 0.3)
    assert np.all(np.isnan(result.reported_boxes_xywh[absent]))
    assert np.all(result.scores[absent] > 0.3)  # the raw score alone would not tell


@pytest.mark.parametrize("backend", ["onnxruntime", "torch"])
def test_a_target_that_leaves_and_comes_back_is_found_again(nanotrack_weights, backend):
    frames, boxes = leave_and_return_frames({0: ((30, 30), (250, 170))})
    truth = boxes[0]
    back = int(np.flatnonzero(~np.isnan(truth[:, 0]))[8])  # first frame after the cut-away
    long_term = SiamTracker(_long_term_cfg(nanotrack_weights, backend)).track(frames, truth[0])
    ious = iou_xywh(long_term.boxes_xywh[back:], truth[back:])
    found = int(np.argmax(ious > 0.5))
    assert ious[found] > 0.5 and found <= 5, ious  # re-found within a few frames
    assert np.all(ious[found:] > 0.5) and long_term.present[back + found :].all()
    # without re-detection the far-away return is never found
    short_term = SiamTracker(_long_term_cfg(nanotrack_weights, backend, long_term=False))
    result = short_term.track(frames, truth[0])
    assert np.all(iou_xywh(result.boxes_xywh[back:], truth[back:]) < 0.1)


def test_several_targets_one_leaves_and_comes_back(nanotrack_weights):
    # object 0 leaves with the cut-away and returns elsewhere; object 1 stays put throughout
    frames, boxes = leave_and_return_frames({0: ((30, 30), (250, 170)), 1: ((200, 40), None)})
    tracker = MultiTargetTracker(_long_term_cfg(nanotrack_weights))
    crops_per_frame = []
    tracker.init(frames[0], {k: b[0] for k, b in boxes.items()})
    results = []
    for frame in frames[1:]:
        results.append(tracker.update(frame))
        crops_per_frame.append({k: len(c) for k, c in tracker.last_candidates.items()})
    last = results[-1]
    assert iou_xywh(last[0].box_xywh[None], boxes[0][-1:])[0] > 0.5 and last[0].present
    assert iou_xywh(last[1].box_xywh[None], boxes[1][-1:])[0] > 0.5 and last[1].present
    assert all(r[1].present for r in results)
    # cost: one crop per present target; while target 0 is searched for: its local crop +
    # TRACKER.REDETECT_CROPS tiles, target 1 still one
    assert crops_per_frame[0] == {0: 1, 1: 1}
    assert {0: 1 + tracker.redetect_crops, 1: 1} in crops_per_frame


def test_bad_presence_settings_name_the_key(nanotrack_weights, tmp_path):
    with pytest.raises(ValueError, match="TRACKER.PRESENCE_THRESHOLD must lie in"):
        SiamTracker(nanotrack_cfg(2, nanotrack_weights, "TRACKER.PRESENCE_THRESHOLD", 1.5))
    with pytest.raises(FileNotFoundError, match="nope.json"):
        SiamTracker(nanotrack_cfg(2, nanotrack_weights, "TRACKER.PRESENCE_MODEL", "nope.json"))
    # the v3 model (15x15 map) with the v2 network (16x16): refused when the tracker is built
    cfg = nanotrack_cfg(2, nanotrack_weights, "TRACKER.PRESENCE_MODEL",
                        nanotrack_cfg(3, nanotrack_weights).TRACKER.PRESENCE_MODEL)  # fmt: skip
    with pytest.raises(ValueError, match=r"nanotrack_v3\.json was fit for score maps "
                                         r"\(1, 15, 15\).*gives \(1, 16, 16\)"):  # fmt: skip
        SiamTracker(cfg)
