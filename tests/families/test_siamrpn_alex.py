"""SiamRPN (AlexNet + up-channel RPN head) as a SiamRPN++-family configuration: the shared
AlexNet backbone, the up-channel correlation, the head contract with K targets, pysot's weight
files, training, tracking, several targets and export."""

import subprocess
import sys

import cv2
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from detectron2.layers import FrozenBatchNorm2d
from torch.testing import assert_close

from siamtrack.checkpoint import InvalidCheckpointError, SiamCheckpointer, detect_state_dict_format
from siamtrack.errors import ConfigError
from siamtrack.families.siamrpn import (
    UpChannelRPNHead,
    pysot_to_siamtrack_state_dict,
    siamtrack_to_pysot_state_dict,
)
from siamtrack.io.sequences import load_sequence
from siamtrack.modeling import AlexNet, upchannel_xcorr
from siamtrack.modeling.xcorr import _upchannel_xcorr_unrolled
from siamtrack.tracking import InferenceOptions, MultiTargetTracker, SiamTracker

from ..conftest import CONFIGS_DIR, REPO_ROOT
from ..engine.helpers import total_losses, train
from ..modeling.helpers import build, load_cfg, random_images, randomize_batchnorm

TINY = CONFIGS_DIR / "siamrpn" / "quick_schedules" / "siamrpn_alex_upxcorr_tiny_instant_test.yaml"
NETWORK = CONFIGS_DIR / "siamrpn" / "siamrpn_alex_upxcorr.yaml"
DWXCORR = CONFIGS_DIR / "siamrpn" / "siamrpn_alex_dwxcorr.yaml"
TINY_WIDTH = 0.125  # the tiny config's MODEL.ALEXNET.WIDTH_MULT


# ---------------------------------------------------------------------- pysot's layout
# Names and shapes of pysot's modules (pysot/models/backbone/alexnet.py: AlexNetLegacy,
# pysot/models/head/rpn.py: UPChannelRPN, DepthwiseRPN), written out here independently.
PYSOT_ALEXNET_CHANNELS = [3, 96, 256, 384, 384, 256]
PYSOT_ALEXNET_KERNELS = [11, 5, 3, 3, 3]
PYSOT_LEGACY_CONV_INDEX = [0, 4, 8, 11, 14]  # features.N of conv1 ... conv5 (BN at N + 1)


def _pysot_widths(width_mult):
    return [3 if c == 3 else int(c * width_mult) for c in PYSOT_ALEXNET_CHANNELS]


def pysot_key_shapes(width_mult, *, head="up", anchor_num=5, legacy=True):
    """pysot ``ModelBuilder.state_dict()`` keys and shapes of an AlexNet SiamRPN."""
    widths = _pysot_widths(width_mult)
    shapes = {}
    for n, kernel in enumerate(PYSOT_ALEXNET_KERNELS):
        cin, cout = widths[n], widths[n + 1]
        conv, bn = (
            (f"backbone.features.{PYSOT_LEGACY_CONV_INDEX[n]}", f"backbone.features.{PYSOT_LEGACY_CONV_INDEX[n] + 1}")
            if legacy
            else (f"backbone.layer{n + 1}.0", f"backbone.layer{n + 1}.1")
        )  # fmt: skip
        shapes[f"{conv}.weight"] = (cout, cin, kernel, kernel)
        shapes[f"{conv}.bias"] = (cout,)
        for name in ("weight", "bias", "running_mean", "running_var"):
            shapes[f"{bn}.{name}"] = (cout,)
        shapes[f"{bn}.num_batches_tracked"] = ()
    feature_in = widths[-1]
    if head == "up":
        cls_out, loc_out = 2 * anchor_num, 4 * anchor_num
        for name, (cout, cin, kernel) in {
            "template_cls_conv": (feature_in * cls_out, feature_in, 3),
            "template_loc_conv": (feature_in * loc_out, feature_in, 3),
            "search_cls_conv": (feature_in, feature_in, 3),
            "search_loc_conv": (feature_in, feature_in, 3),
            "loc_adjust": (loc_out, loc_out, 1),
        }.items():
            shapes[f"rpn_head.{name}.weight"] = (cout, cin, kernel, kernel)
            shapes[f"rpn_head.{name}.bias"] = (cout,)
    else:  # DepthwiseRPN(anchor_num, 256, 256): DepthwiseXCorr(in, hidden, out) per branch
        for branch, out in (("cls", 2 * anchor_num), ("loc", 4 * anchor_num)):
            prefix = f"rpn_head.{branch}"
            for part in ("conv_kernel", "conv_search"):
                shapes[f"{prefix}.{part}.0.weight"] = (feature_in, feature_in, 3, 3)
            shapes[f"{prefix}.head.0.weight"] = (feature_in, feature_in, 1, 1)
            for part in ("conv_kernel.1", "conv_search.1", "head.1"):
                for name in ("weight", "bias", "running_mean", "running_var"):
                    shapes[f"{prefix}.{part}.{name}"] = (feature_in,)
                shapes[f"{prefix}.{part}.num_batches_tracked"] = ()
            shapes[f"{prefix}.head.3.weight"] = (out, feature_in, 1, 1)
            shapes[f"{prefix}.head.3.bias"] = (out,)
    return shapes


def random_pysot_state_dict(width_mult, seed=0, **layout):
    """Random values in pysot's exact layout; BN statistics positive, conv scales moderate."""
    generator = torch.Generator().manual_seed(seed)
    state = {}
    for key, shape in pysot_key_shapes(width_mult, **layout).items():
        if key.endswith("num_batches_tracked"):
            state[key] = torch.tensor(7, dtype=torch.long)
        elif key.endswith("running_var"):
            state[key] = torch.rand(shape, generator=generator) + 0.5
        elif len(shape) == 4:
            fan_in = shape[1] * shape[2] * shape[3]
            state[key] = torch.randn(shape, generator=generator) / fan_in**0.5
        else:
            state[key] = torch.randn(shape, generator=generator) * 0.1
    return state


def _pysot_alexnet_reference(state, images):
    """pysot's AlexNetLegacy forward in eval mode: conv, BN, [max-pool], [ReLU]."""
    x = images.float()
    for n, index in enumerate(PYSOT_LEGACY_CONV_INDEX):
        conv, bn = f"backbone.features.{index}", f"backbone.features.{index + 1}"
        x = F.conv2d(x, state[f"{conv}.weight"], state[f"{conv}.bias"], stride=2 if n == 0 else 1)
        x = F.batch_norm(
            x, state[f"{bn}.running_mean"], state[f"{bn}.running_var"],
            state[f"{bn}.weight"], state[f"{bn}.bias"], training=False, eps=1e-5,
        )  # fmt: skip
        if n < 2:
            x = F.max_pool2d(x, kernel_size=3, stride=2)
        if n < 4:
            x = F.relu(x)
    return x


def xcorr_slow(search, kernel):
    """pysot's ``xcorr_slow``: one plain conv per sample (the kernel is that sample's weight)."""
    outputs = []
    for b in range(search.shape[0]):
        weight = kernel[b if kernel.shape[0] > 1 else 0]
        weight = weight.reshape(-1, search.shape[1], *weight.shape[1:])
        outputs.append(F.conv2d(search[b : b + 1], weight))
    return torch.cat(outputs)


def pysot_upchannel_reference(state, template_images, search_images):
    """pysot's ModelBuilder (AlexNet, no neck, UPChannelRPN) ``track`` outputs: (cls, loc)."""
    template = _pysot_alexnet_reference(state, template_images)
    search = _pysot_alexnet_reference(state, search_images)

    def conv(name, x):
        return F.conv2d(x, state[f"rpn_head.{name}.weight"], state[f"rpn_head.{name}.bias"])

    cls = xcorr_slow(conv("search_cls_conv", search), conv("template_cls_conv", template))
    loc = xcorr_slow(conv("search_loc_conv", search), conv("template_loc_conv", template))
    return cls, conv("loc_adjust", loc)


def _save_pysot_file(path, state):
    """As pysot's training writes it: DataParallel prefixes inside a training wrapper."""
    torch.save({"epoch": 3, "state_dict": {"module." + k: v for k, v in state.items()}}, path)
    return str(path)


# ---------------------------------------------------------------------- backbone
def test_alexnet_is_pysots_layout_and_geometry():
    model = AlexNet()
    assert model.stage_names == ["conv1", "conv2", "conv3", "conv4", "conv5"]
    total = sum(p.numel() for p in model.parameters())
    pysot = pysot_key_shapes(1.0)
    assert total == sum(
        int(np.prod(s))
        for k, s in pysot.items()
        if k.startswith("backbone.") and not k.endswith(("running_mean", "running_var", "tracked"))
    )
    assert (
        model.output_shape()["conv5"].channels == 256 and model.output_shape()["conv5"].stride == 8
    )
    for size, expected in ((127, 6), (255, 22), (287, 26)):
        assert model(torch.zeros(1, 3, size, size))["conv5"].shape[-1] == expected
    small = AlexNet(width_mult=0.125).eval()
    for size in range(87, 200, 7):
        side, first_center, stride = small.feature_grid(size)
        assert small(torch.zeros(1, 3, size, size))["conv5"].shape[-1] == side
        if size % 8 == 7:  # 8n + 7: the grid is centred on the input centre
            assert first_center + stride * (side - 1) / 2 == size / 2


def test_alexnet_options_groups_last_norm_outputs_and_freezing():
    grouped = AlexNet(groups=(1, 2, 1, 2, 2), last_norm=False, out_features=("conv3", "conv5"))
    assert grouped.conv2.weight.shape == (256, 48, 5, 5) and grouped.conv5.norm is None
    outputs = grouped(torch.zeros(2, 3, 127, 127))
    assert outputs["conv3"].shape == (2, 384, 10, 10) and outputs["conv5"].shape == (2, 256, 6, 6)
    assert grouped.output_shape()["conv3"].stride == 8
    with pytest.raises(ConfigError, match="groups"):
        AlexNet(groups=(1, 5, 1, 1, 1))
    frozen = AlexNet(freeze_at=2, width_mult=0.25)
    assert (
        isinstance(frozen.conv2.norm, FrozenBatchNorm2d) and not frozen.conv1.weight.requires_grad
    )
    assert frozen.conv3.weight.requires_grad


# ---------------------------------------------------------------------- up-channel xcorr
@pytest.mark.parametrize("kernel_batch", [3, 1])
def test_upchannel_xcorr_equals_the_per_sample_loop(kernel_batch):
    generator = torch.Generator().manual_seed(0)
    search = torch.randn(3, 8, 12, 11, generator=generator)
    kernel = torch.randn(kernel_batch, 5 * 8, 4, 3, generator=generator)
    expected = xcorr_slow(search, kernel)
    assert expected.shape == (3, 5, 9, 9)
    assert_close(upchannel_xcorr(search, kernel), expected, rtol=1e-5, atol=1e-5)
    assert_close(_upchannel_xcorr_unrolled(search, kernel), expected, rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match="kernel batch"):
        upchannel_xcorr(search, torch.randn(2, 40, 4, 3))
    with pytest.raises(ValueError, match="O \\* C"):
        upchannel_xcorr(search, torch.randn(3, 41, 4, 3))


# ---------------------------------------------------------------------- head and network
@pytest.fixture(scope="module")
def tiny_model():
    return randomize_batchnorm(build(TINY, seed=3)).eval()


def test_head_is_pysots_upchannel_rpn_and_batches_over_targets(tiny_model):
    model = tiny_model
    head = model.head
    assert isinstance(head, UpChannelRPNHead) and head.in_features == ["conv5"]
    channels = int(256 * TINY_WIDTH)  # conv5's width, 32
    assert head.template_cls_conv.weight.shape == (channels * 10, channels, 3, 3)
    assert head.loc_adjust.weight.shape == (20, 20, 1, 1)
    assert (model.score_size, model.num_anchors) == (17, 5)
    assert model.geometry.first_center == 63.5  # grid centre 63.5 + 8 * 8 = 127.5 = 255 / 2
    templates, searches = random_images(3, 127, seed=1), random_images(3, 255, seed=2)
    with torch.no_grad():
        kernels = model.encode_template(templates)
        assert [k.shape for k in kernels] == [
            (3, channels * 10, 4, 4),
            (3, channels * 20, 4, 4),
        ]
        cls, loc = model.raw_outputs(kernels, searches)
        assert cls.shape == (3, 10, 17, 17) and loc.shape == (3, 20, 17, 17)
        # slow-loop reference of the head on the same features
        z = model.features(model.normalize(templates, "template", "template"), "template")[0]
        x = model.features(model.normalize(searches, "search", "search"), "search")[0]
        ref_cls = xcorr_slow(head.search_cls_conv(x), head.template_cls_conv(z))
        ref_loc = head.loc_adjust(xcorr_slow(head.search_loc_conv(x), head.template_loc_conv(z)))
        assert_close(cls, ref_cls, rtol=1e-4, atol=1e-4 * ref_cls.abs().max().item())
        assert_close(loc, ref_loc, rtol=1e-4, atol=1e-4 * ref_loc.abs().max().item())
        assert all(torch.equal(a, b) for a, b in zip(head([z], [x]), (cls, loc)))
        # K targets: row k of a batch equals target k alone; one template shared by B searches
        for k in range(3):
            alone = model.track(tuple(t[k : k + 1] for t in kernels), searches[k : k + 1])
            batched = model.track(kernels, searches)
            assert_close(batched.scores[k : k + 1], alone.scores, rtol=1e-4, atol=1e-5)
        shared = model.raw_outputs(tuple(t[:1] for t in kernels), searches)
        repeated = model.raw_outputs(tuple(t[:1].expand(3, -1, -1, -1) for t in kernels), searches)
        for a, b in zip(shared, repeated):
            assert_close(a, b, rtol=1e-4, atol=1e-4 * b.abs().max().item())


def test_balanced_gradients_keep_the_outputs_and_scale_the_template_gradients():
    heads = []
    for balanced in (False, True):
        torch.manual_seed(0)
        heads.append(
            UpChannelRPNHead(
                in_feature="conv5", in_channels=8, num_anchors=5, balanced_gradients=balanced
            )
        )
    generator = torch.Generator().manual_seed(1)
    template, search = torch.randn(2, 8, 6, 6, generator=generator), torch.randn(2, 8, 22, 22)
    outputs, grads = [], []
    for head in heads:
        cls, loc = head([template], [search])
        (cls.square().mean() + loc.abs().mean()).backward()
        outputs.append((cls, loc))
        grads.append({n: p.grad for n, p in head.named_parameters()})
    assert all(torch.equal(a, b) for a, b in zip(*outputs))
    scale = heads[1].template_grad_scale
    assert scale == pytest.approx(1 / (48 * 8**2))
    for name, grad in grads[0].items():
        expected = grad * scale if name.startswith("template_") else grad
        assert_close(grads[1][name], expected, rtol=1e-5, atol=1e-12)
    with torch.no_grad():  # tracking: the plain convs
        assert torch.equal(heads[1].eval()([template], [search])[0], outputs[0][0])


def test_network_config_sizes_and_centring():
    cfg = load_cfg(NETWORK)
    assert cfg.MODEL.SIAMESE.HEAD_NAME == "UpChannelRPNHead"
    assert (cfg.TRACKER.PENALTY_K, cfg.TRACKER.WINDOW_INFLUENCE, cfg.TRACKER.LR) == (0.16, 0.4, 0.3)
    model = build(NETWORK, "MODEL.BACKBONE.FREEZE_AT", 0)
    assert (model.template_size, model.search_size, model.score_size) == (127, 287, 21)
    assert sum(p.numel() for p in model.parameters()) == 22_632_932
    with pytest.raises(ConfigError, match=r"SEARCH_SIZE=256 .* off the crop centre.*8n \+ 7"):
        build(TINY, "MODEL.SIAMESE.SEARCH_SIZE", 256)
    with pytest.raises(ConfigError, match="one feature level"):
        build(
            TINY, "MODEL.ALEXNET.OUT_FEATURES", "['conv4', 'conv5']",
            "MODEL.SIAM_RPN.IN_FEATURES", "['conv4', 'conv5']", "MODEL.SIAM_NECK.OUT_CHANNELS", 32,
        )  # fmt: skip


# ---------------------------------------------------------------------- pysot's files
def test_pysot_upchannel_file_loads_exactly_and_scores_like_pysot(tmp_path):
    original = random_pysot_state_dict(TINY_WIDTH, seed=5)
    assert detect_state_dict_format(original) == "pysot"
    model = build(TINY, seed=9).eval()
    SiamCheckpointer(model).load(_save_pysot_file(tmp_path / "model.pth", original))
    # every tensor lands where expected, and the way back gives pysot's file again
    converted = pysot_to_siamtrack_state_dict(original)
    state = model.state_dict()
    assert set(converted) == set(state)
    assert all(torch.equal(state[k], v) for k, v in converted.items())
    back = siamtrack_to_pysot_state_dict(state)
    assert set(back) == set(original) and all(torch.equal(back[k], original[k]) for k in back)
    assert pysot_to_siamtrack_state_dict(back).keys() == state.keys()
    # the network's outputs are those of pysot's forward with the same weights
    templates, searches = random_images(2, 127, seed=3), random_images(2, 255, seed=4)
    with torch.no_grad():
        cls, loc = model.raw_outputs(model.encode_template(templates), searches)
        ref_cls, ref_loc = pysot_upchannel_reference(original, templates, searches)
    assert_close(cls, ref_cls, rtol=1e-4, atol=1e-4 * ref_cls.abs().max().item())
    assert_close(loc, ref_loc, rtol=1e-4, atol=1e-4 * ref_loc.abs().max().item())


def test_pysot_alexnet_layer_names_load_too(tmp_path):
    """pysot's ``alexnet`` (``layerN.0`` / ``layerN.1``) instead of ``alexnetlegacy``."""
    legacy = random_pysot_state_dict(TINY_WIDTH, seed=6)
    layered = random_pysot_state_dict(TINY_WIDTH, seed=6, legacy=False)
    assert list(map(tuple, (v.shape for v in legacy.values()))) == [
        tuple(v.shape) for v in layered.values()
    ]
    assert all(torch.equal(a, b) for a, b in zip(legacy.values(), layered.values()))
    model = build(TINY, seed=9).eval()
    SiamCheckpointer(model).load(_save_pysot_file(tmp_path / "model.pth", layered))
    expected = pysot_to_siamtrack_state_dict(legacy)
    assert all(torch.equal(model.state_dict()[k], v) for k, v in expected.items())


def test_pysot_depthwise_alexnet_file_loads_into_the_dwxcorr_config(tmp_path):
    original = random_pysot_state_dict(TINY_WIDTH, seed=7, head="dw")
    opts = ("MODEL.ALEXNET.WIDTH_MULT", TINY_WIDTH, "MODEL.SIAM_RPN.HIDDEN_CHANNELS", 32)
    model = build(DWXCORR, *opts, "MODEL.BACKBONE.FREEZE_AT", 0).eval()
    SiamCheckpointer(model).load(_save_pysot_file(tmp_path / "model.pth", original))
    back = siamtrack_to_pysot_state_dict(model.state_dict())
    assert set(back) == set(original) and all(torch.equal(back[k], original[k]) for k in back)


def test_wrong_pysot_alexnet_files_are_refused_with_the_settings_to_use(tmp_path):
    upchannel = _save_pysot_file(tmp_path / "up.pth", random_pysot_state_dict(TINY_WIDTH))
    wider = build(TINY, "MODEL.ALEXNET.WIDTH_MULT", 0.25)
    with pytest.raises(InvalidCheckpointError, match="shape mismatch.*WIDTH_MULT 1.0"):
        SiamCheckpointer(wider).load(upchannel)
    depthwise = build(
        DWXCORR, "MODEL.ALEXNET.WIDTH_MULT", TINY_WIDTH, "MODEL.SIAM_RPN.HIDDEN_CHANNELS", 32
    )
    with pytest.raises(InvalidCheckpointError, match="UpChannelRPNHead"):
        SiamCheckpointer(depthwise).load(upchannel)


# ---------------------------------------------------------------------- training
def test_a_few_training_iterations_lower_the_loss(tmp_path):
    from siamtrack import load_config


    cfg = load_config(
        str(TINY),
        [
            "DATASETS.TRAIN", "('siamtrack_sample_train',)", "DATASETS.TEST", "()",
            "SOLVER.IMS_PER_BATCH", "8", "SOLVER.BASE_LR", "0.01", "SOLVER.WARMUP_ITERS", "5",
            "SOLVER.MAX_ITER", "30", "SOLVER.BACKBONE_UNFREEZE_ITER", "0",
            "SOLVER.CHECKPOINT_PERIOD", "1000", "SEED", "7", "OUTPUT_DIR", str(tmp_path),
        ],
    )  # fmt: skip
    losses = total_losses(train(cfg))
    assert len(losses) == 30 and np.isfinite(losses).all()
    assert losses[-5:].mean() < 0.8 * losses[:5].mean()


# ---------------------------------------------------------------------- tracking and export
@pytest.fixture(scope="module")
def crossing(shared_data):
    sequence = load_sequence(shared_data / "sequences" / "Crossing")
    return [cv2.imread(p) for p in sequence.frame_paths[:12]], sequence.boxes_xywh


def _inside(boxes_xywh, image):
    height, width = image.shape[:2]
    centers = boxes_xywh[:, :2] + boxes_xywh[:, 2:] / 2
    return (
        np.isfinite(boxes_xywh).all()
        and (centers >= 0).all()
        and (centers[:, 0] <= width).all()
        and (centers[:, 1] <= height).all()
        and (boxes_xywh[:, 2:] > 0).all()
        and (boxes_xywh[:, 2] <= width).all()
        and (boxes_xywh[:, 3] <= height).all()
    )


def test_tracker_runs_on_a_real_sequence_and_several_targets_match_single_ones(
    tiny_model, crossing
):
    frames, truth = crossing
    eager = InferenceOptions.eager()
    result = SiamTracker(model=tiny_model, inference=eager).track(frames, truth[0])
    assert result.boxes_xywh.shape == (len(frames), 4) and _inside(result.boxes_xywh, frames[0])
    assert np.isfinite(result.scores).all()
    other = np.array([truth[0][0] + 60, truth[0][1], truth[0][2], truth[0][3]])
    together = MultiTargetTracker(model=tiny_model, inference=eager)
    sequences = together.track(frames, [truth[0], other])
    assert all(_inside(sequences[k].boxes_xywh, frames[0]) for k in (0, 1))
    # one update from the same start: the batched call gives each target what it gets alone (a
    # random network's arg-max is too fragile to compare whole runs)
    together.init(frames[0], [truth[0], other])
    step = together.update(frames[1])
    for k, box in enumerate([truth[0], other]):
        alone = SiamTracker(model=tiny_model, inference=eager)
        alone.init(frames[0], box)
        assert np.abs(step[k].box_xywh - alone.update(frames[1]).box_xywh).max() < 1e-3


def test_export_check_passes_for_the_siamtrack_layout(tiny_model, tmp_path):
    SiamCheckpointer(tiny_model, save_dir=str(tmp_path)).save("model_final")
    out = subprocess.run(
        [
            sys.executable, str(REPO_ROOT / "tools" / "export_onnx.py"),
            "--config-file", str(TINY), "--weights", str(tmp_path / "model_final.pth"),
            "--output", str(tmp_path / "onnx"), "--check",
        ],
        capture_output=True, text=True, cwd=REPO_ROOT, timeout=600,
    )  # fmt: skip
    assert out.returncode == 0, out.stdout + out.stderr
    assert "check passed" in out.stdout
    assert (tmp_path / "onnx" / "template.onnx").is_file()
    assert (tmp_path / "onnx" / "track.onnx").is_file()
