"""The model families: one package per family, each a plug-in of the shared code.

A family holds its meta-architecture, backbone(s), head, box coding, losses and targets, config
keys, checkpoint formats, export layouts and (if it needs one) its search strategy, and
registers them with the shared registries when imported (``docs/architecture.md`` lists what a
family provides). Importing this package imports every family; siamtrack's registration step
(``siamtrack.register_with_detectron2``) imports it. Nothing below this layer imports a family.

- ``siamrpn``: SiamRPN++ (``SiameseRPN``), pysot's weights;
- ``nanotrack``: NanoTrack v1 / v2 / v3 (``NanoTrack``), the released weights;
- ``siamfc``: SiamFC (``SiamFC``), AlexNet embedding and scale-pyramid tracker.
"""

from . import nanotrack, siamfc, siamrpn

__all__ = ["nanotrack", "siamfc", "siamrpn"]
