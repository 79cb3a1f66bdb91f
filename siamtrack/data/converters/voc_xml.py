"""ILSVRC (PASCAL VOC style) annotation files of ImageNet VID and DET.

``<bndbox>`` holds integer pixel indices in PASCAL VOC style (the ILSVRC devkit's wording);
read literally, ``xmax``/``ymax`` index the last pixel inside the object. Like pysot's
``training_dataset/{vid,det}`` scripts (``w = xmax - xmin``, centre ``(xmin + xmax) / 2``),
siamtrack uses the numbers as corners, **without adding 1**: ``box_xywh = (xmin, ymin, xmax -
xmin, ymax - ymin)``. Compared with the exact pixel extent ``[xmin, xmax + 1)`` the box is 1 px
narrower and shorter (centre 0.5 px up-left): negligible for training, and the same boxes
pysot's published models were trained on (``docs/conventions.md#boxes``).
"""

import os
from pathlib import Path
from typing import Dict
from xml.etree import ElementTree

import numpy as np

from ...errors import BadInputError

__all__ = ["VOC_BOX_NOTE", "parse_voc_xml"]

VOC_BOX_NOTE = "xywh = (xmin, ymin, xmax - xmin, ymax - ymin): VOC corners as-is, like pysot"


def _xml_number(element, tag: str, path: Path, what: str) -> float:
    node = element.find(tag)
    if node is None or node.text is None:
        raise BadInputError(f"{path}: {what} has no <{tag}>")
    try:
        return float(node.text)
    except ValueError:
        raise BadInputError(f"{path}: {what} <{tag}> is '{node.text}', expected a number") from None


def parse_voc_xml(path: os.PathLike) -> Dict:
    """Read one ILSVRC (PASCAL VOC style) annotation file.

    Returns:
        ``{"size_wh": (width, height) or None, "objects": [{"name": str, "box_xywh": ndarray
        (4,), "trackid": int or None, "occluded": bool}, ...]}`` with boxes
        as in the module docstring (``xmax - xmin``, no +1).

    Raises:
        ValueError: malformed XML or an object without a complete numeric ``<bndbox>``; the
            message names the file.
    """
    path = Path(path)
    try:
        root = ElementTree.parse(path).getroot()
    except ElementTree.ParseError as e:
        raise BadInputError(f"{path}: malformed XML ({e})") from None
    size, size_wh = root.find("size"), None
    if size is not None and size.find("width") is not None:
        size_wh = tuple(int(_xml_number(size, t, path, "<size>")) for t in ("width", "height"))
    objects = []
    for index, node in enumerate(root.findall("object")):
        what = f"object {index}"
        bndbox = node.find("bndbox")
        if bndbox is None:
            raise BadInputError(f"{path}: {what} has no <bndbox>")
        xmin, ymin, xmax, ymax = (
            _xml_number(bndbox, tag, path, what) for tag in ("xmin", "ymin", "xmax", "ymax")
        )
        trackid = node.find("trackid")
        if trackid is not None:
            trackid = int(_xml_number(node, "trackid", path, what))
        box_xywh = np.array([xmin, ymin, xmax - xmin, ymax - ymin], dtype=np.float64)
        name = (node.findtext("name") or "").strip()
        occluded = node.findtext("occluded", "0").strip() == "1"
        objects.append(dict(name=name, box_xywh=box_xywh, trackid=trackid, occluded=occluded))
    return {"size_wh": size_wh, "objects": objects}
