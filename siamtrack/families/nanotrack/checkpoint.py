"""NanoTrack's released weight files (v1 / v2 / v3): the ``"nanotrack"`` checkpoint format
(``CHECKPOINT_FORMAT_REGISTRY``) and the renaming of their keys to the ``NanoTrack`` model's.

NanoTrack checkpoints (``{"epoch", "state_dict", "optimizer"}``) hold three parts:

- ``backbone.features.N.*``: the MobileNetV3-Small stem (``features.0``) and blocks
  (``features.k``, k >= 1) -> ``backbone.stem`` / ``backbone.block{k}``. Inside a block the
  Sequential indices name the layers: with an expansion conv ``conv.0/1`` expand + BN,
  ``conv.3/4`` depth-wise + BN, ``conv.5.fc.0/2`` squeeze-excite, ``conv.7/8`` project + BN;
  without one (block 1) ``conv.0/1`` depth-wise + BN, ``conv.3.fc.0/2`` squeeze-excite,
  ``conv.4/5`` project + BN.
- ``neck.downsample.*``: NanoTrack's AdjustLayer, which its model never calls (its forward
  skips the conv because in == out channels, and ``ModelBuilder`` passes backbone features
  straight to the head; its BN statistics were never updated). These keys are listed in
  ``UNUSED_KEYS`` and dropped.
- ``ban_head.*``: the head, renamed per version (see ``_HEAD_RULES``).

Every other key is an error: nothing is dropped silently. The file's version is reported as
the detail ``nanotrack_version`` (``read_checkpoint``'s extras), and a file that does not fit
the model names the config of its version.
"""

import re
from typing import Callable, Dict, List, Tuple

import torch

from ...checkpoint.formats import CheckpointFormat, raise_unmapped, register_checkpoint_format
from ...errors import BadInputError

__all__ = ["UNUSED_KEYS", "nanotrack_version", "nanotrack_to_siamtrack_state_dict"]

StateDict = Dict[str, torch.Tensor]
_BN = r"(weight|bias|running_mean|running_var|num_batches_tracked)"
# The never-called neck (see the module docstring): dropped on purpose.
UNUSED_KEYS = re.compile(r"neck\.downsample\.[01]\.\w+$")

# Sequential index inside a block -> siamtrack layer, with and without an expansion conv.
_EXPANDED = {"0": "expand", "1": "expand.norm", "3": "depthwise", "4": "depthwise.norm",
             "7": "project", "8": "project.norm"}  # fmt: skip
_NOT_EXPANDED = {"0": "depthwise", "1": "depthwise.norm", "4": "project", "5": "project.norm"}
_SE_INDEX = {True: "5", False: "3"}
_SE_PARTS = {"0": "reduce", "2": "expand"}


def _tower_rules(src: str, dst: str, unit_size: int, layers: Dict[int, str]) -> List[Tuple]:
    """Rules for a Sequential tower whose units span ``unit_size`` indices."""

    def rename(match):
        index = int(match[1])
        layer = layers.get(index % unit_size)
        return f"head.{dst}.{index // unit_size}.{layer}.{match[2]}" if layer else None

    return [(rf"ban_head\.{src}\.(\d+)\.(\w+)", rename)]


def _simple(src: str, dst: str) -> Tuple[str, Callable]:
    return (rf"ban_head\.{re.escape(src)}\.(\w+)", lambda m: f"head.{dst}.{m[1]}")


def _correlation_rules(src: str, dst: str) -> List[Tuple]:
    return [
        _simple(f"{src}.CA_layer.fc1", f"{dst}.attention.conv1"),
        _simple(f"{src}.CA_layer.fc2", f"{dst}.attention.conv2"),
        _simple(f"{src}.conv_kernel.0", f"{dst}.template_conv"),
        _simple(f"{src}.conv_kernel.1", f"{dst}.template_conv.norm"),
        _simple(f"{src}.conv_search.0", f"{dst}.search_conv"),
        _simple(f"{src}.conv_search.1", f"{dst}.search_conv.norm"),
    ]


# v1/v2 tower unit: [dw, pw, BN, ReLU6] (4 indices); v3: [dw, BN, ReLU6, pw, BN] (5 indices).
_PLAIN_UNIT = {0: "depthwise", 1: "pointwise", 2: "pointwise.norm"}
_V3_UNIT = {0: "depthwise", 1: "depthwise.norm", 3: "pointwise", 4: "pointwise.norm"}

_HEAD_RULES = {
    1: _correlation_rules("corr_pw", "correlation")
    + _tower_rules("cls_tower", "cls_tower", 4, _PLAIN_UNIT)
    + _tower_rules("bbox_tower", "loc_tower", 4, _PLAIN_UNIT)
    + [_simple("cls_logits.0", "cls_predictor"), _simple("bbox_pred.0", "loc_predictor")],
    2: _correlation_rules("corr_pw_cls", "cls_correlation")
    + _correlation_rules("corr_pw_reg", "loc_correlation")
    + _tower_rules("cls_pw_tower", "cls_tower", 4, _PLAIN_UNIT)
    + _tower_rules("bbox_pw_tower", "loc_tower", 4, _PLAIN_UNIT)
    + [_simple("cls_pred.0", "cls_predictor"), _simple("bbox_pred.0", "loc_predictor")],
    3: [
        rule
        for branch, name in (("cls", "cls"), ("reg", "loc"))
        for rule in _correlation_rules(f"corr_pw_{branch}", f"{name}_correlation.pixelwise")
        + _correlation_rules(f"corr_dw_{branch}", f"{name}_correlation.depthwise")
        + [
            _simple(f"corr_pw_{branch}.conv.0", f"{name}_correlation.pixelwise.refine.depthwise"),
            _simple(
                f"corr_pw_{branch}.conv.1", f"{name}_correlation.pixelwise.refine.depthwise.norm"
            ),
            _simple(f"corr_pw_{branch}.conv.3", f"{name}_correlation.pixelwise.refine.pointwise"),
            _simple(
                f"corr_pw_{branch}.conv.4", f"{name}_correlation.pixelwise.refine.pointwise.norm"
            ),
            _simple(f"down_{branch}.0", f"{name}_correlation.fuse"),
        ]
    ]
    + _tower_rules("cls_tower", "cls_tower", 5, _V3_UNIT)
    + _tower_rules("bbox_tower", "loc_tower", 5, _V3_UNIT)
    + [_simple("cls_logits.0", "cls_predictor"), _simple("bbox_pred.0", "loc_predictor")],
}


def nanotrack_version(state_dict: StateDict) -> int:
    """1, 2 or 3 from the head's key names; 0 if this is not a NanoTrack state dict."""
    keys = list(state_dict)
    if not any(k.startswith("ban_head.") for k in keys):
        return 0
    if any(k.startswith("ban_head.corr_dw_") for k in keys):
        return 3
    if any(k.startswith("ban_head.corr_pw_cls.") for k in keys):
        return 2
    if any(k.startswith("ban_head.corr_pw.") for k in keys):
        return 1
    return 0


def _backbone_key(key: str, expanded_blocks: set):
    match = re.match(r"backbone\.features\.0\.([01])\.(\w+)$", key)
    if match:
        layer = "stem" if match[1] == "0" else "stem.norm"
        return f"backbone.{layer}.{match[2]}"
    match = re.match(r"backbone\.features\.(\d+)\.conv\.(\d+)(?:\.fc\.(\d))?\.(\w+)$", key)
    if not match:
        return None
    block, index, se_part, param = int(match[1]), match[2], match[3], match[4]
    expanded = block in expanded_blocks
    if se_part is not None:
        if index != _SE_INDEX[expanded] or se_part not in _SE_PARTS:
            return None
        return f"backbone.block{block}.squeeze_excite.{_SE_PARTS[se_part]}.{param}"
    layer = (_EXPANDED if expanded else _NOT_EXPANDED).get(index)
    return f"backbone.block{block}.{layer}.{param}" if layer else None


def nanotrack_to_siamtrack_state_dict(state_dict: StateDict, source: str = "state dict"):
    """Rename every key of a NanoTrack v1/v2/v3 state dict; drop ``UNUSED_KEYS``.

    Returns:
        (renamed state dict, version, unmapped keys); the caller reports unmapped keys.
    """
    version = nanotrack_version(state_dict)
    if version == 0:
        raise BadInputError(f"{source} is not a NanoTrack state dict (no ban_head.* keys)")
    # A block has an expansion conv when its Sequential goes up to index 7 (project).
    expanded_blocks = {
        int(m[1])
        for k in state_dict
        for m in [re.match(r"backbone\.features\.(\d+)\.conv\.7\.", k)]
        if m
    }
    rules = [(re.compile(p + "$"), fn) for p, fn in _HEAD_RULES[version]]
    renamed, unmapped = {}, []
    for key, value in state_dict.items():
        if UNUSED_KEYS.match(key):
            continue
        new_key = _backbone_key(key, expanded_blocks) if key.startswith("backbone.") else None
        if new_key is None and key.startswith("ban_head."):
            for pattern, fn in rules:
                match = pattern.match(key)
                if match:
                    new_key = fn(match)
                    break
        if new_key is None:
            unmapped.append(key)
        else:
            renamed[new_key] = value
    return renamed, version, unmapped


def _convert(state_dict: StateDict, source: str):
    renamed, version, unmapped = nanotrack_to_siamtrack_state_dict(state_dict, source)
    raise_unmapped(unmapped, f"NanoTrack v{version}", source)
    return renamed, {"nanotrack_version": version}


def _version_hint(model, keys, details) -> str:
    version = details.get("nanotrack_version")
    if not version:
        return ""
    return f" (the file is NanoTrack v{version}: use configs/nanotrack/nanotrack_v{version}.yaml)"


register_checkpoint_format(
    CheckpointFormat(
        name="nanotrack",
        detect=lambda state_dict: nanotrack_version(state_dict) > 0,
        to_siamtrack=_convert,
        config_hint=(
            "the matching NanoTrack config (configs/nanotrack/nanotrack_v{nanotrack_version}.yaml)"
        ),
        detail_keys=("nanotrack_version",),
        describe=lambda details: f"nanotrack v{details['nanotrack_version']}",
        explain_mismatch=_version_hint,
    )
)
