"""siamtrack: Siamese single-object tracking (SiamRPN++) for detectron2.

Importing the package registers its components with detectron2's registries.
"""

__version__ = "0.1.0"

from . import data  # noqa: F401,E402  registers the bundled sample and standard datasets
from . import modeling  # noqa: F401,E402  registers backbone, heads, meta-architecture
from .config import add_siamtrack_config, load_config  # noqa: E402
from .tracking import SiamTracker  # noqa: E402

__all__ = ["add_siamtrack_config", "load_config", "SiamTracker", "__version__"]
