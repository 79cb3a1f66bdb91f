"""What every Siamese network shares: the contracts, the head registry, the base class.

- ``contracts.py``: the ``Protocol``s shared code relies on (``SiameseNetwork``,
  ``SiameseHead``, ``TrackerBackend``, ``Tracker``, ``ResultWriter``, ``PairSource``);
- ``heads.py``: ``SIAM_HEAD_REGISTRY`` and ``build_siam_head(cfg, input_shape)``;
- ``siamese.py``: ``SiameseNetworkBase`` (input checks, normalisation, ``encode_template`` /
  ``track`` / ``forward`` over a family's features, head and decoding), ``TemplateBranch`` /
  ``TrackStep`` (the two inference branches as modules, for tracing and export);
- ``alexnet.py``: the AlexNet backbone shared by the families that use it (SiamRPN, SiamFC):
  ``AlexNet``, ``build_alexnet_backbone`` (BACKBONE_REGISTRY), ``MODEL.ALEXNET`` keys;
- ``xcorr.py`` (correlations), ``gates.py`` (channel gates and their export form),
  ``fold_batchnorm.py``, ``analysis.py`` (parameters, MACs).

The model families themselves (SiamRPN++, NanoTrack: meta-architectures, backbones, heads, box
coding, losses) live in ``siamtrack.families`` and register there.
"""

from .alexnet import AlexNet, add_alexnet_config, build_alexnet_backbone
from .contracts import (
    PairSource,
    ResultWriter,
    SiameseHead,
    SiameseNetwork,
    SiamTrackOutput,
    TemplateFeatures,
    Tracker,
    TrackerBackend,
)
from .fold_batchnorm import count_batchnorm, fold_batchnorm
from .heads import SIAM_HEAD_REGISTRY, build_siam_head
from .siamese import DeviceCopies, SiameseNetworkBase, TemplateBranch, TrackStep
from .xcorr import depthwise_xcorr, pixelwise_xcorr, upchannel_xcorr

__all__ = [
    "SIAM_HEAD_REGISTRY",
    "AlexNet",
    "DeviceCopies",
    "PairSource",
    "ResultWriter",
    "SiamTrackOutput",
    "SiameseHead",
    "SiameseNetwork",
    "SiameseNetworkBase",
    "TemplateBranch",
    "TemplateFeatures",
    "TrackStep",
    "Tracker",
    "TrackerBackend",
    "add_alexnet_config",
    "build_alexnet_backbone",
    "build_siam_head",
    "count_batchnorm",
    "depthwise_xcorr",
    "fold_batchnorm",
    "pixelwise_xcorr",
    "upchannel_xcorr",
]
