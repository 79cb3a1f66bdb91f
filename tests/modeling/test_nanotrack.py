"""NanoTrack v1/v2/v3 (the NanoTrack meta-architecture): structure, released weights, parity with the official ONNX."""

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch

from siamtrack.checkpoint import InvalidCheckpointError, SiamCheckpointer, read_checkpoint
from siamtrack.families.nanotrack import NanoTrack
from siamtrack.families.nanotrack.checkpoint import UNUSED_KEYS
from siamtrack.modeling import SiameseNetwork, fold_batchnorm
from siamtrack.modeling.analysis import analyze_flops, count_parameters

from ..conftest import CONFIGS_DIR
from .helpers import build

VERSIONS = (1, 2, 3)
# backbone + head learnable parameters (NanoTrack's README figures) and the score map side
PARAMETERS = {1: 287_966, 2: 334_078, 3: 541_446}
SCORE_SIZE = {1: 16, 2: 16, 3: 15}
# Official ONNX outputs (onnxruntime) on the reference inputs A and B: sum of the template
# feature, (sum, min, max) of cls and of loc.
REFERENCE = {
    (1, "A"): (603.157, (645.901, -2.46763, 9.21950), (31795.52, 14.3627, 50.0276)),
    (1, "B"): (-173.607, (1793.160, -1.44720, 12.21144), (31906.33, 0.01588, 84.4065)),
    (2, "A"): (786.791, (18.6784, -3.97417, 4.40898), (33659.25, 12.5591, 63.1069)),
    (2, "B"): (156.494, (82.5022, -4.36351, 4.94085), (33102.95, 12.5264, 66.5511)),
    (3, "A"): (1208.438, (-29.1633, -4.53705, 4.35233), (28835.14, 17.4252, 49.6477)),
    (3, "B"): (-536.954, (-60.9308, -4.67839, 4.48422), (29240.64, 15.2056, 54.2939)),
}
ONNX_FILES = {
    1: ("v1/nanotrack_backbone_sim.onnx", "v1/nanotrack_head_sim.onnx"),
    2: ("v2/nanotrack_backbone_sim_v2.onnx", "v2/nanotrack_head_sim_v2.onnx"),
    3: ("v3/nanotrack_backbone.onnx", "v3/nanotrack_head.onnx"),
}


def config_file(version: int):
    return CONFIGS_DIR / "nanotrack" / f"nanotrack_v{version}.yaml"


def reference_inputs(case: str):
    """Template (1, 3, 127, 127) and search (1, 3, 255, 255) float32 of the reference cases."""
    if case == "A":
        template = np.full((1, 3, 127, 127), 128, np.float32)
        search = np.random.default_rng(0).integers(0, 256, size=(1, 3, 255, 255))
    else:
        template = np.random.default_rng(1).integers(0, 256, size=(1, 3, 127, 127))
        c, y, x = np.meshgrid(np.arange(3), np.arange(255), np.arange(255), indexing="ij")
        search = ((x + 2 * y + 40 * c) % 256)[None]
    return template.astype(np.float32), search.astype(np.float32)


@pytest.fixture(scope="module")
def released(nanotrack_weights):
    """The three released models, loaded from the .pth files."""
    models = {}
    for version in VERSIONS:
        model = build(config_file(version)).eval()
        SiamCheckpointer(model).load(str(nanotrack_weights / f"nanotrackv{version}.pth"))
        models[version] = model
    return models


def _official_sessions(folder, version):
    backbone_path, head_path = (folder / "onnx" / name for name in ONNX_FILES[version])
    backbone = onnx.load(str(backbone_path))
    for value in list(backbone.graph.input) + list(backbone.graph.output):  # 127 and 255 inputs
        dims = value.type.tensor_type.shape.dim
        dims[2].dim_param, dims[3].dim_param = "height", "width"
    del backbone.graph.value_info[:]
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    return (
        ort.InferenceSession(backbone.SerializeToString(), options),
        ort.InferenceSession(str(head_path), options),
    )


@pytest.mark.parametrize("version", VERSIONS)
def test_structure_matches_the_release(version):
    model = build(config_file(version))
    assert isinstance(model, NanoTrack) and isinstance(model, SiameseNetwork)
    params = count_parameters(model)
    assert params["backbone"] + params["head"] == params["total"] == PARAMETERS[version]
    assert (model.num_anchors, model.score_size) == (1, SCORE_SIZE[version])
    features = model.encode_template(torch.zeros(2, 3, 127, 127, dtype=torch.uint8))
    output = model.track(features, torch.zeros(2, 3, 255, 255, dtype=torch.uint8))
    size = SCORE_SIZE[version]
    assert output.scores.shape == (2, 1, size, size)
    assert output.boxes_cxcywh.shape == (2, 1, size, size, 4)


@pytest.mark.parametrize("version", VERSIONS)
def test_every_released_key_is_mapped_or_listed_unused(
    nanotrack_weights, shared_reference, version
):
    fmt, state, extra = read_checkpoint(str(nanotrack_weights / f"nanotrackv{version}.pth"))
    assert fmt == "nanotrack" and extra["nanotrack_version"] == version
    listing = (shared_reference / f"nanotrack_v{version}_state_dict.tsv").read_text().splitlines()
    keys = [line.split("\t")[0] for line in listing[1:]]
    unused = [k for k in keys if UNUSED_KEYS.match(k)]
    assert len(unused) == 6 and all(k.startswith("neck.") for k in unused)
    assert len(state) == len(keys) - len(unused)
    model = build(config_file(version))
    assert set(state) == set(model.state_dict())  # strict: nothing missing, nothing extra


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("case", ["A", "B"])
def test_outputs_equal_the_official_onnx(released, nanotrack_weights, version, case):
    model = released[version]
    template, search = reference_inputs(case)
    backbone, head = _official_sessions(nanotrack_weights, version)
    template_feature = backbone.run(None, {backbone.get_inputs()[0].name: template})[0]
    search_feature = backbone.run(None, {backbone.get_inputs()[0].name: search})[0]
    cls_ref, loc_ref = head.run(None, {"input1": template_feature, "input2": search_feature})
    with torch.no_grad():
        features = model.encode_template(torch.from_numpy(template))
        cls, loc = (t.numpy() for t in model.raw_outputs(features, torch.from_numpy(search)))
    for ours, official in ((cls, cls_ref), (loc, loc_ref)):
        assert ours.shape == official.shape
        assert np.abs(ours - official).max() <= 1e-4 * (official.max() - official.min())
    feature_sum, cls_stats, loc_stats = REFERENCE[(version, case)]
    assert float(template_feature.sum()) == pytest.approx(feature_sum, abs=0.01)
    for values, (total, low, high) in ((cls, cls_stats), (loc, loc_stats)):
        assert float(values.sum()) == pytest.approx(total, rel=1e-5, abs=0.01)
        assert float(values.min()) == pytest.approx(low, abs=1e-3)
        assert float(values.max()) == pytest.approx(high, abs=1e-3)


def test_decoded_boxes_follow_the_point_grid(released):
    model = released[2]
    points = model.points_xy
    assert points[8, 8].tolist() == [127.5, 127.5]  # cell S // 2 on the crop centre
    assert points[0, 0].tolist() == [-0.5, -0.5] and points[0, 1, 0] - points[0, 0, 0] == 16
    cls = torch.zeros(1, 2, 16, 16)
    ltrb = torch.tensor([10.0, 20.0, 30.0, 40.0]).view(1, 4, 1, 1).expand(1, 4, 16, 16)
    boxes = model.decode(cls, ltrb).boxes_cxcywh[0, 0]
    # box = [p_x - l, p_y - t, p_x + r, p_y + b]: centre p + ((r - l) / 2, (b - t) / 2)
    assert boxes[8, 8].tolist() == [137.5, 137.5, 40.0, 60.0]


def test_compute_per_tracking_step(released):
    gmac = {version: analyze_flops(model) for version, model in released.items()}
    # convolutions, linear layers and the correlation matmul with BatchNorm folded, as run
    for version, expected in ((1, 69.10), (2, 78.04), (3, 107.89)):
        assert 1000 * gmac[version]["track_step_folded"] == pytest.approx(expected, abs=0.01)
    folded = analyze_flops(fold_batchnorm(released[1]))
    assert 1000 * folded["template_branch"] == pytest.approx(11.53, abs=0.01)  # backbone on 127
    assert folded["track_step"] == pytest.approx(gmac[1]["track_step_folded"])


def test_wrong_family_and_wrong_version_are_explained(nanotrack_weights, tmp_path):
    rpn = build(
        CONFIGS_DIR / "siamrpn" / "quick_schedules" / "siamrpn_tiny_standard_instant_test.yaml"
    )
    with pytest.raises(InvalidCheckpointError, match="nanotrack v3 weights, which a SiameseRPN"):
        SiamCheckpointer(rpn).load(str(nanotrack_weights / "nanotrackv3.pth"))
    v3 = build(config_file(3))
    with pytest.raises(InvalidCheckpointError, match="NanoTrack v2: use .*nanotrack_v2.yaml"):
        SiamCheckpointer(v3).load(str(nanotrack_weights / "nanotrackv2.pth"))
    torch.save({"model": rpn.state_dict()}, tmp_path / "rpn.pth")  # a SiamRPN++ checkpoint
    with pytest.raises(InvalidCheckpointError, match="none of its .* NanoTrack model"):
        SiamCheckpointer(v3).load(str(tmp_path / "rpn.pth"))
    truncated = tmp_path / "nanotrackv3.pth"
    truncated.write_bytes((nanotrack_weights / "nanotrackv3.pth").read_bytes()[:100_000])
    with pytest.raises(InvalidCheckpointError, match="truncated, corrupted"):
        SiamCheckpointer(v3).load(str(truncated))
