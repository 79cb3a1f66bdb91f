"""``SIAM_HEAD_REGISTRY``: the correlation heads of every family, built one way.

A registered head follows ``contracts.SiameseHead`` and is built as ``head(cfg, input_shape)``
(``@configurable``): ``input_shape`` maps each feature level the head reads to its
``ShapeSpec`` (channels, stride, and the height/width of the template feature); anything else
it needs it reads from ``cfg``. ``MODEL.SIAMESE.HEAD_NAME`` names the head a config uses.
"""

from typing import Dict

from detectron2.layers import ShapeSpec
from detectron2.utils.registry import Registry
from torch import nn

from ..errors import ConfigError

__all__ = ["SIAM_HEAD_REGISTRY", "build_siam_head"]

SIAM_HEAD_REGISTRY = Registry("SIAM_HEAD")
SIAM_HEAD_REGISTRY.__doc__ = """
Registry for Siamese correlation heads (``siamtrack.modeling.contracts.SiameseHead``):
``head(cfg, input_shape)`` where ``input_shape`` maps feature level names to ``ShapeSpec``.
"""


def build_siam_head(cfg, input_shape: Dict[str, ShapeSpec]) -> nn.Module:
    """Build the head named ``cfg.MODEL.SIAMESE.HEAD_NAME`` for features of ``input_shape``.

    Raises:
        ConfigError: the name is empty or not registered (the message lists the heads).
    """
    name = cfg.MODEL.SIAMESE.HEAD_NAME
    if name not in SIAM_HEAD_REGISTRY:
        known = ", ".join(sorted(key for key, _ in SIAM_HEAD_REGISTRY))
        raise ConfigError(
            f"MODEL.SIAMESE.HEAD_NAME '{name}' is not a registered head (SIAM_HEAD_REGISTRY: "
            f"{known})"
        )
    return SIAM_HEAD_REGISTRY.get(name)(cfg, input_shape)
