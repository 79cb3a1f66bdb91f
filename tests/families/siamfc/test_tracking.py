"""SiamFC through the shared tracker, export and tools, with nothing SiamFC-specific in them:
three scale crops per target in the frame's one batched call, a hand-built response moving the
target as computed by hand, boxes inside the image on a real sequence, several targets,
re-detection tiles, the onnxruntime backend, and ``export_onnx --check`` / ``track_video`` /
``eval_tracker``."""

import math
import shutil
import subprocess
import sys

import numpy as np
import pytest
import torch

from siamtrack.checkpoint import SiamCheckpointer
from siamtrack.evaluation import run_ope
from siamtrack.export import check_export, export_graphs
from siamtrack.families.siamfc import SiamFC
from siamtrack.io.sequences import Sequence, load_sequence
from siamtrack.tracking import MultiTargetTracker, SiamTracker

from ...conftest import REPO_ROOT
from .common import TINY, tiny_cfg, tiny_model

STEP, LR = 1.0375, 0.59


def _search_side(w, h):
    """The search crop side (image px) of a w x h target: the SiamRPN++ context rule."""
    pad = 0.5 * (w + h)
    return math.sqrt((w + pad) * (h + pad)) * 255 / 127


def _record_calls(monkeypatch, tracker):
    """The batch size of every ``backend.track`` call."""
    calls = []
    track = tracker.network.track

    def recording(features, crops):
        calls.append(len(crops))
        return track(features, crops)

    monkeypatch.setattr(tracker.network, "track", recording)
    return calls


@pytest.fixture(scope="module")
def crossing(shared_data):
    sequence = load_sequence(shared_data / "sequences" / "Crossing")
    return Sequence("Crossing12", sequence.frame_paths[:12], sequence.boxes_xywh[:12])


@pytest.fixture(scope="module")
def model():
    return tiny_model()


# ------------------------------------------------------------------------- a hand-built response
def _logits(peaks):
    """(3, 1, 17, 17) logits: background probability 0.018, one peak per scale crop."""
    maps = torch.full((3, 1, 17, 17), -4.0)
    for k, (probability, row, col) in enumerate(peaks):
        maps[k, 0, row, col] = math.log(probability / (1 - probability))
    return maps


@pytest.fixture
def hand_built_network(monkeypatch):
    """Every SiamFC returns, for crop k of a call, the response of scale k % 3: the largest
    scale (1.0375) has the best penalised peak, 3 cells right and 2 up of the centre."""
    logits = _logits([(0.8, 8, 8), (0.7, 8, 8), (0.9, 6, 11)])

    def raw_outputs(self, template_features, search_images):
        response = torch.stack([logits[k % 3] for k in range(len(search_images))])
        return response, response[:, :0]

    monkeypatch.setattr(SiamFC, "raw_outputs", raw_outputs)


def _expected_box(box_xywh):
    """By hand: the 1.0375 crop wins (0.9 * 0.9745 > 0.8 * 0.9745 > 0.7); its peak cell lies
    (+24, -16) crop px from the crop centre (no window), i.e. that times side * 1.0375 / 255
    image px; the size times 1 - 0.59 + 0.59 * 1.0375."""
    x, y, w, h = box_xywh
    side = _search_side(w, h) * STEP
    cx, cy = x + w / 2 + 24 * side / 255, y + h / 2 - 16 * side / 255
    scale = 1 - LR + LR * STEP
    return [cx - w * scale / 2, cy - h * scale / 2, w * scale, h * scale]


def test_a_hand_built_response_moves_and_scales_the_target_as_by_hand(
    hand_built_network, monkeypatch
):
    cfg = tiny_cfg("TRACKER.WINDOW_INFLUENCE", 0.0, "TRACKER.JIT_FREEZE", False)
    tracker = MultiTargetTracker(cfg, model=tiny_model())
    calls = _record_calls(monkeypatch, tracker)
    frame = np.full((240, 320, 3), 90, np.uint8)
    boxes = {"a": [100.0, 80.0, 40.0, 40.0], "b": [200.0, 120.0, 20.0, 30.0]}
    tracker.init(frame, boxes)
    result = tracker.update(frame)
    assert calls == [6]  # 3 scale crops of each target, one batched call
    for target, box in boxes.items():
        assert result[target].box_xywh == pytest.approx(_expected_box(box), abs=1e-9)
        assert result[target].score == pytest.approx(0.9)
        assert tracker.last_candidates[target][0].scores[0, 6, 11] == pytest.approx(0.9)
    # the next frame starts from the new boxes
    second = tracker.update(frame)
    for target, box in boxes.items():
        expected = _expected_box(_expected_box(box))
        assert second[target].box_xywh == pytest.approx(expected, abs=1e-9)


def test_with_the_window_the_peak_stays_within_a_quarter_crop_pixel(hand_built_network):
    tracker = SiamTracker(tiny_cfg("TRACKER.JIT_FREEZE", False), model=tiny_model())
    frame = np.full((240, 320, 3), 90, np.uint8)
    tracker.init(frame, [100.0, 80.0, 40.0, 40.0])
    box = tracker.update(frame).box_xywh
    expected = _expected_box([100.0, 80.0, 40.0, 40.0])
    image_per_crop = _search_side(40.0, 40.0) * STEP / 255
    assert box[2:] == pytest.approx(expected[2:])
    assert np.abs(box[:2] - expected[:2]).max() <= 0.25 * image_per_crop + 1e-9


# ------------------------------------------------------------------------- a real sequence
def test_random_model_tracks_a_real_sequence_inside_the_image(model, crossing, monkeypatch):
    tracker = SiamTracker(tiny_cfg(), model=model)
    calls = _record_calls(monkeypatch, tracker)
    result = tracker.track(crossing.frame_paths, crossing.boxes_xywh[0])
    assert calls == [3] * (len(crossing.frame_paths) - 1)  # 3 crops per frame, one call
    boxes = result.boxes_xywh
    height, width = 240, 360
    assert boxes.shape == (12, 4) and np.isfinite(boxes).all()
    centres = boxes[:, :2] + boxes[:, 2:] / 2
    assert (
        (centres >= 0).all() and (centres[:, 0] <= width).all() and (centres[:, 1] <= height).all()
    )
    assert (boxes[:, 2] <= width).all() and (boxes[:, 3] <= height).all()
    assert (boxes[:, 2:] >= 10.0 - 1e-9).all()
    assert np.isfinite(result.scores).all() and ((result.scores >= 0) & (result.scores <= 1)).all()
    # the scale only changes by the damped pyramid steps: w_k / w_0 = (1 +- 0.59 * 0.0375 ...)^n
    ratios = boxes[1:, 2] / boxes[:-1, 2]
    allowed = [1.0, 1 - LR + LR * STEP, 1 - LR + LR / STEP]
    assert all(min(abs(r - a) for a in allowed) < 1e-9 for r in ratios), ratios
    assert np.allclose(boxes[:, 2] / boxes[:, 3], boxes[0, 2] / boxes[0, 3])  # aspect kept
    # the run scores through the shared evaluation
    report = run_ope(SiamTracker(tiny_cfg(), model=model), [crossing], show_progress=False)
    assert 0.0 <= report.metrics()["auc"] <= 1.0


def test_several_targets_equal_separate_trackers(model, crossing, monkeypatch):
    boxes = {"walker": crossing.boxes_xywh[0], "left": [40.0, 60.0, 30.0, 50.0]}
    tracker = MultiTargetTracker(tiny_cfg(), model=model)
    calls = _record_calls(monkeypatch, tracker)
    together = tracker.track(crossing.frame_paths[:8], boxes)
    assert calls == [6] * 7  # 2 targets x 3 scales, one batched call per frame
    for target, box in boxes.items():
        alone = SiamTracker(tiny_cfg(), model=model).track(crossing.frame_paths[:8], box)
        assert np.abs(together[target].boxes_xywh - alone.boxes_xywh).max() < 1e-3


def test_redetection_tiles_search_one_crop_each(model, crossing, monkeypatch):
    """Long-term mode with a threshold no score reaches: the target counts as absent, and from
    the next frame on its 3 pyramid crops and 2 re-detection tiles share the batched call."""
    cfg = tiny_cfg("TRACKER.LONG_TERM", True, "TRACKER.PRESENCE_THRESHOLD", 1.0,
                   "TRACKER.REDETECT_AFTER", 1, "TRACKER.REDETECT_CROPS", 2)  # fmt: skip
    tracker = SiamTracker(cfg, model=model)
    calls = _record_calls(monkeypatch, tracker)
    result = tracker.track(crossing.frame_paths[:5], crossing.boxes_xywh[0])
    assert calls == [3, 5, 5, 5]
    assert np.isfinite(result.boxes_xywh).all()


def test_onnxruntime_backend_tracks_as_torch(model, crossing):
    torch_run = SiamTracker(tiny_cfg(), model=model).track(
        crossing.frame_paths, crossing.boxes_xywh[0]
    )
    onnx_cfg = tiny_cfg("TRACKER.BACKEND", "onnxruntime")
    onnx_run = SiamTracker(onnx_cfg, model=model).track(
        crossing.frame_paths, crossing.boxes_xywh[0]
    )
    assert np.abs(onnx_run.boxes_xywh - torch_run.boxes_xywh).max() < 1e-2


# ------------------------------------------------------------------------- export and tools
def test_export_check_passes(model):
    graphs = export_graphs(model, "siamtrack")
    assert graphs.metadata["meta_architecture"] == "SiamFC"
    assert (graphs.metadata["score_size"], graphs.metadata["num_anchors"]) == ("17", "1")
    differences = check_export(model, graphs, batch_sizes=(1, 3))
    assert len(differences) == 6
    for difference in differences:
        assert difference.max_rel < 1e-4, str(difference)


def _run(*args):
    result = subprocess.run(
        [sys.executable, *map(str, args)], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def test_tools_run_siamfc(model, crossing, tmp_path):
    """export_onnx --check, track_video and eval_tracker on a SiamFC checkpoint."""
    SiamCheckpointer(model, save_dir=str(tmp_path)).save("siamfc")
    weights = tmp_path / "siamfc.pth"
    tools = REPO_ROOT / "tools"
    common = ["--config-file", TINY, "--weights", weights]
    exported = _run(tools / "export_onnx.py", *common, "--output", tmp_path / "onnx",
                    "--layout", "siamtrack", "--check")  # fmt: skip
    assert (tmp_path / "onnx" / "track.onnx").is_file() and "max abs diff" in exported.stdout
    sequence = tmp_path / "seq" / "Crossing6"
    (sequence / "img").mkdir(parents=True)
    for path in crossing.frame_paths[:6]:
        shutil.copy(path, sequence / "img")
    np.savetxt(sequence / "groundtruth.txt", crossing.boxes_xywh[:6], fmt="%.2f", delimiter=",")
    box = ",".join(f"{v:g}" for v in crossing.boxes_xywh[0])
    _run(tools / "track_video.py", *common, "--input", sequence / "img", "--init-box", box,
         "--save-boxes", tmp_path / "boxes.csv", "--no-progress")  # fmt: skip
    assert len((tmp_path / "boxes.csv").read_text().splitlines()) == 7  # header + 6 frames
    _run(tools / "eval_tracker.py", *common, "--dataset-root", tmp_path / "seq",
         "--output-dir", tmp_path / "eval", "--opts", "TRACKER.BACKEND", "onnxruntime",
         "TRACKER.ONNX_DIR", tmp_path / "onnx")  # fmt: skip
    assert (tmp_path / "eval" / "ope_results.json").is_file()
