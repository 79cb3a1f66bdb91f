"""The weight files of SiamRPN++ (``CHECKPOINT_FORMAT_REGISTRY`` entries) and their key mapping.

Formats registered here (``SiameseRPN.checkpoint_formats`` lists them, with the shared
``"siamtrack"`` and ``"imagenet_pkl"``: detectron2 / Caffe2 ``.pkl`` ImageNet backbones):

- ``"pysot"``: pysot's ``model.pth`` (``ModelBuilder.state_dict()``), bare or wrapped as
  ``{"state_dict": ..., "epoch": ..., "optimizer": ...}`` by pysot's training; keys
  ``backbone.layer1...``, ``neck.downsample2...``, ``rpn_head.rpn2...`` (ResNet models), or
  ``backbone.features.0...`` / ``backbone.layer1.0...`` and ``rpn_head.template_cls_conv...``
  / ``rpn_head.cls.conv_kernel...`` (AlexNet models with the up-channel or the single-level
  depthwise head, no neck). Covers the model.
- ``"resnet"``: an ImageNet ResNet with torchvision names (``conv1.weight``, ``bn1.*``,
  ``layer1.0.conv1.weight``, ``fc.*``): torchvision's ``resnet*.pth`` or pysot's own
  ``pretrained_models/resnet50.model``. The ``fc`` classifier is dropped; backbone only.
- ``"siamrpn_rpn_head"``: siamtrack checkpoints of SiamRPN++ written while the head was the
  ``rpn_head`` child (now ``head``): ``rpn_head.`` becomes ``head.``, nothing else changes.

Name mapping (pysot/torchvision -> siamtrack): ``conv1``/``bn1`` -> ``stem.conv1``/
``stem.conv1.norm``; ``layerL.i.convK``/``bnK`` -> ``res{L+1}.i.convK``/``convK.norm``;
``downsample.0``/``.1`` -> ``shortcut``/``shortcut.norm``; ``neck.downsampleN.downsample.0``/
``.1`` -> ``neck.adjust.res{N+1}``/``.norm``; ``rpn_head.rpnN.{cls,loc}.conv_kernel`` /
``conv_search`` / ``head.0`` / ``head.1`` / ``head.3`` -> ``head.levels.res{N+1}.{cls,loc}.
template_conv`` / ``search_conv`` / ``head_conv`` / ``head_conv.norm`` / ``predictor``;
``rpn_head.{cls,loc}_weight`` -> ``head.{cls,loc}_fusion_weights``.

AlexNet models (``docs/siamrpnpp.md#siamrpn-alexnet-up-channel-head``): pysot's
``alexnetlegacy`` ``backbone.features.{0,4,8,11,14}`` (convs) / ``.{1,5,9,12,15}`` (BN) and its
``alexnet`` ``backbone.layerN.0`` / ``.1`` -> ``backbone.convN`` / ``backbone.convN.norm``;
``rpn_head.{template,search}_{cls,loc}_conv`` and ``rpn_head.loc_adjust`` (``UPChannelRPN``) ->
``head.*`` under the same names; ``rpn_head.{cls,loc}.*`` (``DepthwiseRPN``) -> ``head.levels.
conv5.{cls,loc}.*`` as for one ResNet level. The reverse mapping writes ``alexnetlegacy``
names (those of pysot's released AlexNet models).
"""

import re
from typing import Callable, Dict, List, Sequence, Tuple

import torch

from ...checkpoint.formats import (
    CheckpointFormat,
    raise_unmapped,
    register_checkpoint_format,
    rename_keys,
    strip_prefix,
)

__all__ = [
    "pysot_to_siamtrack_state_dict",
    "resnet_to_siamtrack_state_dict",
    "siamtrack_to_pysot_state_dict",
]

StateDict = Dict[str, torch.Tensor]
_BN = r"(weight|bias|running_mean|running_var|num_batches_tracked)"
_HINT = (
    "a SiamRPN++ config such as configs/siamrpn/siamrpn_R_50_l234_dwxcorr.yaml (pysot's ResNet "
    "models) or configs/siamrpn/siamrpn_alex_upxcorr.yaml (AlexNet, up-channel head)"
)
_STANDARD_HINT = (
    "a SiamRPN++ config with the standard layout (configs/siamrpn/siamrpn_R_50_std_*.yaml)"
)


def _level(index: str) -> str:
    return f"res{int(index) + 1}"


def _backbone_rules(src: str, dst: str) -> List[Tuple[str, Callable]]:
    """Rules torchvision-style (prefix ``src``) -> siamtrack backbone names (prefix ``dst``)."""
    return [
        (rf"{src}conv1\.weight", lambda m: f"{dst}stem.conv1.weight"),
        (rf"{src}bn1\.{_BN}", lambda m: f"{dst}stem.conv1.norm.{m[1]}"),
        (
            rf"{src}layer(\d)\.(\d+)\.conv(\d)\.weight",
            lambda m: f"{dst}{_level(m[1])}.{m[2]}.conv{m[3]}.weight",
        ),
        (
            rf"{src}layer(\d)\.(\d+)\.bn(\d)\.{_BN}",
            lambda m: f"{dst}{_level(m[1])}.{m[2]}.conv{m[3]}.norm.{m[4]}",
        ),
        (
            rf"{src}layer(\d)\.(\d+)\.downsample\.0\.weight",
            lambda m: f"{dst}{_level(m[1])}.{m[2]}.shortcut.weight",
        ),
        (
            rf"{src}layer(\d)\.(\d+)\.downsample\.1\.{_BN}",
            lambda m: f"{dst}{_level(m[1])}.{m[2]}.shortcut.norm.{m[3]}",
        ),
    ]


_HEAD_PARTS = {"conv_kernel": "template_conv", "conv_search": "search_conv", "head": "head_conv"}

_PYSOT_RULES = _backbone_rules(r"backbone\.", "backbone.") + [
    (
        r"neck\.downsample(\d)\.downsample\.0\.weight",
        lambda m: f"neck.adjust.{_level(m[1])}.weight",
    ),
    (
        rf"neck\.downsample(\d)\.downsample\.1\.{_BN}",
        lambda m: f"neck.adjust.{_level(m[1])}.norm.{m[2]}",
    ),
    (r"rpn_head\.(cls|loc)_weight", lambda m: f"head.{m[1]}_fusion_weights"),
    (
        r"rpn_head\.rpn(\d)\.(cls|loc)\.(conv_kernel|conv_search|head)\.0\.weight",
        lambda m: f"head.levels.{_level(m[1])}.{m[2]}.{_HEAD_PARTS[m[3]]}.weight",
    ),
    (
        rf"rpn_head\.rpn(\d)\.(cls|loc)\.(conv_kernel|conv_search|head)\.1\.{_BN}",
        lambda m: f"head.levels.{_level(m[1])}.{m[2]}.{_HEAD_PARTS[m[3]]}.norm.{m[4]}",
    ),
    (
        r"rpn_head\.rpn(\d)\.(cls|loc)\.head\.3\.(weight|bias)",
        lambda m: f"head.levels.{_level(m[1])}.{m[2]}.predictor.{m[3]}",
    ),
]
_RESNET_RULES = _backbone_rules("", "backbone.")

# pysot's AlexNet and its single-level heads, on siamtrack's AlexNet (one level: conv5).
_ALEXNET_LEGACY_INDEX = {1: 0, 2: 4, 3: 8, 4: 11, 5: 14}  # conv N -> index in ``features``
_ALEXNET_LEVEL = "conv5"
_UPCHANNEL_PARTS = (
    "(template_cls_conv|template_loc_conv|search_cls_conv|search_loc_conv|loc_adjust)"
)
_ALEXNET_RULES = [
    rule
    for conv, index in _ALEXNET_LEGACY_INDEX.items()
    for rule in (
        (
            rf"backbone\.features\.{index}\.(weight|bias)",
            lambda m, n=conv: f"backbone.conv{n}.{m[1]}",
        ),
        (
            rf"backbone\.features\.{index + 1}\.{_BN}",
            lambda m, n=conv: f"backbone.conv{n}.norm.{m[1]}",
        ),
    )
] + [
    (r"backbone\.layer([1-5])\.0\.(weight|bias)", lambda m: f"backbone.conv{m[1]}.{m[2]}"),
    (rf"backbone\.layer([1-5])\.1\.{_BN}", lambda m: f"backbone.conv{m[1]}.norm.{m[2]}"),
    (rf"rpn_head\.{_UPCHANNEL_PARTS}\.(weight|bias)", lambda m: f"head.{m[1]}.{m[2]}"),
    (
        r"rpn_head\.(cls|loc)\.(conv_kernel|conv_search|head)\.0\.weight",
        lambda m: f"head.levels.{_ALEXNET_LEVEL}.{m[1]}.{_HEAD_PARTS[m[2]]}.weight",
    ),
    (
        rf"rpn_head\.(cls|loc)\.(conv_kernel|conv_search|head)\.1\.{_BN}",
        lambda m: f"head.levels.{_ALEXNET_LEVEL}.{m[1]}.{_HEAD_PARTS[m[2]]}.norm.{m[3]}",
    ),
    (
        r"rpn_head\.(cls|loc)\.head\.3\.(weight|bias)",
        lambda m: f"head.levels.{_ALEXNET_LEVEL}.{m[1]}.predictor.{m[2]}",
    ),
]
_PYSOT_RULES = _PYSOT_RULES + _ALEXNET_RULES


_PARTS_BACK = {v: k for k, v in _HEAD_PARTS.items()}
_LEVEL_PART = r"head\.levels\.res(\d)\.(cls|loc)\.(template_conv|search_conv|head_conv)"
_REVERSE_RULES = [
    (r"backbone\.stem\.conv1\.weight", lambda m: "backbone.conv1.weight"),
    (rf"backbone\.stem\.conv1\.norm\.{_BN}", lambda m: f"backbone.bn1.{m[1]}"),
    (
        r"backbone\.res(\d)\.(\d+)\.conv(\d)\.weight",
        lambda m: f"backbone.layer{int(m[1]) - 1}.{m[2]}.conv{m[3]}.weight",
    ),
    (
        rf"backbone\.res(\d)\.(\d+)\.conv(\d)\.norm\.{_BN}",
        lambda m: f"backbone.layer{int(m[1]) - 1}.{m[2]}.bn{m[3]}.{m[4]}",
    ),
    (
        r"backbone\.res(\d)\.(\d+)\.shortcut\.weight",
        lambda m: f"backbone.layer{int(m[1]) - 1}.{m[2]}.downsample.0.weight",
    ),
    (
        rf"backbone\.res(\d)\.(\d+)\.shortcut\.norm\.{_BN}",
        lambda m: f"backbone.layer{int(m[1]) - 1}.{m[2]}.downsample.1.{m[3]}",
    ),
    (
        r"neck\.adjust\.res(\d)\.weight",
        lambda m: f"neck.downsample{int(m[1]) - 1}.downsample.0.weight",
    ),
    (
        rf"neck\.adjust\.res(\d)\.norm\.{_BN}",
        lambda m: f"neck.downsample{int(m[1]) - 1}.downsample.1.{m[2]}",
    ),
    (r"head\.(cls|loc)_fusion_weights", lambda m: f"rpn_head.{m[1]}_weight"),
    (
        rf"{_LEVEL_PART}\.weight",
        lambda m: f"rpn_head.rpn{int(m[1]) - 1}.{m[2]}.{_PARTS_BACK[m[3]]}.0.weight",
    ),
    (
        rf"{_LEVEL_PART}\.norm\.{_BN}",
        lambda m: f"rpn_head.rpn{int(m[1]) - 1}.{m[2]}.{_PARTS_BACK[m[3]]}.1.{m[4]}",
    ),
    (
        r"head\.levels\.res(\d)\.(cls|loc)\.predictor\.(weight|bias)",
        lambda m: f"rpn_head.rpn{int(m[1]) - 1}.{m[2]}.head.3.{m[3]}",
    ),
]


_ALEXNET_REVERSE_RULES = [
    (
        r"backbone\.conv([1-5])\.(weight|bias)",
        lambda m: f"backbone.features.{_ALEXNET_LEGACY_INDEX[int(m[1])]}.{m[2]}",
    ),
    (
        rf"backbone\.conv([1-5])\.norm\.{_BN}",
        lambda m: f"backbone.features.{_ALEXNET_LEGACY_INDEX[int(m[1])] + 1}.{m[2]}",
    ),
    (rf"head\.{_UPCHANNEL_PARTS}\.(weight|bias)", lambda m: f"rpn_head.{m[1]}.{m[2]}"),
    (
        rf"head\.levels\.{_ALEXNET_LEVEL}\.(cls|loc)\.(template_conv|search_conv|head_conv)"
        r"\.weight",
        lambda m: f"rpn_head.{m[1]}.{_PARTS_BACK[m[2]]}.0.weight",
    ),
    (
        rf"head\.levels\.{_ALEXNET_LEVEL}\.(cls|loc)\.(template_conv|search_conv|head_conv)"
        rf"\.norm\.{_BN}",
        lambda m: f"rpn_head.{m[1]}.{_PARTS_BACK[m[2]]}.1.{m[3]}",
    ),
    (
        rf"head\.levels\.{_ALEXNET_LEVEL}\.(cls|loc)\.predictor\.(weight|bias)",
        lambda m: f"rpn_head.{m[1]}.head.3.{m[2]}",
    ),
]
_REVERSE_RULES = _REVERSE_RULES + _ALEXNET_REVERSE_RULES


def pysot_to_siamtrack_state_dict(state_dict: StateDict, source: str = "state dict") -> StateDict:
    """Rename every key of a pysot SiamRPN++ / SiamRPN state dict (ResNet multi-level, or
    AlexNet with an up-channel or a single-level depthwise head).

    Raises:
        InvalidCheckpointError: listing the keys no rule maps (``source`` names the file).
    """
    renamed, unmapped = rename_keys(strip_prefix(state_dict, "module."), _PYSOT_RULES)
    raise_unmapped(unmapped, "pysot", source)
    return renamed


def siamtrack_to_pysot_state_dict(state_dict: StateDict, source: str = "state dict") -> StateDict:
    """Inverse of ``pysot_to_siamtrack_state_dict`` (export to pysot's ``ModelBuilder``; AlexNet
    backbones get ``alexnetlegacy``'s ``features.N`` names)."""
    renamed, unmapped = rename_keys(strip_prefix(state_dict, "module."), _REVERSE_RULES)
    raise_unmapped(unmapped, "siamtrack", source)
    return renamed


def resnet_to_siamtrack_state_dict(state_dict: StateDict, source: str = "state dict") -> StateDict:
    """Rename a torchvision-style ImageNet ResNet to ``backbone.*`` keys; ``fc.*`` is dropped."""
    renamed, unmapped = rename_keys(strip_prefix(state_dict, "module."), _RESNET_RULES, r"fc\.")
    raise_unmapped(unmapped, "ResNet", source)
    return renamed


def _rpn_head_to_head(state_dict: StateDict, source: str) -> StateDict:
    """``rpn_head.*`` -> ``head.*`` (siamtrack checkpoints of the earlier head name)."""
    return {
        ("head." + key[len("rpn_head.") :] if key.startswith("rpn_head.") else key): value
        for key, value in state_dict.items()
    }


def _backbone_layout_hint(model, keys: Sequence[str], details) -> str:
    """Shortcut weights that do not fit: most likely the other ResNet layout."""
    if not any(".shortcut." in k for k in keys):
        return ""
    layout = getattr(getattr(model, "backbone", None), "layout", "?")
    return (
        f" (this model's backbone layout is '{layout}': pysot weights need "
        "MODEL.SIAM_RESNET.LAYOUT 'pysot', torchvision/MSRA ImageNet weights 'standard')"
    )


def _alexnet_hint(model, keys: Sequence[str], details) -> str:
    """AlexNet / single-level head weights that do not fit: name the key settings (the head
    type for missing or unused head weights, the widths for shape mismatches)."""
    shapes_differ = any(" vs model " in k for k in keys)
    head_keys = (
        "head.template_",
        "head.search_",
        "head.loc_adjust",
        f"head.levels.{_ALEXNET_LEVEL}.",
    )
    if not shapes_differ and any(k.startswith(head_keys) for k in keys):
        return (
            " (pysot's up-channel head rpn_head.template_cls_conv needs MODEL.SIAMESE.HEAD_NAME "
            "'UpChannelRPNHead', configs/siamrpn/siamrpn_alex_upxcorr.yaml; its depthwise head "
            "rpn_head.cls.conv_kernel 'MultiLevelDepthwiseRPNHead' over conv5, "
            "configs/siamrpn/siamrpn_alex_dwxcorr.yaml)"
        )
    if any(re.match(r"backbone\.conv\d\.", k) for k in keys) or any(
        k.startswith(f"head.levels.{_ALEXNET_LEVEL}.") for k in keys
    ):
        return (
            " (pysot's AlexNet models: MODEL.ALEXNET.WIDTH_MULT 1.0, no neck "
            "(MODEL.SIAM_NECK.OUT_CHANNELS 0), a 256-channel head with 5 anchors: "
            "configs/siamrpn/siamrpn_alex_upxcorr.yaml or siamrpn_alex_dwxcorr.yaml)"
        )
    return ""


def _explain_mismatch(model, keys: Sequence[str], details) -> str:
    return _backbone_layout_hint(model, keys, details) or _alexnet_hint(model, keys, details)


def _any_key(pattern: str) -> Callable[[StateDict], bool]:
    compiled = re.compile(pattern)
    return lambda state_dict: any(compiled.match(k) for k in state_dict)


register_checkpoint_format(
    CheckpointFormat(
        name="pysot",
        detect=_any_key(
            r"(backbone\.(layer\d|bn1|features\.\d+)|neck\.downsample\d|"
            rf"rpn_head\.(rpn\d|{_UPCHANNEL_PARTS}|cls|loc))\."
        ),
        to_siamtrack=lambda sd, source: (pysot_to_siamtrack_state_dict(sd, source), {}),
        config_hint=_HINT,
        explain_mismatch=_explain_mismatch,
    )
)
register_checkpoint_format(
    CheckpointFormat(
        name="resnet",
        detect=lambda sd: "conv1.weight" in sd and any(k.startswith("layer1.") for k in sd),
        to_siamtrack=lambda sd, source: (resnet_to_siamtrack_state_dict(sd, source), {}),
        config_hint=_STANDARD_HINT,
        whole_model=False,
        explain_mismatch=_backbone_layout_hint,
    )
)
register_checkpoint_format(
    CheckpointFormat(
        name="siamrpn_rpn_head",
        detect=_any_key(r"rpn_head\.(levels\.|cls_fusion_weights|loc_fusion_weights)"),
        to_siamtrack=lambda sd, source: (_rpn_head_to_head(sd, source), {}),
        config_hint=_HINT,
        explain_mismatch=_backbone_layout_hint,
    )
)
