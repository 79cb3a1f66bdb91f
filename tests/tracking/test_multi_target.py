"""MultiTargetTracker: K targets in one batched call equal K single trackers; add, remove,
presence."""

import cv2
import numpy as np
import pytest
import torch

from siamtrack.config import load_config
from siamtrack.io.sequences import load_sequence
from siamtrack.tracking import InferenceOptions, MultiTargetTracker, SiamTracker

from ..conftest import CONFIGS_DIR
from .test_nanotrack_tracker import moving_object_frames, nanotrack_cfg
from .tiny_model import build_tiny_model


@pytest.fixture(scope="module")
def sequences(shared_data):
    loaded = {}
    for name in ("Crossing", "Deer"):
        sequence = load_sequence(shared_data / "sequences" / name)
        loaded[name] = ([cv2.imread(p) for p in sequence.frame_paths[:40]], sequence.boxes_xywh)
    return loaded


def _other_box(frames, box):
    """A second target: the ground-truth box moved by a third of the image, inside it."""
    height, width = frames[0].shape[:2]
    x = (box[0] + width / 3) % max(1.0, width - box[2])
    return np.array([x, box[1], box[2], box[3]])


def _independent(make_tracker, frames, boxes):
    return [make_tracker().track(frames, box).boxes_xywh for box in boxes]


@pytest.mark.parametrize("name", ["Crossing", "Deer"])
def test_nanotrack_targets_together_equal_independent_trackers(nanotrack_weights, sequences, name):
    frames, truth = sequences[name]
    cfg = nanotrack_cfg(3, nanotrack_weights)  # the default backend: onnxruntime
    boxes = [truth[0], truth[0], _other_box(frames, truth[0])]  # the same target twice + another
    together = MultiTargetTracker(cfg).track(frames, boxes)
    alone = _independent(lambda: SiamTracker(cfg), frames, boxes)
    for k, expected in enumerate(alone):
        assert np.abs(together[k].boxes_xywh - expected).max() < 1e-4


def test_siamrpn_targets_together_equal_independent_trackers(sequences):
    frames, truth = sequences["Crossing"]
    model = build_tiny_model()
    boxes = [truth[0], _other_box(frames, truth[0])]
    together = MultiTargetTracker(model=model).track(frames[:15], boxes)
    alone = _independent(lambda: SiamTracker(model=model), frames[:15], boxes)
    for k, expected in enumerate(alone):
        assert np.abs(together[k].boxes_xywh - expected).max() < 1e-4


def test_torch_backend_steps_match_single_trackers(nanotrack_weights, sequences):
    """With PyTorch kernels a batch of K is not bit-identical to K batches of 1; stepped from
    the same states, boxes agree within 1e-4 px."""
    frames, truth = sequences["Crossing"]
    cfg = nanotrack_cfg(3, nanotrack_weights, "TRACKER.BACKEND", "torch")
    boxes = [truth[0], _other_box(frames, truth[0])]
    singles = [SiamTracker(cfg) for _ in boxes]
    together = MultiTargetTracker(cfg)
    together.init(frames[0], boxes)
    for single, box in zip(singles, boxes):
        single.init(frames[0], box)
    for frame in frames[1:20]:
        for k, single in enumerate(singles):
            together.set_box(k, single.box_xywh)
        result = together.update(frame)
        for k, single in enumerate(singles):
            assert np.abs(result[k].box_xywh - single.update(frame).box_xywh).max() < 1e-4


def test_targets_are_added_and_removed_by_id(nanotrack_weights, sequences):
    frames, truth = sequences["Crossing"]
    cfg = nanotrack_cfg(2, nanotrack_weights)
    other = _other_box(frames, truth[0])
    tracker = MultiTargetTracker(cfg)
    tracker.init(frames[0], {"walker": truth[0]})
    late = SiamTracker(cfg)
    for index, frame in enumerate(frames[1:20], start=1):
        if index == 5:
            added = tracker.add(frames[4], "late", other)  # on the frame it was drawn on
            assert added.score == 1.0 and tracker.target_ids == ["walker", "late"]
            late.init(frames[4], other)
        if index == 12:
            tracker.remove("walker")
            assert tracker.target_ids == ["late"]
        result = tracker.update(frame)
        if index >= 5:
            np.testing.assert_allclose(
                result["late"].box_xywh, late.update(frame).box_xywh, atol=1e-4
            )
        assert ("walker" in result.targets) == (index < 12)
    walker_alone = SiamTracker(cfg).track(frames[:12], truth[0]).boxes_xywh[-1]
    tracker.init(frames[0], {"walker": truth[0]})  # init starts over
    for frame in frames[1:12]:
        last = tracker.update(frame)["walker"].box_xywh
    np.testing.assert_allclose(last, walker_alone, atol=1e-4)


def test_presence_when_the_target_leaves_the_image(nanotrack_weights):
    # moving right 15 px/frame out of the 320 px wide frame: fully visible up to frame 9,
    # gone from frame 12
    frames, boxes = moving_object_frames(20, start=(150, 80), step=(15, 0))
    box = list(boxes[0])
    # the raw score as confidence (no presence model): NanoTrack scores the visible object
    # 1.0 and the border it is left with ~0.9
    cfg = nanotrack_cfg(2, nanotrack_weights, "TRACKER.PRESENCE_MODEL", "",
                        "TRACKER.PRESENCE_THRESHOLD", 0.95)  # fmt: skip
    tracker = MultiTargetTracker(cfg)
    assert tracker.init(frames[0], [box])[0].present
    results = [tracker.update(frame)[0] for frame in frames[1:]]
    scores = np.array([r.score for r in results])
    present = np.array([r.present for r in results])
    np.testing.assert_array_equal([r.confidence for r in results], scores)
    assert present[:9].all() and np.all(scores[:9] > 0.95)  # frames 1-9: visible
    np.testing.assert_array_equal(present, scores >= 0.95)
    assert not present[11:].any()  # gone
    single = SiamTracker(cfg)  # the single-target tracker reports the same
    single.init(frames[0], box)
    assert [single.update(frame).present for frame in frames[1:]] == present.tolist()


def test_bad_input_names_the_target_and_others_keep_tracking(nanotrack_weights, sequences):
    frames, truth = sequences["Crossing"]
    cfg = nanotrack_cfg(2, nanotrack_weights)
    tracker = MultiTargetTracker(cfg)
    with pytest.raises(ValueError, match="init box of target 'b'.*outside"):
        tracker.init(frames[0], {"a": truth[0], "b": [1000, 1000, 10, 10]})
    tracker.init(frames[0], {"a": truth[0]})
    with pytest.raises(ValueError, match="target id 'a' is already tracked"):
        tracker.add(frames[0], "a", truth[0])
    with pytest.raises(ValueError, match="init box of target 'c'.*positive"):
        tracker.add(frames[0], "c", [10, 10, 0, 5])
    with pytest.raises(KeyError, match="target 'nope' is not tracked"):
        tracker.remove("nope")
    for bad_box in ([10, 10, 0, 5], [10, float("nan"), 5, 5]):
        with pytest.raises(ValueError, match="box must be a finite"):
            tracker.set_box("a", bad_box)
    assert tracker.target_ids == ["a"]
    alone = SiamTracker(cfg).track(frames[:4], truth[0]).boxes_xywh
    for k, frame in enumerate(frames[1:4], start=1):
        np.testing.assert_allclose(tracker.update(frame)["a"].box_xywh, alone[k], atol=1e-4)
    with pytest.raises(RuntimeError, match="init"):
        MultiTargetTracker(cfg).update(frames[0])


def test_unreadable_frame_keeps_every_target_row(tmp_path):
    frames, truth = moving_object_frames(num_frames=4)
    paths = []
    for k, frame in enumerate(frames):
        paths.append(str(tmp_path / f"{k}.png"))
        cv2.imwrite(paths[-1], frame)
    paths[2] = str(tmp_path / "missing.png")
    torch.manual_seed(0)
    model = build_tiny_model()
    result = MultiTargetTracker(model=model, inference=InferenceOptions.eager()).track(
        paths, [truth[0], truth[0] + [5, 5, 0, 0]]
    )
    for track in result.values():
        assert len(track) == 4 and np.isnan(track.scores[2])
        np.testing.assert_array_equal(track.boxes_xywh[2], track.boxes_xywh[1])


def test_config_builds_the_presence_settings():
    cfg = load_config(str(CONFIGS_DIR / "siamrpn" / "quick_schedules" / "siamrpn_tiny_standard_instant_test.yaml"),
                      ["TRACKER.REDETECT_AFTER", 7, "TRACKER.LONG_TERM", True,
                       "TRACKER.PRESENCE_THRESHOLD", 0.4])  # fmt: skip
    tracker = MultiTargetTracker(cfg)
    assert tracker.redetect_after == 7 and tracker.long_term
    assert (
        tracker.presence_threshold == 0.4 and tracker.redetect_crops == cfg.TRACKER.REDETECT_CROPS
    )


class _NeverPresent:
    """A presence model that never sees the target (an untrained network's raw score can
    saturate at 1.0, so no threshold makes it absent)."""

    def check_score_shape(self, score_shape, description):
        pass

    def confidence(self, scores, score):
        return 0.0


@pytest.mark.parametrize("backend", ["torch", "onnxruntime"])
def test_siamrpn_lost_targets_search_their_tiles_in_the_shared_call(sequences, backend):
    """The SiamRPN++ family in long-term mode, two targets that are never present: both are
    lost after one frame, and from then on each frame's one network call holds each target's
    local crop and its two re-detection tiles."""
    frames, truth = sequences["Crossing"]
    cfg = load_config(str(CONFIGS_DIR / "siamrpn" / "quick_schedules" / "siamrpn_tiny_standard_instant_test.yaml"),
                      ["TRACKER.BACKEND", backend, "TRACKER.LONG_TERM", True,
                       "TRACKER.REDETECT_AFTER", 1, "TRACKER.REDETECT_CROPS", 2])  # fmt: skip
    torch.manual_seed(0)
    tracker = MultiTargetTracker(cfg, model=build_tiny_model())
    tracker.presence = _NeverPresent()
    batches = []
    track = tracker.network.track
    tracker.network.track = lambda features, crops: batches.append(len(crops)) or track(
        features, crops
    )
    results = tracker.track(frames[:5], [truth[0], _other_box(frames, truth[0])])
    assert batches == [2, 6, 6, 6]
    assert [len(c) for c in tracker.last_candidates.values()] == [3, 3]
    for result in results.values():
        assert not result.present[1:].any() and np.isfinite(result.boxes_xywh).all()
