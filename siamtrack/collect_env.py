"""Print the versions siamtrack runs with: ``python -m siamtrack.collect_env``."""

import importlib
import platform
import sys
from typing import Dict


def detectron2_flavour() -> str:
    """ "official" (compiled ops), "fallback" (pure Python, placeholder ``_C``) or "missing"."""
    try:
        importlib.import_module("detectron2")
    except ImportError:
        return "missing"
    try:
        compiled = importlib.import_module("detectron2._C")
    except ImportError:
        return "official, compiled ops missing"
    if getattr(compiled, "__siamtrack_placeholder__", False):
        return "fallback (pure Python, no compiled ops)"
    return "official"


def collect_env_info() -> Dict[str, str]:
    import torch

    info = {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "torch": torch.__version__,
        "torch threads": str(torch.get_num_threads()),
        "CUDA available": str(torch.cuda.is_available()),
    }
    if torch.cuda.is_available():
        info["GPUs"] = ", ".join(
            torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())
        )
    for name in ("torchvision", "detectron2", "fvcore", "cv2", "numpy", "pycocotools"):
        try:
            module = importlib.import_module(name)
            info[name] = getattr(module, "__version__", "installed")
        except ImportError:
            info[name] = "not installed"
    info["detectron2 flavour"] = detectron2_flavour()
    import siamtrack

    info["siamtrack"] = siamtrack.__version__
    return info


def main() -> None:
    info = collect_env_info()
    width = max(len(k) for k in info)
    for key, value in info.items():
        print(f"{key:<{width}}  {value}")


if __name__ == "__main__":
    main()
