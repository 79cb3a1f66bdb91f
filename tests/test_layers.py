"""The package's layers: every import points down the declared order (the list in
``siamtrack/__init__.py``'s docstring, read here), no import cycles, imports at module top,
torch-free bottom layers, and ``import siamtrack`` / the tools' ``--help`` without torch."""

import ast
import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Tuple

import pytest

from .conftest import REPO_ROOT

PACKAGE = REPO_ROOT / "siamtrack"
LAYERS_HEADER = "Layers, bottom to top"
# Imports allowed inside functions, and why: optional dependencies, loaded only when used.
OPTIONAL_DEPENDENCIES = {"got10k", "trax", "onnxruntime"}
# Imported on first use to keep start-up short (onnx: ~1 s, which only exports need;
# matplotlib: ~0.6 s, which only plots need).
DEFERRED_IMPORTS = {"onnx", "matplotlib"}
# collect_env reports what is installed, so it imports torch/siamtrack inside try blocks.
LAZY_IMPORT_MODULES = {"siamtrack.collect_env"}
# Modules that must import without torch and detectron2.
TORCH_FREE = [
    "siamtrack",
    "siamtrack.errors",
    "siamtrack.inference_options",
    "siamtrack.io",
    "siamtrack.evaluation",
    "siamtrack.utils.boxes",
    "siamtrack.utils.timing",
    "siamtrack.model_zoo",
    "siamtrack.cli",
    # the torch-free tracker (tracking/runtime_record.py) and what it runs on
    "siamtrack.utils.crops",
    "siamtrack.utils.registry",
    "siamtrack.export",
    "siamtrack.export.graphs",
    "siamtrack.export.cache_entries",
    "siamtrack.tracking",
    "siamtrack.tracking.engine",
    "siamtrack.tracking.single_target",
    "siamtrack.tracking.search",
    "siamtrack.tracking.postprocess",
    "siamtrack.tracking.presence",
    "siamtrack.tracking.redetection",
    "siamtrack.tracking.results",
    "siamtrack.tracking.loop",
    "siamtrack.tracking.graph_backend",
    "siamtrack.tracking.video_runner",
    "siamtrack.tracking.runtime_record",
]
TORCH_MODULES = ("torch", "torchvision", "detectron2", "fvcore")


def declared_layers() -> List[List[str]]:
    """The numbered list under "Layers, bottom to top" in ``siamtrack/__init__.py``'s
    docstring: one list of names (``"utils"``, ``"model_zoo"``, ...) per layer, bottom first."""
    docstring = ast.get_docstring(ast.parse((PACKAGE / "__init__.py").read_text()))
    assert (
        docstring and LAYERS_HEADER in docstring
    ), f"siamtrack/__init__.py's docstring must declare the layers under '{LAYERS_HEADER}'"
    layers: List[List[str]] = []
    for line in docstring.split(LAYERS_HEADER, 1)[1].splitlines():
        match = re.match(r"^(\d+)\. (.+)$", line.strip())
        if match:
            assert int(match[1]) == len(layers) + 1, f"layer numbers out of order at '{line}'"
            layers.append(re.findall(r"``([\w.]+)``", match[2]))
        elif layers:
            break
    return layers


def layer_index(layers: List[List[str]]) -> Dict[str, int]:
    """``{"siamtrack.<name>": layer number (1 = bottom)}``."""
    return {f"siamtrack.{name}": k for k, names in enumerate(layers, 1) for name in names}


def layer_of(module: str, index: Dict[str, int]) -> Optional[Tuple[str, int]]:
    """(declared name, layer number) of a module: its longest declared prefix, or None."""
    parts = module.split(".")
    for end in range(len(parts), 1, -1):
        prefix = ".".join(parts[:end])
        if prefix in index:
            return prefix, index[prefix]
    return None


def upward_imports(imports: Iterable[Tuple[str, str]], layers: List[List[str]]) -> List[str]:
    """One message per (importing module, imported module) pair that points up the order."""
    index = layer_index(layers)

    def describe(name: str, number: int) -> str:
        return f"layer {number}: {', '.join(layers[number - 1])}"

    problems = []
    for source, target in imports:
        if target == "siamtrack" or source == "siamtrack":  # the root holds no top-level import
            continue
        source_layer, target_layer = layer_of(source, index), layer_of(target, index)
        if source_layer and target_layer and target_layer[1] > source_layer[1]:
            problems.append(
                f"{source} ({describe(*source_layer)}) imports {target} "
                f"({describe(*target_layer)}): an import may only point to its own layer or a "
                "lower one (order: siamtrack/__init__.py)"
            )
    return problems


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


def _siamtrack_imports() -> List[Tuple[str, str]]:
    """(importing module, imported siamtrack module) for every import in the package."""
    return [
        (_module_name(path), target)
        for path in _all_files()
        for target, _ in _imports(path)
        if target == "siamtrack" or target.startswith("siamtrack.")
    ]


def test_layers_are_declared_for_every_module():
    layers = declared_layers()
    names = [name for layer in layers for name in layer]
    assert len(layers) >= 4 and len(names) == len(set(names)), layers
    index = layer_index(layers)
    missing = sorted(
        {m for m in map(_module_name, _all_files()) if m != "siamtrack" and not layer_of(m, index)}
    )
    assert (
        not missing
    ), f"modules in no declared layer (add them to the list in siamtrack/__init__.py): {missing}"


def test_imports_point_down_the_declared_layers():
    problems = upward_imports(_siamtrack_imports(), declared_layers())
    assert not problems, "imports that point up the layers:\n" + "\n".join(problems)


def test_an_upward_import_is_named_with_both_layers():
    layers = [["errors", "io"], ["config", "data"], ["tracking"]]
    imports = [
        ("siamtrack.config", "siamtrack.tracking.network_contract"),
        ("siamtrack.tracking.loop", "siamtrack.io.images"),  # down: fine
        ("siamtrack.data.catalog", "siamtrack.config"),  # same layer: fine
    ]
    assert upward_imports(imports, layers) == [
        "siamtrack.config (layer 2: config, data) imports siamtrack.tracking.network_contract "
        "(layer 3: tracking): an import may only point to its own layer or a lower one (order: "
        "siamtrack/__init__.py)"
    ]


def test_architecture_page_shows_the_declared_layers():
    page = (REPO_ROOT / "docs" / "architecture.md").read_text()
    layers = page.split("## Layers", 1)[1].split("\n## ", 1)[0]
    for layer in declared_layers():
        for name in layer:
            assert f"`{name}`" in layers, f"docs/architecture.md's Layers lack {name}"


# Shared code knows the model families only through registries and contracts: outside
# ``siamtrack/families/`` (and the model zoo's data tables), no identifier or string that is
# not a docstring names a family, and no code tests a model's type.
FAMILY_PACKAGE = PACKAGE / "families"
FAMILY_DATA = {PACKAGE / "model_zoo" / "entries.py"}
FAMILY_WORDS = re.compile(
    r"siamese_?ban|siamese_?rpn|nano_?track|siam_?rpn|siam_?fc", re.IGNORECASE
)


def _docstring_nodes(tree: ast.AST) -> set:
    nodes = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                nodes.add(id(body[0].value))
    return nodes


def family_mentions(path: Path, root: Path = REPO_ROOT) -> List[str]:
    """Identifiers, strings (docstrings and comments aside) and ``isinstance(model, ...)``
    tests of ``path`` that name a model family, as ``"<path from root>:<line>: <text>"``."""
    name = path.relative_to(root)
    tree = ast.parse(path.read_text())
    docstrings = _docstring_nodes(tree)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            texts = [node.id]
        elif isinstance(node, ast.Attribute):
            texts = [node.attr]
        elif isinstance(node, ast.alias):
            texts = [node.name, node.asname or ""]
        elif isinstance(node, ast.ImportFrom):
            texts = [node.module or ""]
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            texts = [] if id(node) in docstrings else [node.value]
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "isinstance"
            and node.args
            and isinstance(node.args[0], ast.Name)
            and node.args[0].id == "model"
        ):
            found.append(f"{name}:{node.lineno}: isinstance(model, ...)")
            continue
        else:
            continue
        found += [f"{name}:{node.lineno}: {text!r}" for text in texts if FAMILY_WORDS.search(text)]
    return found


def test_shared_code_does_not_name_a_family():
    shared = [
        path
        for path in _all_files()
        if FAMILY_PACKAGE not in path.parents and path not in FAMILY_DATA
    ]
    found = [mention for path in shared for mention in family_mentions(path)]
    assert not found, "shared code naming a model family (use a registry or a contract):\n" + (
        "\n".join(found)
    )


def test_a_family_mention_is_found(tmp_path):
    path = tmp_path / "probe.py"
    path.write_text(
        '"""NanoTrack in a docstring is fine."""\n'
        "# so is SiameseRPN in a comment\n"
        "from siamtrack.families.nanotrack import NanoTrack\n"
        "def f(model):\n"
        '    """SiameseBAN: fine."""\n'
        "    return isinstance(model, object) or 'configs/siamrpn/x.yaml'\n"
    )
    found = family_mentions(path, tmp_path)
    assert sorted(found) == [
        "probe.py:3: 'NanoTrack'",
        "probe.py:3: 'siamtrack.families.nanotrack'",
        "probe.py:6: 'configs/siamrpn/x.yaml'",
        "probe.py:6: isinstance(model, ...)",
    ]


def test_no_import_cycles_between_layers():
    graph = defaultdict(set)
    for source_module, target in _siamtrack_imports():
        source = _part(source_module)
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


def test_importing_detectron2_through_siamtrack_is_quiet():
    """detectron2 and fvcore script functions when they import, which recent torch reports as
    deprecated: a warning the user cannot act on, kept out of siamtrack's imports of them."""
    code = "import siamtrack\nfrom siamtrack import SiamTracker\nimport detectron2.modeling\n"
    result = subprocess.run(
        [sys.executable, "-W", "error:`torch.jit.script` is deprecated:FutureWarning", "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO_ROOT,
    )
    assert result.returncode == 0, result.stderr[-2000:]


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


def test_import_siamtrack_loads_no_torch():
    """Where torch is installed too: ``import siamtrack`` (and the torch-free layers) leave
    torch and detectron2 unloaded until something needs them."""
    code = (
        "import importlib, sys\n"
        f"for name in {TORCH_FREE!r}:\n"
        "    importlib.import_module(name)\n"
        f"loaded = sorted(m for m in sys.modules if m.split('.')[0] in {TORCH_MODULES!r})\n"
        "assert not loaded, loaded[:5]\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=REPO_ROOT
    )
    assert result.returncode == 0, result.stderr[-2000:]


def test_model_zoo_list_needs_no_torch(tmp_path):
    code = (
        "import runpy, sys\n"
        f"sys.argv = ['model_zoo', 'list', '--cache-dir', {str(tmp_path)!r}]\n"
        "runpy.run_module('siamtrack.model_zoo', run_name='__main__')\n"
    )
    result = _run_without_torch(code)
    assert result.returncode == 0, result.stderr
    assert "nanotrack_v3" in result.stdout


@pytest.mark.parametrize(
    "tool",
    [
        "track_video",
        "eval_tracker",
        "export_onnx",
        "analyze_model",
        "convert_pysot_weights",
        "train_net",
    ],
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
