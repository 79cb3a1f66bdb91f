"""siamtrack: Siamese single-object tracking (SiamRPN++) for detectron2.

Importing the package registers its components with detectron2's registries.
"""
__version__ = "0.1.0"

from .config import add_siamtrack_config  # noqa: E402

__all__ = ["add_siamtrack_config", "__version__"]
