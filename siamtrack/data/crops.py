"""The one crop function shared by training (pair mapper) and tracking.

The functions live in ``siamtrack/utils/crops.py`` (numpy + OpenCV: the torch-free tracking
engine crops with them too); this module is their name on the data side, where the pair mapper
and the augmentation import them.
"""

from ..utils.crops import (
    crop_square,
    crop_window,
    crop_window_affine,
    mean_color,
    siamese_crop_sides,
    square_window,
)

__all__ = [
    "crop_square",
    "crop_window",
    "crop_window_affine",
    "mean_color",
    "siamese_crop_sides",
    "square_window",
]
