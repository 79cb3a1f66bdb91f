"""SiamCheckpointer: pysot / siamtrack / ImageNet weights in, clear errors for bad files."""

import ast
import pickle

import pytest
import torch

from siamtrack.checkpoint import InvalidCheckpointError, SiamCheckpointer
from siamtrack.families.siamrpn import (
    pysot_to_siamtrack_state_dict,
    siamtrack_to_pysot_state_dict,
)

from ..conftest import CONFIGS_DIR
from ..modeling.helpers import TINY_CONFIGS, build

STANDARD_R50_OPTS = (
    "MODEL.SIAM_RESNET.LAYOUT", "standard",
    "MODEL.SIAMESE.TEMPLATE_SIZE", 65,
    "MODEL.SIAMESE.SEARCH_SIZE", 129,
)  # fmt: skip


def random_pysot_state_dict(tsv):
    """A pysot-flavoured R-50 l234 state dict with random values, from the .tsv shapes."""
    if not tsv.is_file():
        pytest.fail(f"reference state-dict listing not found at {tsv} (next to the shared data)")
    generator = torch.Generator().manual_seed(0)
    state = {}
    for line in tsv.read_text().splitlines():
        if line.startswith("#"):
            continue
        key, shape = line.split("\t")
        if key.endswith("num_batches_tracked"):
            state[key] = torch.randint(1, 1000, (), generator=generator)
        else:
            state[key] = torch.rand(ast.literal_eval(shape), generator=generator) + 0.5
    return state


def test_tsv_state_dict_round_trips_with_no_key_left_over(tmp_path, shared_data):
    tsv = shared_data.parent / "reference" / "pysot_siamrpn_r50_l234_state_dict.tsv"
    original = random_pysot_state_dict(tsv)
    assert len(original) == 458
    converted = pysot_to_siamtrack_state_dict(original)
    assert len(converted) == 458
    path = tmp_path / "model.pth"  # pysot training format: wrapper + DataParallel prefixes
    torch.save({"epoch": 20, "state_dict": {f"module.{k}": v for k, v in original.items()}}, path)
    torch.manual_seed(0)
    model = build(
        CONFIGS_DIR / "siamrpn" / "siamrpn_R_50_l234_dwxcorr.yaml", "MODEL.BACKBONE.FREEZE_AT", 0
    )
    assert set(converted) == set(model.state_dict())
    SiamCheckpointer(model).load(str(path))
    back = siamtrack_to_pysot_state_dict(model.state_dict())
    assert set(back) == set(original)
    assert all(torch.equal(back[k], original[k]) for k in original)


def _tiny_pysot_file(tmp_path, model, *, wrap=False, prefix=""):
    state = {prefix + k: v for k, v in siamtrack_to_pysot_state_dict(model.state_dict()).items()}
    path = tmp_path / "pysot_model.pth"
    torch.save({"state_dict": state} if wrap else state, path)
    return path


@pytest.mark.parametrize("wrap, prefix", [(False, ""), (False, "module."), (True, "")])
def test_pysot_files_are_detected_and_loaded(tmp_path, wrap, prefix):
    source = build(TINY_CONFIGS["pysot"], "MODEL.BACKBONE.FREEZE_AT", 0, seed=1)
    target = build(TINY_CONFIGS["pysot"], seed=2)  # FREEZE_AT 2: FrozenBN in stem and res2
    SiamCheckpointer(target).load(str(_tiny_pysot_file(tmp_path, source, wrap=wrap, prefix=prefix)))
    expected = source.state_dict()
    for key, value in target.state_dict().items():
        assert torch.equal(value, expected[key]), key


def test_siamtrack_checkpoint_save_and_resume(tmp_path):
    source = build(TINY_CONFIGS["standard"], seed=1)
    SiamCheckpointer(source, save_dir=str(tmp_path)).save("model_final", iteration=7)
    target = build(TINY_CONFIGS["standard"], seed=2)
    extra = SiamCheckpointer(target, save_dir=str(tmp_path)).resume_or_load("", resume=True)
    assert extra["iteration"] == 7
    assert all(torch.equal(v, source.state_dict()[k]) for k, v in target.state_dict().items())


def test_unmapped_pysot_keys_are_listed(tmp_path):
    model = build(TINY_CONFIGS["pysot"], "MODEL.BACKBONE.FREEZE_AT", 0)
    state = siamtrack_to_pysot_state_dict(model.state_dict())
    state["rpn_head.rpn2.cls.attention.weight"] = torch.zeros(1)
    state["neck.downsample2.extra.0.weight"] = torch.zeros(1)
    path = tmp_path / "odd.pth"
    torch.save(state, path)
    with pytest.raises(InvalidCheckpointError) as info:
        SiamCheckpointer(model).load(str(path))
    message = str(info.value)
    assert str(path) in message and "2 pysot key(s)" in message
    assert "rpn_head.rpn2.cls.attention.weight" in message and "neck.downsample2.extra" in message


def test_truncated_file_is_reported(tmp_path):
    model = build(TINY_CONFIGS["pysot"])
    path = tmp_path / "model_final.pth"
    torch.save({"model": model.state_dict()}, path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(InvalidCheckpointError, match=f"cannot read checkpoint {path}.*truncated"):
        SiamCheckpointer(model).load(str(path))
    pkl = tmp_path / "R-50.pkl"
    pkl.write_bytes(pickle.dumps({"conv1_w": torch.zeros(3).numpy()})[:20])
    with pytest.raises(InvalidCheckpointError, match=f"cannot read {pkl}"):
        SiamCheckpointer(model).load(str(pkl))


@pytest.mark.parametrize(
    "bad_values", [[float("nan")], [float("inf")], [float("inf"), float("-inf")]]
)
def test_nan_weights_are_reported(tmp_path, bad_values):
    model = build(TINY_CONFIGS["pysot"])
    state = model.state_dict()
    weight = state["neck.adjust.res3.weight"].clone()
    weight.view(-1)[: len(bad_values)] = torch.tensor(bad_values)
    state["neck.adjust.res3.weight"] = weight
    path = tmp_path / "nan.pth"
    torch.save({"model": state}, path)
    with pytest.raises(
        InvalidCheckpointError, match=f"{path}: NaN or inf.*neck.adjust.res3.weight"
    ):
        SiamCheckpointer(model).load(str(path))


def test_large_finite_weights_whose_sum_overflows_load(tmp_path):
    model = build(TINY_CONFIGS["pysot"])
    state = model.state_dict()
    weight = state["neck.adjust.res3.weight"].clone()
    weight.view(-1)[:2] = 3e38  # finite, but their float32 sum is inf
    state["neck.adjust.res3.weight"] = weight
    path = tmp_path / "large.pth"
    torch.save({"model": state}, path)
    SiamCheckpointer(model).load(str(path))
    assert torch.equal(model.state_dict()["neck.adjust.res3.weight"], weight)


def test_checkpoint_of_another_model_is_refused(tmp_path):
    model = build(TINY_CONFIGS["pysot"])
    path = tmp_path / "mask_rcnn.pth"
    torch.save({"model": {"roi_heads.box_predictor.cls_score.weight": torch.zeros(81, 1024)}}, path)
    with pytest.raises(InvalidCheckpointError, match="none of its 1 tensors belong"):
        SiamCheckpointer(model).load(str(path))
    other = build(TINY_CONFIGS["standard"])  # a siamtrack model of another configuration
    path = tmp_path / "other.pth"
    torch.save({"model": other.state_dict()}, path)
    with pytest.raises(InvalidCheckpointError, match=f"{path} \\(siamtrack\\) does not fit"):
        SiamCheckpointer(model).load(str(path))
    with pytest.raises(FileNotFoundError, match="missing.pth not found"):
        SiamCheckpointer(model).load(str(tmp_path / "missing.pth"))
    path = tmp_path / "list.pth"
    torch.save([1, 2, 3], path)
    with pytest.raises(InvalidCheckpointError, match="not a model checkpoint"):
        SiamCheckpointer(model).load(str(path))


def test_pysot_weights_into_standard_layout_name_the_layout(tmp_path):
    source = build(TINY_CONFIGS["pysot"], "MODEL.BACKBONE.FREEZE_AT", 0)
    target = build(TINY_CONFIGS["pysot"], *STANDARD_R50_OPTS)
    with pytest.raises(InvalidCheckpointError, match="shape mismatch.*LAYOUT 'pysot'"):
        SiamCheckpointer(target).load(str(_tiny_pysot_file(tmp_path, source)))


def _imagenet_backbone(source):
    """(torchvision-named state dict, Caffe2/MSRA-named numpy dict) of ``source.backbone``."""
    torchvision_names, caffe2_names = {}, {}
    for key, value in siamtrack_to_pysot_state_dict(source.state_dict()).items():
        if key.startswith("backbone."):
            torchvision_names[key[len("backbone.") :]] = value
    torchvision_names["fc.weight"] = torch.zeros(10, 4)
    for key, value in source.backbone.state_dict().items():
        if key.endswith(("running_mean", "running_var", "num_batches_tracked")):
            continue
        name = key.replace("stem.conv1.norm.", "res_conv1.norm.").replace("stem.conv1.", "conv1.")
        for ours, theirs in (("shortcut", "branch1"), ("conv1", "branch2a"),
                             ("conv2", "branch2b"), ("conv3", "branch2c")):  # fmt: skip
            name = name.replace(f".{ours}.", f".{theirs}.")
        name = name.replace(".norm.weight", "_bn_s").replace(".norm.bias", "_bn_b")
        name = name.replace(".weight", "_w").replace(".", "_")
        caffe2_names[name] = value.numpy()
    caffe2_names["fc1000_w"] = torch.zeros(10, 4).numpy()
    return torchvision_names, caffe2_names


@pytest.mark.parametrize("kind", ["torchvision", "caffe2"])
def test_imagenet_backbone_loads_into_standard_layout(tmp_path, kind):
    source = build(TINY_CONFIGS["pysot"], *STANDARD_R50_OPTS, "MODEL.BACKBONE.FREEZE_AT", 0, seed=1)
    target = build(TINY_CONFIGS["pysot"], *STANDARD_R50_OPTS, seed=2)
    neck_before = {k: v.clone() for k, v in target.neck.state_dict().items()}
    torchvision_names, caffe2_names = _imagenet_backbone(source)
    if kind == "torchvision":
        path = tmp_path / "resnet50.pth"
        torch.save(torchvision_names, path)
        keys = [k for k in target.backbone.state_dict() if not k.endswith("num_batches_tracked")]
    else:
        path = tmp_path / "R-50.pkl"
        path.write_bytes(pickle.dumps({"blobs": caffe2_names}))
        keys = [k for k in target.backbone.state_dict() if k.endswith(("weight", "bias"))]
    SiamCheckpointer(target).load(str(path))
    loaded, expected = target.backbone.state_dict(), source.backbone.state_dict()
    assert all(torch.equal(loaded[k], expected[k]) for k in keys)
    assert all(torch.equal(v, neck_before[k]) for k, v in target.neck.state_dict().items())


def test_save_is_atomic_and_tags_last_checkpoint(tmp_path, monkeypatch):
    model = torch.nn.Linear(2, 2)
    checkpointer = SiamCheckpointer(model, save_dir=str(tmp_path))
    checkpointer.save("model_0000009", iteration=9)
    assert (tmp_path / "last_checkpoint").read_text() == "model_0000009.pth"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["last_checkpoint", "model_0000009.pth"]
    good = (tmp_path / "model_0000009.pth").read_bytes()

    def interrupted_save(obj, path):
        with open(path, "wb") as f:
            f.write(b"trunc")
        raise KeyboardInterrupt

    monkeypatch.setattr(torch, "save", interrupted_save)
    with pytest.raises(KeyboardInterrupt):
        checkpointer.save("model_0000009", iteration=9)
    # the earlier checkpoint and the tag are untouched; no truncated file under the real name
    assert (tmp_path / "model_0000009.pth").read_bytes() == good
    assert (tmp_path / "last_checkpoint").read_text() == "model_0000009.pth"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["last_checkpoint", "model_0000009.pth"]


def test_checkpoint_with_the_earlier_head_name_loads(tmp_path):
    """siamtrack checkpoints of SiamRPN++ saved while the head was the ``rpn_head`` child."""
    source = build(TINY_CONFIGS["pysot"], "MODEL.BACKBONE.FREEZE_AT", 0, seed=1)
    old_names = {
        ("rpn_head." + k[len("head.") :] if k.startswith("head.") else k): v
        for k, v in source.state_dict().items()
    }
    assert any(k.startswith("rpn_head.levels.") for k in old_names)
    path = tmp_path / "model_final.pth"
    torch.save({"model": old_names, "iteration": 3}, path)
    target = build(TINY_CONFIGS["pysot"], "MODEL.BACKBONE.FREEZE_AT", 0, seed=2)
    extra = SiamCheckpointer(target).load(str(path))
    assert extra["iteration"] == 3
    expected = source.state_dict()
    assert all(torch.equal(v, expected[k]) for k, v in target.state_dict().items())
