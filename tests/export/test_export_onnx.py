"""siamtrack's ONNX layout for every family, the onnxruntime tracker on exported files, and
tools/export_onnx.py (exit codes, --force, --check, nothing left behind)."""

import os
import sys

import cv2
import numpy as np
import onnx
import pytest
import torch

from siamtrack import SiamTracker, load_config
from siamtrack.export import (
    TEMPLATE_FILE,
    TRACK_FILE,
    SiameseGraphs,
    check_export,
    deploy,
    export_graphs,
    export_layouts,
    load_siamese_graphs,
    save_export,
)
from siamtrack.io import load_sequence
from siamtrack.utils.boxes import iou_xywh

from ..conftest import CONFIGS_DIR
from ..modeling.helpers import TINY_PYSOT, TINY_STANDARD, build, random_images, randomize_batchnorm
from .helpers import nanotrack_config, released_nanotrack

TOLERANCE = 1e-4  # max difference relative to the output range
SIAMRPN_CONFIGS = {  # random weights, BatchNorm statistics randomised
    "R50-pysot-layout": TINY_PYSOT,  # R-50 l234, shrunken widths, 63 / 127 crops
    "R50-standard-layout": TINY_STANDARD,
    "R18-light": CONFIGS_DIR / "siamrpn" / "siamrpn_R_18_narrow_l23_dwxcorr_cpu.yaml",
}


def well_scaled(model):
    """Rescale every ``predictor`` conv of a random-weight SiamRPN++ so its outputs have unit
    spread: deep random networks give logits of ~1e3, whose softmax would turn float rounding
    (identical up to 1e-6 relative) into 1e-4 score differences."""
    predictors = {n: m for n, m in model.named_modules() if n.endswith("predictor")}
    spreads = {}

    def record(name):
        def hook(module, inputs, output):
            spreads[name] = output.std().item()

        return hook

    hooks = [m.register_forward_hook(record(n)) for n, m in predictors.items()]
    with torch.no_grad():
        features = model.encode_template(random_images(1, model.template_size))
        model.track(features, random_images(1, model.search_size, seed=1))
        for hook in hooks:
            hook.remove()
        for name, module in predictors.items():
            module.weight /= spreads[name]
            module.bias /= spreads[name]
    return model


def assert_close(differences):
    assert differences
    for difference in differences:
        assert difference.max_rel < TOLERANCE, str(difference)


def batch_axis(graph: bytes):
    return [
        i.type.tensor_type.shape.dim[0].dim_param for i in onnx.load_from_string(graph).graph.input
    ]


@pytest.mark.parametrize("name", sorted(SIAMRPN_CONFIGS))
def test_siamrpn_graphs_match_pytorch(name):
    model = well_scaled(randomize_batchnorm(build(SIAMRPN_CONFIGS[name])).eval())
    graphs = export_graphs(model, "siamtrack")
    assert graphs.metadata["meta_architecture"] == "SiameseRPN"
    assert set(batch_axis(graphs.template) + batch_axis(graphs.track)) == {"batch"}
    differences = check_export(model, graphs, batch_sizes=(1, 3))
    assert len(differences) == 2 * (len(graphs.feature_names) + 2)
    assert_close(differences)


@pytest.mark.parametrize("version", [1, 2, 3])
def test_nanotrack_graphs_match_pytorch(nanotrack_weights, version):
    model = released_nanotrack(version, nanotrack_weights)
    graphs = export_graphs(model, "siamtrack")
    assert graphs.metadata["score_size"] == str(model.score_size)
    assert_close(check_export(model, graphs, batch_sizes=(1, 3)))


@pytest.fixture(scope="module")
def crossing(shared_data):
    sequence = load_sequence(shared_data / "sequences" / "Crossing")
    return [cv2.imread(p) for p in sequence.frame_paths], sequence.boxes_xywh


@pytest.mark.parametrize("version", [2])  # v3's graphs: test_nanotrack_graphs_match_pytorch
def test_tracker_on_exported_files_matches_pytorch(nanotrack_weights, crossing, tmp_path, version):
    """TRACKER.ONNX_DIR builds no torch model (MODEL.WEIGHTS points nowhere) and gives the eager
    tracker's boxes within 1e-3 px: the first step free-running, then every frame stepped from
    the eager tracker's state (free-running trackers drift apart: cv2.warpAffine places crops on
    a 1/32 px grid, so ~1e-5 px state differences eventually move a crop)."""
    frames, truth = crossing
    save_export(export_graphs(released_nanotrack(version, nanotrack_weights)), tmp_path / "onnx")
    config = str(nanotrack_config(version))
    weights = str(nanotrack_weights / f"nanotrackv{version}.pth")
    eager = SiamTracker(load_config(config, [
        "MODEL.WEIGHTS", weights, "TRACKER.BACKEND", "torch", "TRACKER.FOLD_BATCHNORM", False,
        "TRACKER.JIT_FREEZE", False,
    ]))  # fmt: skip
    exported = SiamTracker(load_config(config, [
        "MODEL.WEIGHTS", str(tmp_path / "missing.pth"), "TRACKER.BACKEND", "onnxruntime",
        "TRACKER.ONNX_DIR", str(tmp_path / "onnx"),
    ]))  # fmt: skip
    assert exported.network.description.startswith("onnxruntime")
    free = exported.track(frames[:2], truth[0]).boxes_xywh
    assert np.abs(free - eager.track(frames[:2], truth[0]).boxes_xywh).max() < 1e-3
    eager.init(frames[0], truth[0])
    exported.init(frames[0], truth[0])
    worst, boxes = 0.0, [truth[0]]
    for frame in frames[1:]:
        exported.set_box(eager.box_xywh)
        boxes.append(eager.update(frame).box_xywh)
        worst = max(worst, float(np.abs(exported.update(frame).box_xywh - boxes[-1]).max()))
    assert worst < 1e-3
    assert iou_xywh(np.asarray(boxes), truth).mean() > 0.6  # and it tracks


# ---------------------------------------------------------------------- tools/export_onnx.py
@pytest.fixture
def zoo(nanotrack_weights, monkeypatch):
    monkeypatch.setenv("SIAMTRACK_WEIGHTS_DIR", str(nanotrack_weights))


def run_tool(tool, capsys, *args):
    code = tool.main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def leftovers(folder):
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".partial"))


def test_cli_zoo_name_check_and_force(export_tool, zoo, tmp_path, capsys):
    output = tmp_path / "v2"
    code, out, err = run_tool(
        export_tool, capsys, "--weights", "nanotrack_v2", "--output", output, "--check"
    )
    assert code == 0, err
    assert "check passed" in out and "track.onnx:scores (batch 2)" in out
    assert "relative to the output range" in out
    assert sorted(os.listdir(output)) == [TEMPLATE_FILE, TRACK_FILE]
    assert load_siamese_graphs(output).metadata["meta_architecture"] == "NanoTrack"
    first = (output / TRACK_FILE).read_bytes()

    code, _, err = run_tool(export_tool, capsys, "--weights", "nanotrack_v2", "--output", output)
    assert code == 2
    assert err.startswith("export_onnx.py: error: ") and "--force" in err
    assert len(err.strip().splitlines()) == 1

    config = CONFIGS_DIR / "nanotrack" / "nanotrack_v1.yaml"
    args = ("--config-file", config, "--weights", "nanotrack_v1", "--output", output, "--force")
    assert run_tool(export_tool, capsys, *args)[0] == 0
    assert (output / TRACK_FILE).read_bytes() != first  # replaced by v1
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize(
    "args, message",
    [
        (["--config-file", "nanotrack_v3", "--weights", "nanotrack_v2"], "does not exist"),
        (["--config-file", nanotrack_config(3), "--weights", "nanotrack_v2"], "does not fit"),
        (["--weights", "some/model.pth"], "some/model.pth is not a model zoo name"),
        (["--config-file", nanotrack_config(2)], "no weights"),
        (["--weights", "nanotrack_v3", "--layout", "opencv-nano"], "15x15"),
        (
            ["--config-file", TINY_PYSOT, "--weights", "x.pth", "--opts", "MODEL.BAD", 1],
            "MODEL.BAD",
        ),
    ],
)
def test_cli_errors(export_tool, zoo, tmp_path, capsys, args, message):
    code, out, err = run_tool(export_tool, capsys, "--output", tmp_path / "out", *args)
    assert code == 2
    assert err.startswith("export_onnx.py: error: ") and message in err, err
    assert len(err.strip().splitlines()) == 1
    assert os.listdir(tmp_path) == []


def test_cli_layouts_are_the_library_layouts(export_tool):
    # the CLI names them without importing torch (the families' manifests)
    assert export_tool.LAYOUTS == export_layouts()


def test_cli_check_failure_writes_nothing(export_tool, zoo, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(export_tool, "CHECK_TOLERANCE", 1e-12)  # real numbers, impossible bar
    args = ("--weights", "nanotrack_v2", "--output", tmp_path / "out", "--layout", "opencv-nano")
    code, out, err = run_tool(export_tool, capsys, *args, "--check")
    assert code == 1
    assert "nanotrack_head.onnx:output2 (box ltrb): max abs diff" in out
    assert "check failed" in err and "nothing written" in err
    assert os.listdir(tmp_path) == []


def test_cli_check_needs_onnxruntime(export_tool, zoo, tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # makes `import onnxruntime` fail
    args = ("--weights", "nanotrack_v2", "--output", tmp_path / "out", "--check")
    code, _, err = run_tool(export_tool, capsys, *args)
    assert code == 2 and "pip install onnxruntime" in err
    assert os.listdir(tmp_path) == []


def test_failure_mid_export_leaves_nothing_behind(export_tool, zoo, tmp_path, capsys, monkeypatch):
    """A write failing after the first file: no export folder, no temporary files, and an
    export being replaced (--force) keeps its old files."""
    writes, failing = [], [True]

    def write_then_fail(path, data):
        if writes and failing[0]:
            raise OSError(f"disk full while writing {path.name}")
        writes.append(path)
        path.write_bytes(data)

    monkeypatch.setattr(deploy, "_write", write_then_fail)
    output = tmp_path / "new" / "export"
    code, _, err = run_tool(export_tool, capsys, "--weights", "nanotrack_v2", "--output", output)
    assert code == 2 and "disk full" in err
    assert len(writes) == 1 and not writes[0].exists()
    assert not output.exists() and leftovers(output.parent) == []

    failing[0] = False
    assert run_tool(export_tool, capsys, "--weights", "nanotrack_v2", "--output", output)[0] == 0
    before = {name: (output / name).read_bytes() for name in os.listdir(output)}
    writes.clear()
    failing[0] = True
    args = ("--weights", "nanotrack_v1", "--output", output, "--force")
    assert run_tool(export_tool, capsys, *args)[0] == 2
    assert {name: (output / name).read_bytes() for name in os.listdir(output)} == before
    assert leftovers(output.parent) == []


def test_save_export_writes_into_an_existing_folder(tmp_path):
    graphs = SiameseGraphs(b"template", b"track", {})
    (tmp_path / "file").write_text("x")
    with pytest.raises(NotADirectoryError, match="not a folder"):
        save_export(graphs, tmp_path / "file")
    (tmp_path / "folder").mkdir()
    (tmp_path / "folder" / "notes.txt").write_text("kept")
    save_export(graphs, tmp_path / "folder")
    assert sorted(os.listdir(tmp_path / "folder")) == ["notes.txt", TEMPLATE_FILE, TRACK_FILE]
    assert (tmp_path / "folder" / TRACK_FILE).read_bytes() == b"track"
    assert sorted(os.listdir(tmp_path)) == ["file", "folder"]
