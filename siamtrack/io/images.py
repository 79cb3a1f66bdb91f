"""Image files: the one extension list, natural ordering and the one BGR reader.

Images are HxWx3 ``uint8`` BGR arrays (``docs/conventions.md#images``).
"""

import os
import re
from pathlib import Path
from typing import List

import cv2
import numpy as np

from ..errors import BadInputError
from ..utils.paths import PathLike

__all__ = ["IMAGE_EXTENSIONS", "UnreadableImageError", "is_image_file", "list_image_files",
           "natural_key", "read_image_bgr"]  # fmt: skip

# Every reader (sequence folders, frame sources, globs) accepts exactly these.
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp")


class UnreadableImageError(BadInputError):
    """An image file that does not exist or cannot be decoded (the message names it)."""


def is_image_file(path: PathLike) -> bool:
    return Path(path).suffix.lower() in IMAGE_EXTENSIONS


def natural_key(path: PathLike):
    """Sort key that orders embedded numbers by value ("2.jpg" before "10.jpg")."""
    return [
        (0, int(part), "") if part.isdigit() else (1, 0, part)
        for part in re.split(r"(\d+)", os.fspath(path))
    ]


def list_image_files(folder: PathLike) -> List[str]:
    """Image files of a folder in natural order; ``FileNotFoundError`` if there are none."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"frame folder {folder} does not exist")
    frames = sorted((str(p) for p in folder.iterdir() if is_image_file(p)), key=natural_key)
    if not frames:
        raise FileNotFoundError(
            f"folder '{folder}' holds no image files ({', '.join(IMAGE_EXTENSIONS)})"
        )
    return frames


def read_image_bgr(path: PathLike) -> np.ndarray:
    """Read an image file as HxWx3 uint8 BGR; ``UnreadableImageError`` naming the file."""
    image = cv2.imread(os.fspath(path), cv2.IMREAD_COLOR)
    if image is None or image.size == 0:
        reason = "does not exist" if not Path(path).exists() else "cannot be decoded as an image"
        raise UnreadableImageError(f"image {path} {reason}")
    return image
