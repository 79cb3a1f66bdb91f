"""Converters from the raw annotations of large training sets to siamtrack's source formats,
one module per source (``imagenet_vid``, ``imagenet_det``, ``youtube_bb``; ``voc_xml`` reads
ImageNet's annotation files).

Pure Python/numpy (xml, csv, json; Pillow for image headers), no torch. The scripts
``datasets/prepare_{imagenet_vid,imagenet_det,youtube_bb}.py`` are thin command lines over them.

- **tracks json** (ImageNet VID, YouTube-BB): ``siamtrack.io.tracks_json``; read with
  ``siamtrack.data.register_tracks_json``.
- **COCO instances json** (ImageNet DET): read with ``siamtrack.data.register_coco_pairs``.

Box conventions (continuous pixel coordinates, top-left xywh, as everywhere in siamtrack):

- ImageNet VID/DET ``<bndbox>`` holds integer pixel indices in PASCAL VOC style (the ILSVRC
  devkit's wording); read literally, ``xmax``/``ymax`` index the last pixel inside the object.
  Like pysot's ``training_dataset/{vid,det}`` scripts (``w = xmax - xmin``, centre
  ``(xmin + xmax) / 2``), siamtrack uses the numbers as corners, **without adding 1**:
  ``box_xywh = (xmin, ymin, xmax - xmin, ymax - ymin)``. Compared with the exact pixel extent
  ``[xmin, xmax + 1)`` the box is 1 px narrower and shorter (centre 0.5 px up-left): negligible
  for training, and the same boxes pysot's published models were trained on.
- YouTube-BB gives fractions of the frame size: ``box_xywh = (xmin W, ymin H,
  (xmax - xmin) W, (ymax - ymin) H)`` for a W x H frame; no rounding or shift.
"""

from .common import format_stats
from .imagenet_det import convert_imagenet_det
from .imagenet_vid import convert_imagenet_vid
from .voc_xml import VOC_BOX_NOTE, parse_voc_xml
from .youtube_bb import YTB_BOX_NOTE, YTB_COLUMNS, YTB_DEFAULT_FRAME_PATTERN, convert_youtube_bb

__all__ = [
    "VOC_BOX_NOTE",
    "YTB_BOX_NOTE",
    "YTB_COLUMNS",
    "YTB_DEFAULT_FRAME_PATTERN",
    "convert_imagenet_det",
    "convert_imagenet_vid",
    "convert_youtube_bb",
    "format_stats",
    "parse_voc_xml",
]
