"""detectron2 / fvcore internals are touched in one module only (``engine/d2_compat.py``)."""

import re

from ..conftest import REPO_ROOT

# private names of detectron2 / fvcore that siamtrack relies on, and private imports
INTERNALS = re.compile(
    r"\._trainer\b|_data_loader_iter|_LOCAL_PROCESS_GROUP|TrainerBase\.__init__"
    r"|from (detectron2|fvcore)[\w.]* import _\w+"
)


def test_detectron2_internals_only_in_d2_compat():
    compat = REPO_ROOT / "siamtrack" / "engine" / "d2_compat.py"
    found = [
        f"{path.relative_to(REPO_ROOT)}:{number}: {line.strip()}"
        for path in sorted((REPO_ROOT / "siamtrack").rglob("*.py"))
        if path != compat
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if INTERNALS.search(line)
    ]
    assert not found, "detectron2 internals outside engine/d2_compat.py:\n" + "\n".join(found)
    assert INTERNALS.search(compat.read_text())
