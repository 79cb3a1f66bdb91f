"""Unpack PyPI's pb1-detectron2 sdist into an installable pure-Python detectron2 source tree.

Usage: python prepare_detectron2_fallback.py SRC_DIR SHA256 PLACEHOLDER_C_PY

SRC_DIR holds the downloaded ``pb1-detectron2-0.6.tar.gz``. The tree is written to
``SRC_DIR/detectron2-src`` with:
- ``ext_modules`` emptied in setup.py (the sdist has no C++/CUDA sources to compile);
- black's ``==21.4b2`` pin dropped (only used to pretty-print LazyConfig files);
- ``detectron2/_C.py`` = the placeholder module (detectron2 imports ``_C`` at module level).
Each edit is checked, so a different sdist fails loudly instead of installing something half-patched.
"""

import hashlib
import shutil
import sys
import tarfile
from pathlib import Path

SETUP_PY_EDITS = [
    ("ext_modules=get_extensions(),", "ext_modules=[],"),
    ('"black==21.4b2",', '"black",'),
]


def main(src_dir: str, sha256: str, placeholder: str) -> None:
    src = Path(src_dir)
    archives = sorted(src.glob("pb1*detectron2-*.tar.gz"))
    if len(archives) != 1:
        sys.exit(f"expected exactly one pb1-detectron2 sdist in {src}, found {archives}")
    archive = archives[0]
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    if digest != sha256:
        sys.exit(f"{archive}: sha256 {digest} does not match the expected {sha256}")

    out = src / "detectron2-src"
    shutil.rmtree(out, ignore_errors=True)
    with tarfile.open(archive) as tar:
        try:
            tar.extractall(src, filter="data")
        except TypeError:  # Python < 3.10.12 has no extraction filters; the sdist hash is pinned
            tar.extractall(src)
    (top,) = [p for p in src.iterdir() if p.is_dir() and p.name.startswith("pb1")]
    top.rename(out)

    setup_py = out / "setup.py"
    text = setup_py.read_text()
    for old, new in SETUP_PY_EDITS:
        if text.count(old) != 1:
            sys.exit(
                f"{setup_py}: expected exactly one occurrence of {old!r}; unknown sdist layout"
            )
        text = text.replace(old, new)
    setup_py.write_text(text)
    shutil.copyfile(placeholder, out / "detectron2" / "_C.py")
    print(f"prepared {out}")


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    main(*sys.argv[1:])
