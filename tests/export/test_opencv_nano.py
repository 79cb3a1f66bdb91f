"""OpenCV's NanoTrack layout: graphs equal to the model, refused models, cv2.TrackerNano on real
sequences with siamtrack's export (released and fine-tuned weights) next to the official files."""

import cv2
import numpy as np
import onnx
import pytest
import torch

from siamtrack.evaluation import evaluate
from siamtrack.export import check_export, export_graphs, save_export
from siamtrack.export.onnx import create_session
from siamtrack.families.nanotrack import (
    BACKBONE_FILE,
    HEAD_FILE,
    check_opencv_nano_model,
    export_opencv_nano_graphs,
    load_opencv_nano_graphs,
)
from siamtrack.io import load_sequence, load_sequences
from siamtrack.tracking import OpenCVTracker
from siamtrack.utils.boxes import iou_xywh

from ..modeling.helpers import TINY_PYSOT, build
from .helpers import nanotrack_config, released_nanotrack

OFFICIAL_V2 = ("onnx/v2/nanotrack_backbone_sim_v2.onnx", "onnx/v2/nanotrack_head_sim_v2.onnx")
# Measured on sequences_eval (8 sequences, 1478 frames), cv2 5.0.0, mean success AUC: official
# v2 files 0.7152, siamtrack's export of the same weights 0.7069. Our graphs fed the official
# files' (BGR) input reproduce the official run exactly (0.7152), so the whole gap comes from
# OpenCV now feeding the network the channel order it was trained on: the run changes
# chaotically, almost all of it on vot14_motocross (0.494 -> 0.423; the other 7 sequences:
# 0.7468 -> 0.7475). "At least as well" is therefore checked with this margin.
AUC_MARGIN = 0.015


@pytest.fixture(autouse=True)
def opencv_single_thread():
    previous = cv2.getNumThreads()
    cv2.setNumThreads(1)
    yield
    cv2.setNumThreads(previous)


def io_shapes(graph: bytes):
    def dims(value):
        return [d.dim_param or d.dim_value for d in value.type.tensor_type.shape.dim]

    proto = onnx.load_from_string(graph).graph
    return {v.name: dims(v) for v in list(proto.input) + list(proto.output)}


def test_graphs_have_opencv_names_and_shapes(nanotrack_v2):
    graphs = export_graphs(nanotrack_v2, "opencv-nano")
    assert io_shapes(graphs.backbone) == {
        "input": [1, 3, "height", "width"],
        "output": [1, 48, "height", "width"],
    }
    assert io_shapes(graphs.head) == {
        "input1": [1, 48, 8, 8],
        "input2": [1, 48, 16, 16],
        "output1": [1, 2, 16, 16],
        "output2": [1, 4, 16, 16],
    }
    assert graphs.metadata["input_channel_order"] == "RGB"
    differences = check_export(nanotrack_v2, graphs)
    assert [d.name.split(" ")[0] for d in differences] == [
        f"{BACKBONE_FILE}:output",
        f"{BACKBONE_FILE}:output",
        f"{HEAD_FILE}:output1",
        f"{HEAD_FILE}:output2",
    ]
    for difference in differences:
        assert difference.max_rel < 1e-4, str(difference)


def test_graphs_equal_the_official_files_up_to_the_channel_order(nanotrack_v2, nanotrack_weights):
    """Ours on RGB == the official v2 graphs on BGR (the same weights; only the input order
    differs, which is the point: OpenCV feeds RGB)."""
    graphs = export_opencv_nano_graphs(nanotrack_v2)
    ours = [create_session(g) for g in (graphs.backbone, graphs.head)]
    official = [create_session(nanotrack_weights / f) for f in OFFICIAL_V2]
    rng = np.random.default_rng(0)
    search_bgr = rng.integers(0, 256, (1, 3, 255, 255)).astype(np.float32)
    template_bgr = rng.integers(0, 256, (1, 3, 127, 127)).astype(np.float32)
    (feature,) = ours[0].run(None, {"input": np.ascontiguousarray(search_bgr[:, ::-1])})
    (reference,) = official[0].run(None, {"input": search_bgr})
    assert np.abs(feature - reference).max() < 1e-4 * np.ptp(reference)
    (template_feature,) = ours[0].run(None, {"input": np.ascontiguousarray(template_bgr[:, ::-1])})
    feeds = {"input1": template_feature, "input2": feature}
    for value, reference in zip(ours[1].run(None, feeds), official[1].run(None, feeds)):
        assert np.abs(value - reference).max() < 1e-4 * np.ptp(reference)


def test_rgb_input_is_folded_into_the_stem(nanotrack_v2):
    graphs = export_opencv_nano_graphs(nanotrack_v2)
    first_ops = [node.op_type for node in onnx.load_from_string(graphs.backbone).graph.node[:1]]
    assert first_ops == ["Conv"]  # no Slice / Gather / Sub before it
    assert torch.equal(nanotrack_v2.pixel_mean, torch.zeros(1, 3, 1, 1))  # model not modified


@pytest.mark.parametrize("input_format", ["BGR", "RGB"])
def test_normalisation_and_channel_order_of_other_models(input_format):
    """A model with per-channel mean/std (random weights), trained on BGR or on RGB."""
    opts = ["MODEL.PIXEL_MEAN", [10.0, 60.0, 120.0], "MODEL.PIXEL_STD", [2.0, 30.0, 50.0]]
    model = build(nanotrack_config(2), *opts, "INPUT.FORMAT", input_format).eval()
    graphs = export_opencv_nano_graphs(model)
    for difference in check_export(model, graphs):
        assert difference.max_rel < 1e-4, str(difference)


def test_models_opencv_cannot_run_are_refused(nanotrack_weights):
    with pytest.raises(ValueError, match=r"score map side 15 \(expected 16\).*15x15"):
        export_graphs(released_nanotrack(3, nanotrack_weights), "opencv-nano")
    with pytest.raises(ValueError, match="anchor-free.*SiameseRPN \\(5 anchors"):
        check_opencv_nano_model(build(TINY_PYSOT).eval())
    with pytest.raises(ValueError, match="search size 287 \\(expected 255\\)"):
        check_opencv_nano_model(build(nanotrack_config(2), "MODEL.SIAMESE.SEARCH_SIZE", 287))


def test_cv2_tracker_nano_tracks_the_evaluation_set(
    nanotrack_v2, nanotrack_weights, shared_data, tmp_path
):
    """~1500 frames, decoded once, through cv2.TrackerNano twice (~10 ms a frame each)."""
    files = save_export(export_graphs(nanotrack_v2, "opencv-nano"), tmp_path / "nano")
    trackers = {
        "ours": OpenCVTracker("Nano", model_files=files),
        "official": OpenCVTracker("Nano", model_files=[nanotrack_weights / f for f in OFFICIAL_V2]),
    }
    sequences = load_sequences(shared_data / "sequences_eval")
    assert len(sequences) == 8
    auc = {name: [] for name in trackers}
    for sequence in sequences:
        frames = [cv2.imread(path) for path in sequence.frame_paths]
        for name, tracker in trackers.items():
            boxes = tracker.track(frames, sequence.boxes_xywh[0]).boxes_xywh
            auc[name].append(evaluate(boxes, sequence.boxes_xywh, sequence.absent)["auc"])
    ours, official = np.mean(auc["ours"]), np.mean(auc["official"])
    assert ours > 0.65
    assert ours >= official - AUC_MARGIN, (auc, ours, official)


def test_finetuned_checkpoint_exports_and_runs_in_cv2(
    export_tool, nanotrack_v2, shared_data, tmp_path, capsys
):
    """Hook for the fine-tuning work: a siamtrack checkpoint ({"model": state_dict}) of a
    slightly changed NanoTrack v2, exported with the CLI, tracks in cv2.TrackerNano."""
    generator = torch.Generator().manual_seed(0)
    state = {}
    for key, value in nanotrack_v2.state_dict().items():
        if torch.is_floating_point(value) and not key.endswith(("running_mean", "running_var")):
            value = value * (1 + 0.02 * torch.randn(value.shape, generator=generator))
        state[key] = value
    torch.save({"model": state}, tmp_path / "model_final.pth")
    output = tmp_path / "deploy"
    code = export_tool.main([
        "--config-file", str(nanotrack_config(2)), "--weights", str(tmp_path / "model_final.pth"),
        "--output", str(output), "--layout", "opencv-nano", "--check",
    ])  # fmt: skip
    assert code == 0, capsys.readouterr().err
    assert load_opencv_nano_graphs(output).metadata["layout"] == "opencv-nano"
    sequence = load_sequence(shared_data / "sequences" / "Crossing")
    frames = [cv2.imread(p) for p in sequence.frame_paths[:30]]
    tracker = OpenCVTracker("Nano", model_files=(output / BACKBONE_FILE, output / HEAD_FILE))
    boxes = tracker.track(frames, sequence.boxes_xywh[0]).boxes_xywh
    assert np.isfinite(boxes).all()
    assert iou_xywh(boxes, sequence.boxes_xywh[:30]).mean() > 0.3
