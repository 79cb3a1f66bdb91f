"""SiamTracker with the real SiameseRPN (tiny random-weights config) on real frames."""

import numpy as np
import pytest
import torch

from siamtrack.io.sequences import load_sequence
from siamtrack.modeling import count_batchnorm
from siamtrack.tracking import InferenceOptions, SiamTracker

from .tiny_model import TINY_PYSOT, TINY_STANDARD, build_tiny_model, tiny_cfg


@pytest.fixture(scope="module")
def crossing(shared_data):
    sequence = load_sequence(shared_data / "sequences" / "Crossing")
    import cv2

    frames = [cv2.imread(p) for p in sequence.frame_paths[:12]]
    return frames, sequence.boxes_xywh[0]


def _randomize_norms(model, seed=0):
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for module in model.modules():
            if hasattr(module, "running_mean") and hasattr(module, "running_var"):
                module.running_mean.copy_(
                    torch.randn(module.running_mean.shape, generator=generator) * 0.1
                )
                module.running_var.copy_(
                    torch.rand(module.running_var.shape, generator=generator) + 0.5
                )
                module.weight.copy_(torch.rand(module.weight.shape, generator=generator) + 0.5)
                module.bias.copy_(torch.randn(module.bias.shape, generator=generator) * 0.1)
    return model


def test_from_config_builds_and_tracks(crossing):
    frames, box = crossing
    torch.manual_seed(0)
    tracker = SiamTracker(tiny_cfg("TRACKER.PENALTY_K", 0.2))
    assert tracker.penalty_k == 0.2 and tracker.search_size == 127 and str(tracker.device) == "cpu"
    assert (
        tracker.lr == tiny_cfg().TRACKER.LR
        and tracker.window_influence == tiny_cfg().TRACKER.WINDOW_INFLUENCE
    )
    result = tracker.track(frames, box)
    height, width = frames[0].shape[:2]
    assert result.boxes_xywh.shape == (12, 4) and np.all(np.isfinite(result.boxes_xywh))
    centres = result.boxes_xywh[:, :2] + result.boxes_xywh[:, 2:] / 2
    assert np.all((centres >= 0) & (centres <= [width, height]))
    assert np.all((result.scores >= 0) & (result.scores <= 1))


@pytest.mark.parametrize("config_file", [TINY_PYSOT, TINY_STANDARD], ids=["pysot", "standard"])
def test_zero_deltas_keep_the_centre_exactly(crossing, config_file):
    """With zero box deltas the chosen anchor is centred on the crop centre: pysot's 0.5 px
    centre shift would show here."""
    frames, box = crossing
    model = build_tiny_model(config_file=config_file)
    with torch.no_grad():
        for level in model.head.levels.values():
            for branch in (level.cls, level.loc):
                branch.predictor.weight.zero_()
                branch.predictor.bias.zero_()
    tracker = SiamTracker(model=model)
    tracker.init(frames[0], box)
    centre = box[:2] + box[2:] / 2
    for _ in range(3):
        result = tracker.update(frames[0])
        np.testing.assert_allclose(
            result.box_xywh[:2] + result.box_xywh[2:] / 2, centre, rtol=0, atol=1e-9
        )
        assert result.score == pytest.approx(0.5)


def test_template_branch_runs_once_and_outputs_are_deterministic(crossing):
    frames, box = crossing
    model = build_tiny_model()
    calls = []
    model.head.register_forward_pre_hook(lambda *a: calls.append(1))  # forward() = both sides
    runs = [SiamTracker(model=model).track(frames[:6], box) for _ in range(2)]
    np.testing.assert_array_equal(runs[0].boxes_xywh, runs[1].boxes_xywh)
    np.testing.assert_array_equal(runs[0].scores, runs[1].scores)
    assert calls == []  # tracking never re-runs the template side through forward()


FAST_FP32_OPTIONS = [
    InferenceOptions.eager(),  # the plain eager model: the reference
    InferenceOptions(jit_freeze=False),
    InferenceOptions(jit_freeze=False, channels_last=True),
    InferenceOptions(),  # the torch default: BatchNorm folded + jit freeze
    InferenceOptions(channels_last=True),
    InferenceOptions(backend="onnxruntime"),  # siamtrack's ONNX graphs in onnxruntime
]


def test_fp32_speedups_give_the_same_outputs(crossing):
    frames, box = crossing
    model = _randomize_norms(build_tiny_model())
    trackers = [SiamTracker(model=model, inference=options) for options in FAST_FP32_OPTIONS]
    plain = trackers[0]
    assert all(getattr(t.network, "model", None) is not model for t in trackers[1:])
    rng = np.random.default_rng(0)
    template = rng.integers(0, 256, (63, 63, 3), dtype=np.uint8)
    search = rng.integers(0, 256, (127, 127, 3), dtype=np.uint8)
    template, search = template[None], search[None]  # a batch of one target
    reference = plain.network.track(plain.network.encode_template(template), search)
    for other in trackers[1:]:
        scores, boxes = other.network.track(other.network.encode_template(template), search)
        assert np.max(np.abs(scores - reference[0])) < 1e-5
        # random weights on raw 0-255 input give box offsets of ~1e4-1e6 px: relative check
        assert np.max(np.abs(boxes - reference[1])) < 1e-4 * np.max(np.abs(reference[1]))
    # Tracker level with sane boxes: constant small deltas (the scores still come from the
    # network). A random-weights tracker is chaotic, so rounding differences grow over frames:
    # compare free-running boxes on the first frames and, on every frame, all trackers
    # stepped from the same state.
    with torch.no_grad():
        for level in model.head.levels.values():
            level.loc.predictor.weight.zero_()
            level.loc.predictor.bias.copy_(
                torch.from_numpy(rng.normal(0, 0.1, level.loc.predictor.bias.shape))
            )
    trackers = [SiamTracker(model=model, inference=options) for options in FAST_FP32_OPTIONS]
    plain = trackers[0]
    # A random-weights tracker is chaotic (saturated scores, growing boxes), so rounding
    # differences grow over frames: compare free-running boxes on the first frames and, on
    # every frame, all trackers stepped from the same state.
    free = [t.track(frames[:3], box).boxes_xywh for t in trackers]
    assert max(np.max(np.abs(b - free[0])) for b in free[1:]) < 1e-3
    for tracker in trackers:
        tracker.init(frames[0], box)
    for frame in frames[1:]:
        state = plain.box_xywh
        reference_box = plain.update(frame).box_xywh
        for other in trackers[1:]:
            other.set_box(state)
            assert np.max(np.abs(other.update(frame).box_xywh - reference_box)) < 1e-3
    frozen = list(trackers[3].network._frozen_steps.values())
    assert len(frozen) == 1 and frozen[0] is not None  # the jit path really ran


def test_missing_weights_file_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.pth"):
        SiamTracker(tiny_cfg("MODEL.WEIGHTS", str(tmp_path / "nope.pth")))


def test_own_model_is_folded_in_place_and_others_are_copied(crossing):
    frames, box = crossing
    model = _randomize_norms(build_tiny_model())
    copied = SiamTracker(model=model, inference=InferenceOptions(jit_freeze=False))
    assert copied.network.model is not model and count_batchnorm(model) > 0
    expected = copied.track(frames[:4], box).boxes_xywh
    owner = SiamTracker(model=model, inference=InferenceOptions(jit_freeze=False), own_model=True)
    assert owner.network.model is model and count_batchnorm(model) == 0  # no second copy
    np.testing.assert_allclose(owner.track(frames[:4], box).boxes_xywh, expected, atol=1e-3)
    built = SiamTracker(tiny_cfg())  # builds its own model: owns it
    assert count_batchnorm(built.network.model) == 0
