#!/usr/bin/env python
"""siamtrack: SiamRPN++ single-object tracking as a detectron2 extension."""
import re
from pathlib import Path

from setuptools import find_packages, setup

ROOT = Path(__file__).resolve().parent


def get_version() -> str:
    text = (ROOT / "siamtrack" / "__init__.py").read_text()
    return re.search(r'^__version__ = "([^"]+)"', text, re.M).group(1)


setup(
    name="siamtrack",
    version=get_version(),
    description="SiamRPN++ single-object tracking as a detectron2 extension library",
    long_description=(ROOT / "README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    license="Apache-2.0",
    python_requires=">=3.10",
    packages=find_packages(include=["siamtrack", "siamtrack.*"]),
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
