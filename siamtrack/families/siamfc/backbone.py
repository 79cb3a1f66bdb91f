"""SiamFC's embedding: the shared AlexNet (``siamtrack.modeling.alexnet``) in the layout of
Bertinetto et al. (2016), with the paper's initialisation (``build_siamfc_alexnet_backbone``).

Table 1 of the paper, every convolution unpadded (``docs/siamfc.md#network``):

=======  ===========================  ========  =============================
stage    layer                        channels  then
=======  ===========================  ========  =============================
conv1    11x11, stride 2              96        BatchNorm, ReLU, max-pool 3/2
conv2    5x5, 2 groups                256       BatchNorm, ReLU, max-pool 3/2
conv3    3x3                          384       BatchNorm, ReLU
conv4    3x3, 2 groups                384       BatchNorm, ReLU
conv5    3x3, 2 groups                256       (nothing: the embedding)
=======  ===========================  ========  =============================

Total stride 8, receptive field 87 px: a 127 template crop gives 6x6x256 features, a 255
search crop 22x22x256. The shared keys ``MODEL.ALEXNET.*`` describe it
(``configs/siamfc/Base-SiamFC.yaml``: ``GROUPS [1, 2, 1, 2, 2]``, ``LAST_NORM False``);
``MODEL.ALEXNET.WIDTH_MULT`` scales every width (the widths must stay even for the groups);
the geometry does not depend on it. The stages are the children ``conv1`` ... ``conv5``, so
``MODEL.BACKBONE.TRAIN_STAGES`` and ``FREEZE_AT`` name them. What this builder adds is the
initialisation of the reference implementations: Kaiming-normal convolutions (fan-out, ReLU
gain), zero biases, BatchNorm weight 1 and bias 0.
"""

from detectron2.layers import ShapeSpec
from detectron2.modeling import BACKBONE_REGISTRY
from torch import nn

from ...modeling.alexnet import AlexNet, build_alexnet_backbone

__all__ = ["build_siamfc_alexnet_backbone", "init_siamfc_weights"]


def init_siamfc_weights(module: nn.Module) -> nn.Module:
    """SiamFC's initialisation of every conv and BatchNorm in ``module`` (in place)."""
    for child in module.modules():
        if isinstance(child, nn.Conv2d):
            nn.init.kaiming_normal_(child.weight, mode="fan_out", nonlinearity="relu")
            if child.bias is not None:
                nn.init.zeros_(child.bias)
        elif isinstance(child, nn.modules.batchnorm._BatchNorm) and child.affine:
            nn.init.ones_(child.weight)
            nn.init.zeros_(child.bias)
    return module


@BACKBONE_REGISTRY.register()
def build_siamfc_alexnet_backbone(cfg, input_shape: ShapeSpec = None) -> AlexNet:
    """The shared AlexNet from ``MODEL.ALEXNET.*`` and ``MODEL.BACKBONE.FREEZE_AT``, with SiamFC's
    initialisation."""
    return init_siamfc_weights(build_alexnet_backbone(cfg, input_shape))
