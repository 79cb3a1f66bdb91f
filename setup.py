#!/usr/bin/env python
"""siamtrack: SiamRPN++ single-object tracking as a detectron2 extension."""
import os
import re
import shutil
from pathlib import Path
from typing import List

from setuptools import find_packages, setup

ROOT = Path(__file__).resolve().parent


def get_version() -> str:
    text = (ROOT / "siamtrack" / "__init__.py").read_text()
    return re.search(r'^__version__ = "([^"]+)"', text, re.M).group(1)


def get_model_zoo_configs() -> List[str]:
    """Put the configs inside the package, as detectron2's setup.py does, and list them.

    The top-level ``configs/`` stays the source of truth. Every build (``pip install -e .``,
    ``pip wheel .``, ``setup.py sdist``) makes ``siamtrack/model_zoo/configs`` a relative symlink
    to it, so an editable install reads the checkout's files and a wheel or sdist carries a copy.
    Where symlinks are not available (Windows without developer mode) it is a copy, which an
    editable install refreshes on its next ``pip install -e .``. The link is in .gitignore. An
    sdist has no top-level ``configs/``: its packaged copy is used as it is.

    Returns:
        Every file under the packaged configs (yaml and whatever lives beside it), relative to
        the package ``siamtrack.model_zoo``: its ``package_data``.
    """
    source = ROOT / "configs"
    packaged = ROOT / "siamtrack" / "model_zoo" / "configs"
    link_target = os.path.relpath(source, packaged.parent)
    if source.is_dir() and not (packaged.is_symlink() and os.readlink(packaged) == link_target):
        if packaged.is_symlink() or packaged.is_file():
            packaged.unlink()
        elif packaged.is_dir():  # an earlier copy
            shutil.rmtree(packaged)
        try:
            packaged.symlink_to(link_target, target_is_directory=True)
        except OSError:
            shutil.copytree(source, packaged)
    files = []
    for folder, _, names in os.walk(packaged):  # follows the link itself, not links inside
        files.extend(Path(folder, name).relative_to(packaged.parent).as_posix() for name in names)
    return sorted(files)


setup(
    name="siamtrack",
    version=get_version(),
    description="SiamRPN++ single-object tracking as a detectron2 extension library",
    long_description=(ROOT / "README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    license="Apache-2.0",
    python_requires=">=3.10",
    packages=find_packages(include=["siamtrack", "siamtrack.*"]),
    package_data={"siamtrack.model_zoo": get_model_zoo_configs()},
    # detectron2 is not on PyPI: install it first (README). OpenCV is not listed on purpose, as
    # detectron2 does: pick opencv-python, opencv-python-headless or opencv-contrib-python.
    install_requires=[
        "torch>=2.1",
        "torchvision>=0.16",
        "fvcore>=0.1.5",
        "numpy>=1.21",
        "pycocotools>=2.0.2",
        "tqdm>=4.29",
        "matplotlib>=3.5",
        # ONNX export and the onnxruntime tracking backend (NanoTrack's default)
        "onnx>=1.14",
        "onnxruntime>=1.16",
    ],
    extras_require={
        "got10k": ["got10k"],
        "vot": ["vot-trax"],
        "dev": ["pytest>=7", "scikit-image>=0.19"],
    },
)
