"""SiamTracker contract with stub models (no weights): identity, types, bounds, determinism."""

import dataclasses
from dataclasses import replace

import cv2
import numpy as np
import pytest
import torch

from siamtrack.data.crops import siamese_crop_sides
from siamtrack.tracking import InferenceOptions, SiamTracker, TrackResult, TrackSequenceResult

from .stub_models import CentreStubModel, ContentStubModel

EAGER = InferenceOptions.eager()  # the stubs count their calls: run them as given
EAGER_FP16 = replace(EAGER, precision="fp16")


def _textured_image(height=240, width=320, seed=0):
    rng = np.random.default_rng(seed)
    image = cv2.resize(
        rng.integers(0, 256, (height // 8, width // 8, 3), dtype=np.uint8), (width, height)
    )
    return image


def _moving_sequence(num_frames=8, seed=1):
    """A textured background with a bright square drifting right and down."""
    background = _textured_image(seed=seed)
    frames = []
    for k in range(num_frames):
        frame = background.copy()
        x, y = 100 + 3 * k, 80 + 2 * k
        frame[y : y + 40, x : x + 30] = (40, 200, 240)
        frames.append(frame)
    return frames, np.array([100.0, 80.0, 30.0, 40.0])


def _centre_stub_for(box_xywh, context=0.5, **kwargs):
    """A stub whose best anchor predicts zero offset and exactly the target's crop size."""
    stub = CentreStubModel(**kwargs)
    _, search_side = siamese_crop_sides(
        box_xywh[2], box_xywh[3], context, stub.template_size, stub.search_size
    )
    crop_scale = stub.search_size / search_side
    stub.centre_box_wh = tuple(np.asarray(box_xywh[2:], dtype=np.float64) * crop_scale)
    return stub, crop_scale


@pytest.mark.parametrize(
    "box_xywh",
    [
        [100.0, 60.0, 32.0, 32.0],
        [101.3, 57.7, 41.0, 23.5],
        [2.5, 200.25, 60.0, 35.0],
        [290.0, -5.0, 50.0, 20.0],
    ],  # last: crosses the border
)
def test_unchanged_frame_returns_init_box_exactly(box_xywh):
    image = _textured_image()
    stub, _ = _centre_stub_for(box_xywh)
    tracker = SiamTracker(model=stub, penalty_k=0.3, window_influence=0.4, lr=0.45, inference=EAGER)
    tracker.init(image, box_xywh)
    for k in range(1, 4):
        result = tracker.update(image)
        np.testing.assert_array_equal(result.box_xywh, np.asarray(box_xywh))
        assert result.frame_index == k
        assert result.score == pytest.approx(0.9)
    assert stub.template_calls == 1 and stub.track_calls == 3  # template cached


def test_centre_offset_moves_box_by_offset_over_scale():
    box = np.array([100.0, 60.0, 32.0, 32.0])
    stub, crop_scale = _centre_stub_for(box)
    stub.centre_offset_xy = (8.0, -4.0)
    tracker = SiamTracker(model=stub, lr=0.0, inference=EAGER)
    tracker.init(_textured_image(), box)
    result = tracker.update(_textured_image())
    np.testing.assert_allclose(
        result.box_xywh, box + [8.0 / crop_scale, -4.0 / crop_scale, 0, 0], atol=1e-9
    )


def test_size_smoothing_follows_lr_times_penalty_times_score():
    box = np.array([100.0, 60.0, 40.0, 40.0])
    stub, crop_scale = _centre_stub_for(box)
    stub.centre_box_wh = (stub.centre_box_wh[0] * 1.2, stub.centre_box_wh[1] * 1.2)
    tracker = SiamTracker(model=stub, penalty_k=0.0, window_influence=0.0, lr=0.5, inference=EAGER)
    tracker.init(_textured_image(), box)
    result = tracker.update(_textured_image())
    step = 1.0 * float(np.float32(0.9)) * 0.5  # penalty (k=0) * float32 score * lr
    expected_w = 40.0 + step * (48.0 - 40.0)
    np.testing.assert_allclose(result.box_xywh[2:], [expected_w, expected_w], rtol=1e-12)
    np.testing.assert_allclose(
        result.box_xywh[:2] + result.box_xywh[2:] / 2, [120.0, 80.0], rtol=1e-12
    )


def test_result_types_and_immutability():
    frames, box = _moving_sequence(3)
    tracker = SiamTracker(model=ContentStubModel(), inference=EAGER)
    initial = tracker.init(frames[0], box)  # frame 0's result: the given box, score 1.0
    assert initial.frame_index == 0 and initial.score == 1.0
    np.testing.assert_array_equal(initial.box_xywh, box)
    result = tracker.update(frames[1])
    assert isinstance(result, TrackResult)
    assert result.box_xywh.shape == (4,) and result.box_xywh.dtype == np.float64
    assert isinstance(result.score, float) and 0.0 <= result.score <= 1.0
    assert result.frame_index == 1
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.score = 0.0
    with pytest.raises(ValueError):
        result.box_xywh[0] = 5.0
    pysot = result.as_pysot_dict()
    assert set(pysot) == {"bbox", "best_score"} and pysot["bbox"] == result.box_xywh.tolist()


def test_box_stays_inside_image_and_tracking_is_deterministic():
    frames, box = _moving_sequence(6)
    height, width = frames[0].shape[:2]
    model = ContentStubModel()
    runs = []
    for _ in range(2):
        tracker = SiamTracker(model=model, min_size=10.0, inference=EAGER)
        runs.append(tracker.track(frames, box))
    np.testing.assert_array_equal(runs[0].boxes_xywh, runs[1].boxes_xywh)
    np.testing.assert_array_equal(runs[0].scores, runs[1].scores)
    boxes = runs[0].boxes_xywh[1:]
    centres = boxes[:, :2] + boxes[:, 2:] / 2
    assert np.all((centres >= 0) & (centres <= [width, height]))
    assert np.all((boxes[:, 2:] >= 10.0) & (boxes[:, 2:] <= [width, height]))


def test_box_clipped_when_prediction_leaves_the_image():
    box = np.array([300.0, 200.0, 20.0, 20.0])
    stub, _ = _centre_stub_for(box, centre_score=1.0)
    stub.centre_offset_xy = (400.0, 400.0)
    stub.centre_box_wh = (5000.0, 1.0)
    tracker = SiamTracker(
        model=stub, penalty_k=0.0, window_influence=0.0, lr=1.0, min_size=10.0, inference=EAGER
    )
    image = _textured_image()
    tracker.init(image, box)
    result = tracker.update(image)
    cx, cy = result.box_xywh[:2] + result.box_xywh[2:] / 2
    assert (cx, cy) == (320.0, 240.0)
    assert tuple(result.box_xywh[2:]) == (320.0, 10.0)


def test_track_sequence_result_rows_and_paths(tmp_path, caplog):
    frames, box = _moving_sequence(4)
    paths = []
    for k, frame in enumerate(frames):
        paths.append(str(tmp_path / f"{k:04d}.png"))
        cv2.imwrite(paths[-1], frame)
    tracker = SiamTracker(model=ContentStubModel(), inference=EAGER)
    from_arrays = tracker.track(frames, box)
    from_paths = tracker.track(paths, box)  # track() re-initialises
    assert isinstance(from_arrays, TrackSequenceResult) and len(from_arrays) == 4
    np.testing.assert_array_equal(from_arrays.boxes_xywh[0], box)
    assert from_arrays.scores[0] == 1.0 and np.all(from_arrays.times >= 0)
    np.testing.assert_array_equal(from_arrays.boxes_xywh, from_paths.boxes_xywh)
    # the loop's rule for unreadable frames: the previous box again, NaN score, a warning
    with caplog.at_level("WARNING"):
        partial = tracker.track([paths[0], str(tmp_path / "missing.png"), paths[1]], box)
    assert len(partial) == 3 and "missing.png" in caplog.text
    np.testing.assert_array_equal(partial.boxes_xywh[1], partial.boxes_xywh[0])
    assert np.isnan(partial.scores[1]) and partial.times[1] == 0.0
    with pytest.raises(ValueError, match="missing.png"):  # the first frame must be readable
        tracker.track([str(tmp_path / "missing.png"), paths[0]], box)


def test_trackers_with_different_settings_share_a_model():
    frames, box = _moving_sequence(5)
    model = ContentStubModel()
    calm = SiamTracker(model=model, penalty_k=0.5, window_influence=0.7, lr=0.1, inference=EAGER)
    eager = SiamTracker(model=model, penalty_k=0.0, window_influence=0.0, lr=1.0, inference=EAGER)
    calm.init(frames[0], box)
    eager.init(frames[0], box + [5, 5, 0, 0])
    for frame in frames[1:]:
        calm_box, eager_box = calm.update(frame).box_xywh, eager.update(frame).box_xywh
    alone = SiamTracker(
        model=model, penalty_k=0.5, window_influence=0.7, lr=0.1, inference=EAGER
    ).track(frames, box)
    np.testing.assert_array_equal(calm_box, alone.boxes_xywh[-1])
    assert not np.array_equal(calm_box, eager_box)


def test_model_in_training_mode_is_restored():
    model = ContentStubModel().train()
    frames, box = _moving_sequence(2)
    tracker = SiamTracker(model=model, inference=EAGER)
    tracker.track(frames, box)
    assert model.training and model.norm.training
    assert torch.is_grad_enabled() and not torch.is_inference_mode_enabled()  # nothing leaks


@pytest.mark.parametrize(
    "image, box, message",
    [
        (np.zeros((50, 60), np.uint8), [1, 1, 5, 5], "HxWx3"),
        (np.zeros((50, 60, 3), np.float32), [1, 1, 5, 5], "uint8"),
        (np.zeros((50, 60, 3), np.uint8), [1, 1, 0, 5], "positive width"),
        (np.zeros((50, 60, 3), np.uint8), [100, 1, 5, 5], "outside"),
        (np.zeros((50, 60, 3), np.uint8), [1, 1, 5], r"\[x, y, w, h\]"),
        (np.zeros((50, 60, 3), np.uint8), [1, np.nan, 5, 5], "finite"),
    ],
)
def test_bad_init_input(image, box, message):
    tracker = SiamTracker(model=ContentStubModel(), inference=EAGER)
    with pytest.raises(ValueError, match=message):
        tracker.init(image, box)


def test_update_before_init_and_bad_settings():
    tracker = SiamTracker(model=ContentStubModel(), inference=EAGER)
    with pytest.raises(RuntimeError, match="init"):
        tracker.update(np.zeros((50, 60, 3), np.uint8))
    with pytest.raises(ValueError, match="lr"):
        SiamTracker(model=ContentStubModel(), lr=2.0, inference=EAGER)
    with pytest.raises(ValueError, match="fp16"):
        SiamTracker(model=ContentStubModel(), inference=EAGER_FP16, device="cpu")
    with pytest.raises(ValueError, match="precision"):
        InferenceOptions(precision="int8")
    with pytest.raises(TypeError, match="encode_template"):
        SiamTracker(model=torch.nn.Linear(2, 2), inference=EAGER)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the no-GPU error")
def test_cuda_request_without_gpu_is_a_clear_error():
    with pytest.raises(ValueError, match="CUDA is not available"):
        SiamTracker(model=ContentStubModel(), device="cuda", inference=EAGER)


def test_bf16_autocast_runs_on_cpu():
    frames, box = _moving_sequence(3)
    model = ContentStubModel()
    exact = SiamTracker(model=model, inference=EAGER).track(frames, box)
    fast = SiamTracker(model=model, inference=replace(EAGER, precision="bf16")).track(frames, box)
    assert fast.boxes_xywh.shape == exact.boxes_xywh.shape
    assert np.all(np.isfinite(fast.boxes_xywh))


def test_jit_freeze_falls_back_to_eager_when_tracing_fails(monkeypatch, caplog):
    frames, box = _moving_sequence(3)
    model = ContentStubModel()
    expected = SiamTracker(model=model, inference=EAGER).track(frames, box)

    def broken_trace(*args, **kwargs):
        raise RuntimeError("cannot trace this")

    monkeypatch.setattr(torch.jit, "trace", broken_trace)
    tracker = SiamTracker(model=model, inference=replace(EAGER, jit_freeze=True))
    result = tracker.track(frames, box)
    np.testing.assert_array_equal(result.boxes_xywh, expected.boxes_xywh)
    assert "jit_freeze failed" in caplog.text and "cannot trace this" in caplog.text
    bf16 = SiamTracker(
        model=model, inference=replace(EAGER, jit_freeze=True, precision="bf16")
    )  # jit: fp32 only
    assert bf16.network._jit_freeze is False and len(bf16.track(frames, box)) == 3
