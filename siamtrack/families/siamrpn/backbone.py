"""The SiamRPN++ dilated ResNet (total stride 8) as a detectron2 backbone.

res4 and res5 keep stride 1 and dilate their 3x3 convs instead (``RES4_DILATION`` 2,
``RES5_DILATION`` 4; the first block of a dilated stage uses half the dilation), so
res3, res4 and res5 all have stride 8. Two layouts (``MODEL.SIAM_RESNET.LAYOUT``):

``"pysot"`` — pysot's ``resnet_atrous``, so its checkpoints load exactly: 7x7 stem conv with
padding 0, the first block of res3 has a stride-2 3x3 conv with padding 0, and the first blocks
of res3/res4/res5 have **3x3** projection shortcuts (res2 keeps a 1x1 one). Feature sizes
(res3 = res4 = res5): input 127 -> 15x15, 255 -> 31x31; input ``8n + 7`` -> ``n x n``. Cell
``i`` sees the input centred at continuous coordinate ``8i + 7.5``, so these sizes give grids
centred on the crop centre; SiamRPN++ score map 25x25 for 127/255.

``"standard"`` — torchvision/detectron2 ResNet (stem padding 3, 1x1 shortcuts), so ImageNet
checkpoints load. Feature sizes: input ``8n + 1`` -> ``(n + 1) x (n + 1)`` (129 -> 17x17,
257 -> 33x33); cell ``i`` is centred at ``8i + 0.5``, so sizes ``8n + 1`` give centred grids
(127/255 would put the grid 3 px off-centre, which the meta-architecture refuses). Score map
27x27 for 129/257.

Stages are the children ``stem``, ``res2`` ... ``res5`` (detectron2's ``ResNet``), so freezing
by stage name and ``MODEL.BACKBONE.FREEZE_AT`` work as in detectron2.
"""

from typing import List, Sequence, Tuple

from detectron2.layers import ShapeSpec
from detectron2.modeling import BACKBONE_REGISTRY
from detectron2.modeling.backbone.resnet import BasicStem, BottleneckBlock, ResNet

from ...errors import ConfigError
from .resnet_blocks import DilatedBasicBlock, ProjectionBottleneckBlock, PysotStem

__all__ = ["SiamResNet", "build_siam_resnet_backbone", "LAYOUTS"]

LAYOUTS = ("pysot", "standard")
_BLOCKS_PER_STAGE = {18: [2, 2, 2, 2], 34: [3, 4, 6, 3], 50: [3, 4, 6, 3], 101: [3, 4, 23, 3]}


class SiamResNet(ResNet):
    """detectron2 ``ResNet`` that also knows where its feature cells sit in the input.

    Attributes:
        layout (str): "pysot" or "standard".
    """

    def __init__(self, stem, stages, *, layout: str, out_features: List[str], freeze_at: int = 0):
        """
        Args:
            stem, stages, out_features, freeze_at: as ``detectron2...ResNet``.
            layout: "pysot" or "standard"; decides the input -> feature-grid geometry.
        """
        super().__init__(stem, stages, out_features=out_features, freeze_at=freeze_at)
        self.layout = layout
        # (kernel, stride, padding, dilation) of every op that changes the grid, in order;
        # all other convs are "same"-padded and centred.
        stem_conv = (7, 2, 0, 1) if layout == "pysot" else (7, 2, 3, 1)
        self._grid_ops = [stem_conv, (3, 2, 1, 1)]
        if "res3" in self.stage_names:
            self._grid_ops.append((3, 2, 0, 1) if layout == "pysot" else (3, 2, 1, 1))

    def feature_grid(self, input_size: int) -> Tuple[int, float, int]:
        """Geometry of the deepest output level for a square input of side ``input_size``.

        Returns:
            (size, first_center, stride): the feature map is ``size x size``; cell ``i`` is
            centred on continuous input coordinate ``first_center + stride * i`` (pixel ``j``
            covers ``[j, j + 1)``), for every output level of stride 8.
        """
        size, center, step = int(input_size), 0.5, 1
        for kernel, stride, padding, dilation in self._grid_ops:
            size = (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1
            center += step * (dilation * (kernel - 1) / 2.0 - padding)
            step *= stride
        return size, center, step


def _dilated_first_block(dilation: int) -> int:
    # pysot/torchvision rule: the first block of a dilated stage uses half the dilation.
    return dilation // 2 if dilation > 1 else 1


def _bottleneck_stage(
    layout,
    num_blocks,
    *,
    in_channels,
    out_channels,
    bottleneck_channels,
    stride,
    dilation,
    stride_in_1x1,
    norm,
) -> list:
    common = dict(bottleneck_channels=bottleneck_channels, norm=norm)
    first_dilation = _dilated_first_block(dilation)
    if layout == "standard" or (stride == 1 and dilation == 1):
        # detectron2's blocks: 1x1 shortcut, 3x3 padding = dilation.
        return ResNet.make_stage(
            BottleneckBlock,
            num_blocks,
            in_channels=in_channels,
            out_channels=out_channels,
            stride_per_block=[stride] + [1] * (num_blocks - 1),
            dilation_per_block=[first_dilation] + [dilation] * (num_blocks - 1),
            stride_in_1x1=stride_in_1x1,
            **common,
        )
    # pysot: 3x3 projection shortcut; padding = 2 - stride unless dilated.
    padding = first_dilation if dilation > 1 else 2 - stride
    first = ProjectionBottleneckBlock(
        in_channels,
        out_channels,
        stride=stride,
        dilation=first_dilation,
        padding=padding,
        shortcut_kernel_size=3,
        shortcut_dilation=first_dilation,
        shortcut_padding=first_dilation if dilation > 1 else 0,
        **common,
    )
    rest = ResNet.make_stage(
        BottleneckBlock,
        num_blocks - 1,
        in_channels=out_channels,
        out_channels=out_channels,
        dilation=dilation,
        **common,
    )
    return [first] + rest


def _basic_stage(layout, num_blocks, *, in_channels, out_channels, stride, dilation, norm):
    first_dilation = _dilated_first_block(dilation)
    first_kwargs = dict(stride=stride, dilation=dilation, conv1_dilation=first_dilation, norm=norm)
    needs_projection = stride != 1 or in_channels != out_channels
    if layout == "pysot" and needs_projection and (stride != 1 or dilation != 1):
        first_kwargs.update(
            conv1_padding=first_dilation if dilation > 1 else 2 - stride,
            shortcut_kernel_size=3,
            shortcut_dilation=first_dilation,
            shortcut_padding=first_dilation if dilation > 1 else 0,
        )
    elif layout == "pysot" and not needs_projection and dilation > 1:
        first_kwargs["conv1_dilation"] = dilation  # pysot halves only with a projection
    blocks = [DilatedBasicBlock(in_channels, out_channels, **first_kwargs)]
    for _ in range(num_blocks - 1):
        blocks.append(DilatedBasicBlock(out_channels, out_channels, dilation=dilation, norm=norm))
    return blocks


def make_siam_resnet_stages(
    *,
    layout: str,
    depth: int,
    stem_out_channels: int,
    res2_out_channels: int,
    bottleneck_channels: int,
    dilations: Sequence[int],
    stride_in_1x1: bool,
    norm: str,
) -> list:
    """The four stages (res2..res5) as lists of blocks; res3 has stride 2, the others 1.

    Args:
        dilations: dilation of res2, res3, res4, res5 (SiamRPN++: 1, 1, 2, 4).
        bottleneck_channels: res2 bottleneck width (doubles per stage; unused for R-18/34).
    """
    stages = []
    in_channels, out_channels = stem_out_channels, res2_out_channels
    for index, (num_blocks, dilation) in enumerate(zip(_BLOCKS_PER_STAGE[depth], dilations)):
        stride = 2 if index == 1 else 1
        if depth >= 50:
            blocks = _bottleneck_stage(
                layout,
                num_blocks,
                in_channels=in_channels,
                out_channels=out_channels,
                bottleneck_channels=bottleneck_channels,
                stride=stride,
                dilation=dilation,
                stride_in_1x1=stride_in_1x1,
                norm=norm,
            )
        else:
            blocks = _basic_stage(
                layout,
                num_blocks,
                in_channels=in_channels,
                out_channels=out_channels,
                stride=stride,
                dilation=dilation,
                norm=norm,
            )
        stages.append(blocks)
        in_channels, out_channels = out_channels, out_channels * 2
        bottleneck_channels *= 2
    return stages


@BACKBONE_REGISTRY.register()
def build_siam_resnet_backbone(cfg, input_shape: ShapeSpec) -> SiamResNet:
    """Build the dilated ResNet from ``MODEL.RESNETS.*`` and ``MODEL.SIAM_RESNET.*``.

    Uses DEPTH (18, 34, 50, 101), NORM, STEM_OUT_CHANNELS, RES2_OUT_CHANNELS,
    WIDTH_PER_GROUP (bottleneck width of res2), STRIDE_IN_1X1, OUT_FEATURES and
    ``MODEL.BACKBONE.FREEZE_AT``. ``NUM_GROUPS`` must be 1 and deformable convs are not
    supported.
    """
    resnets, siam = cfg.MODEL.RESNETS, cfg.MODEL.SIAM_RESNET
    layout = siam.LAYOUT
    if layout not in LAYOUTS:
        raise ConfigError(f"MODEL.SIAM_RESNET.LAYOUT must be one of {LAYOUTS}, got {layout!r}")
    if resnets.DEPTH not in _BLOCKS_PER_STAGE:
        raise ConfigError(
            f"MODEL.RESNETS.DEPTH must be one of {sorted(_BLOCKS_PER_STAGE)}, got {resnets.DEPTH}"
        )
    if resnets.NUM_GROUPS != 1 or any(resnets.DEFORM_ON_PER_STAGE):
        raise ConfigError(
            "build_siam_resnet_backbone supports NUM_GROUPS=1 without deformable convs"
        )
    out_features = list(resnets.OUT_FEATURES)
    unknown = sorted(set(out_features) - {"res3", "res4", "res5"})
    if unknown:
        raise ConfigError(
            f"MODEL.RESNETS.OUT_FEATURES may only hold res3/res4/res5 (stride 8), got {unknown}"
        )
    norm = resnets.NORM
    stem_cls = PysotStem if layout == "pysot" else BasicStem
    stem = stem_cls(
        in_channels=input_shape.channels, out_channels=resnets.STEM_OUT_CHANNELS, norm=norm
    )
    stages = make_siam_resnet_stages(
        layout=layout,
        depth=resnets.DEPTH,
        stem_out_channels=resnets.STEM_OUT_CHANNELS,
        res2_out_channels=resnets.RES2_OUT_CHANNELS,
        bottleneck_channels=resnets.NUM_GROUPS * resnets.WIDTH_PER_GROUP,
        dilations=(1, 1, siam.RES4_DILATION, siam.RES5_DILATION),
        stride_in_1x1=resnets.STRIDE_IN_1X1,
        norm=norm,
    )
    return SiamResNet(
        stem,
        stages,
        layout=layout,
        out_features=out_features,
        freeze_at=cfg.MODEL.BACKBONE.FREEZE_AT,
    )
