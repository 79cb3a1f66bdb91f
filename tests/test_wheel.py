"""Installed, not checked out: the wheel ships the configs and tracks; an editable install links them.

Both build from a copy of the working tree's packaging files (the checkout gets no build/ or
link from the test) without network (``--no-deps --no-build-isolation``). The installed
siamtrack runs in ``python -I -S`` from a folder outside the checkout, with ``sys.path`` set
by hand: the install first, then this venv's site-packages for torch and detectron2, whose
``.pth`` files (the checkout's editable finder) are not read. About 20 s.
"""

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from .conftest import CONFIGS_DIR, REPO_ROOT

SEQUENCE = REPO_ROOT / "datasets" / "siamtrack_sample" / "val" / "astronaut_gravel"
PIP = [sys.executable, "-m", "pip", "--disable-pip-version-check"]
NO_NETWORK = ["--no-deps", "--no-build-isolation", "--no-index", "--quiet"]
PACKAGED = Path("siamtrack", "model_zoo", "configs")


def _venv_site_packages():
    paths = sysconfig.get_paths()
    return list(dict.fromkeys([paths["purelib"], paths["platlib"]]))


def _copy_source(destination: Path) -> Path:
    """What a build reads from a checkout: setup files, the package, configs (no link, no cache)."""
    destination.mkdir()
    for name in ("setup.py", "setup.cfg", "README.md", "LICENSE"):
        shutil.copy2(REPO_ROOT / name, destination / name)
    shutil.copytree(CONFIGS_DIR, destination / "configs")
    shutil.copytree(
        REPO_ROOT / "siamtrack",
        destination / "siamtrack",
        ignore=lambda folder, names: [
            n
            for n in names
            if n == "__pycache__" or (n == "configs" and folder.endswith("model_zoo"))
        ],
    )
    return destination


def _run_installed(code: str, sys_path_setup: str, cwd: Path, env_extra: dict) -> dict:
    """Run ``code`` (which prints one JSON line last) in ``python -I -S`` from ``cwd``."""
    prelude = (
        "import json, site, sys\n"
        f"{sys_path_setup}\n"
        f"sys.path.extend({_venv_site_packages()!r})\n"
    )
    env = dict(os.environ, **env_extra)
    env.pop("PYTHONPATH", None)
    result = subprocess.run(
        [sys.executable, "-I", "-S", "-c", prelude + code],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=cwd,
        env=env,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.splitlines()[-1])


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("wheel")
    source = _copy_source(work / "src")
    subprocess.run(
        PIP + ["wheel", *NO_NETWORK, "-w", str(work / "dist"), str(source)],
        check=True,
        capture_output=True,
        timeout=300,
        cwd=work,
    )
    (wheel_file,) = (work / "dist").glob("siamtrack-*.whl")
    return wheel_file


def test_wheel_contains_every_config_file(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped = {
        (PACKAGED / p.relative_to(CONFIGS_DIR)).as_posix()
        for p in CONFIGS_DIR.rglob("*")
        if p.is_file()
    }
    assert any(name.endswith(".yaml") for name in shipped)
    assert shipped <= names, sorted(shipped - names)
    assert not any(name.startswith("configs/") for name in names)


INSTALLED_WHEEL_CHECK = """
import argparse, glob, os
import cv2
import siamtrack
from siamtrack import SiamTracker, model_zoo
from siamtrack.config import config_from_args

site_dir, sequence = sys.argv[1:]
config_file = model_zoo.get_config_file("nanotrack_v3")
assert config_file == model_zoo.get_config_file("nanotrack/nanotrack_v3.yaml")
cfg = model_zoo.get_config("nanotrack_v3")
tool_cfg = config_from_args(argparse.Namespace(config_file=None, weights="nanotrack_v3", opts=[]))
frames = sorted(glob.glob(os.path.join(sequence, "img", "*.jpg")))[:3]
with open(os.path.join(sequence, "groundtruth.txt")) as f:
    truth = [[float(v) for v in line.split(",")] for line in f.readlines()[:3]]
tracker = SiamTracker(cfg)
tracker.init(cv2.imread(frames[0]), truth[0])
results = [tracker.update(cv2.imread(frame)) for frame in frames[1:]]
modules = {m.__file__ for n, m in sys.modules.items() if n.split(".")[0] == "siamtrack"}
print(json.dumps({
    "siamtrack": siamtrack.__file__,
    "modules_outside": sorted(m for m in modules if m and not m.startswith(site_dir)),
    "config_file": config_file,
    "meta_architecture": cfg.MODEL.META_ARCHITECTURE,
    "head": cfg.MODEL.SIAMESE.HEAD_NAME,
    "weights": cfg.MODEL.WEIGHTS,
    "weights_file": model_zoo.resolve_weights(cfg.MODEL.WEIGHTS),
    "tool_config_matches": tool_cfg == cfg,
    "boxes": [r.box_xywh.tolist() for r in results],
    "truth": truth[1:],
    "scores": [r.score for r in results],
}))
"""


def test_installed_wheel_finds_configs_weights_and_tracks(wheel, nanotrack_weights, tmp_path):
    site_dir = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site_dir)
    out = _run_installed(
        INSTALLED_WHEEL_CHECK,
        f"sys.path.insert(0, {str(site_dir)!r}); sys.argv[1:] = "
        f"[{str(site_dir)!r}, {str(SEQUENCE)!r}]",
        cwd=tmp_path,
        env_extra={
            "SIAMTRACK_WEIGHTS_DIR": str(nanotrack_weights.resolve()),
            "SIAMTRACK_CACHE_DIR": str(tmp_path / "cache"),
            "XDG_CACHE_HOME": str(tmp_path / "xdg"),
        },
    )
    assert REPO_ROOT not in tmp_path.parents
    assert out["siamtrack"] == str(site_dir / "siamtrack" / "__init__.py")
    assert out["modules_outside"] == []
    assert out["config_file"] == str(site_dir / PACKAGED / "nanotrack" / "nanotrack_v3.yaml")
    # _BASE_ (Base-NanoTrack.yaml, beside it in the package) merged under nanotrack_v3.yaml
    assert (out["meta_architecture"], out["head"]) == ("NanoTrack", "NanoTrackV3Head")
    assert out["weights"] == "nanotrack_v3"
    assert out["weights_file"] == str(nanotrack_weights.resolve() / "nanotrackv3.pth")
    assert out["tool_config_matches"]
    for box, truth, score in zip(out["boxes"], out["truth"], out["scores"]):
        centre_error = [
            abs(b + w / 2 - t - v / 2) for b, w, t, v in zip(box, box[2:], truth, truth[2:])
        ]
        assert max(centre_error) < 5 and score > 0.9, (box, truth, score)


EDITABLE_CHECK = """
import importlib.abc
class Block(importlib.abc.MetaPathFinder):  # the model zoo's config lookup needs no torch
    def find_spec(self, name, path, target=None):
        if name.split(".")[0] in ("torch", "torchvision", "detectron2", "fvcore"):
            raise ImportError(f"blocked for the test: {name}")
sys.meta_path.insert(0, Block())
import siamtrack.model_zoo as zoo
path = zoo.get_config_file("nanotrack/nanotrack_v3.yaml")
print(json.dumps({"module": zoo.__file__, "config_file": path, "text": open(path).read()}))
"""


def test_editable_install_reads_the_checkout_configs_through_the_link(tmp_path):
    source = _copy_source(tmp_path / "src")
    prefix = tmp_path / "prefix"
    # --ignore-installed: without it pip uninstalls the venv's own siamtrack first (a --prefix
    # install still replaces the distribution it finds on sys.path)
    subprocess.run(
        PIP + ["install", *NO_NETWORK, "--ignore-installed", "--prefix", str(prefix), "-e",
               str(source)],  # fmt: skip
        check=True,
        capture_output=True,
        timeout=300,
        cwd=tmp_path,
    )
    link = source / PACKAGED
    assert link.is_symlink() and os.readlink(link) == os.path.join("..", "..", "configs")
    (editable_pth,) = prefix.rglob("__editable__.siamtrack-*.pth")
    edited = source / "configs" / "nanotrack" / "nanotrack_v3.yaml"
    edited.write_text(edited.read_text() + "# edited after the install\n")

    out = _run_installed(
        EDITABLE_CHECK,
        f"site.addsitedir({str(editable_pth.parent)!r})",
        cwd=tmp_path,
        env_extra={},
    )
    assert out["module"] == str(source / "siamtrack" / "model_zoo" / "__init__.py")
    assert out["config_file"] == str(link / "nanotrack" / "nanotrack_v3.yaml")
    assert out["text"].endswith("# edited after the install\n")
