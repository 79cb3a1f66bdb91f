"""The package's layers: no import cycles, imports at module top, torch-free bottom layers."""

import ast
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

from .conftest import REPO_ROOT

PACKAGE = REPO_ROOT / "siamtrack"
# Imports allowed inside functions, and why: optional dependencies, loaded only when used.
OPTIONAL_DEPENDENCIES = {"got10k", "trax", "onnxruntime"}
# Imported on first use to keep start-up short (onnx: ~1 s, which only exports need).
DEFERRED_IMPORTS = {"onnx"}
# collect_env reports what is installed, so it imports torch/siamtrack inside try blocks.
LAZY_IMPORT_MODULES = {"siamtrack.collect_env"}
# Modules that must import without torch and detectron2.
TORCH_FREE = [
    "siamtrack.io",
    "siamtrack.evaluation",
    "siamtrack.utils.boxes",
    "siamtrack.utils.timing",
    "siamtrack.model_zoo",
]


def _module_name(path: Path) -> str:
    parts = path.relative_to(REPO_ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _part(module: str) -> str:
    """The layer a module belongs to: ``siamtrack.<first component>``."""
    return ".".join(module.split(".")[:2])


def _imports(path: Path):
    """(imported siamtrack module, inside a function?) for every import in a file."""
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    tree = ast.parse(path.read_text())
    in_function = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            in_function.update(id(sub) for sub in ast.walk(node) if sub is not node)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module
            names = [target]
        else:
            continue
        for name in names:
            yield name, id(node) in in_function


def _all_files():
    return sorted(p for p in PACKAGE.rglob("*.py"))


def test_no_import_cycles_between_layers():
    graph = defaultdict(set)
    for path in _all_files():
        source = _part(_module_name(path))
        for target, _ in _imports(path):
            if target.startswith("siamtrack.") and _part(target) != source:
                graph[source].add(_part(target))
    state, stack = {}, []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for target in sorted(graph[node]):
            if state.get(target) == "open":
                cycle = stack[stack.index(target) :] + [target]
                pytest.fail(f"import cycle between layers: {' -> '.join(cycle)}")
            if target not in state:
                visit(target)
        stack.pop()
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node)


def test_imports_are_at_module_top():
    hidden = []
    for path in _all_files():
        module = _module_name(path)
        if module in LAZY_IMPORT_MODULES:
            continue
        for target, in_function in _imports(path):
            top = target.split(".")[0]
            if in_function and top not in OPTIONAL_DEPENDENCIES | DEFERRED_IMPORTS:
                hidden.append(f"{module}: {target}")
    assert hidden == [], f"imports inside functions (move them to the module top): {hidden}"


BLOCK_TORCH = """
import importlib.abc, sys
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.split(".")[0] in ("torch", "torchvision", "detectron2", "fvcore"):
            raise ImportError(f"blocked for the test: {name}")
sys.meta_path.insert(0, Block())
"""


def _run_without_torch(code: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", BLOCK_TORCH + code],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO_ROOT,
    )


def test_import_siamtrack_defers_the_deferred_imports():
    code = (
        "import sys, siamtrack\n"
        "from siamtrack.tracking import SiamTracker\n"
        f"loaded = sorted(m for m in {sorted(DEFERRED_IMPORTS)!r} if m in sys.modules)\n"
        "assert not loaded, loaded\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=REPO_ROOT
    )
    assert result.returncode == 0, result.stderr[-2000:]


def test_bottom_layers_import_without_torch_and_detectron2():
    code = (
        "import importlib\n"
        f"for name in {TORCH_FREE!r}:\n"
        "    importlib.import_module(name)\n"
        "import siamtrack\n"
        "try:\n"
        "    siamtrack.SiamTracker\n"
        "except ImportError as error:\n"
        "    print('refused:', error)\n"
    )
    result = _run_without_torch(code)
    assert result.returncode == 0, result.stderr
    assert "refused: siamtrack.SiamTracker needs torch and detectron2" in result.stdout


@pytest.mark.parametrize(
    "tool",
    ["track_video", "eval_tracker", "export_onnx", "analyze_model", "convert_pysot_weights"],
)
def test_tool_help_needs_no_torch(tool):
    """``--help`` answers before siamtrack (torch, detectron2) is imported."""
    code = (
        "import runpy, sys\n"
        f"sys.argv = ['{tool}.py', '--help']\n"
        f"runpy.run_path('tools/{tool}.py', run_name='__main__')\n"
    )
    result = _run_without_torch(code)
    assert result.returncode == 0, result.stderr
    assert "usage:" in result.stdout
