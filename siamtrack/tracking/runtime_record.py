"""Runtime records: a tracker built from a config, kept as plain data, so that the next run with
the same config, overrides and weights builds it again without torch or detectron2.

Building a tracker from a config (``SiamTracker(cfg)``) imports torch and detectron2, builds the
model and loads its weights (5-8 s on 2 CPU cores) before the graph cache hands over the ONNX
graphs it needed. With the onnxruntime backend, none of that is needed at run time: the
tracker is the engine (``engine.py``), the cached graphs in onnxruntime
(``graph_backend.py``) and a handful of settings. ``save_runtime_record`` writes those settings
after a tracker was built; ``load_runtime_tracker`` rebuilds the tracker from them (numpy,
OpenCV, onnxruntime; ~0.1 s), giving the same boxes.

- **Key** (``runtime_key``, computed without torch): sha256 of the request as the tools give it
  (``RuntimeRequest``: the bytes of every yaml file along the ``_BASE_`` chain, the ``--opts``
  overrides with the device, ``--weights`` and ``--trust-weights``), the bytes of the weights
  file ``MODEL.WEIGHTS`` resolves to (a file, or a model zoo name looked up as the model zoo
  does, without downloading), where ``TRACKER.PRESENCE_MODEL`` and ``TRACKER.ONNX_DIR``
  resolve to (relative paths depend on the working folder), the source of siamtrack, the
  versions of siamtrack, onnxruntime and torch, and ``CUDA_VISIBLE_DEVICES``. Another config,
  override, weights file or version gives another key. A request without weights (a random
  model) has none.
- **Record** (``<cache root>/runtime/<key>.json``, written atomically, with its own sha256): the
  crop sizes and score shape, the search strategy's name and ``settings()``, the presence model
  (its JSON content) and threshold, the long-term settings, the inference options, the device
  and a pointer to the graph cache entry (``export/cache_entries.py``; graphs read from
  ``TRACKER.ONNX_DIR`` are copied into the cache). Files the config named (the presence model,
  the ``ONNX_DIR`` graphs) are listed with their sha256.
- **Never trusted blindly**: the record's own hash, its key and format, every listed file's
  hash and the graph entry's hashes (and that they are the graphs the record names) are checked
  on every use; a record that fails any check is ignored with a warning, and the tool builds the
  tracker from the config again, which replaces the record.
- **What gets a record**: trackers on the onnxruntime backend on the CPU whose search strategy
  has ``settings()`` (``PenaltyWindowSearch``). The torch backend and CUDA devices always take
  the config path.
- **A cache that cannot be written** does not stop tracking: the graph cache already warns
  (once) and no record is attempted; a record alone that cannot be written warns once per
  folder.
"""

import hashlib
import importlib
import importlib.util
import json
import logging
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

import yaml

from .. import __version__
from ..errors import SiamtrackError
from ..export.cache_entries import (
    CacheEntryError,
    cache_root,
    graph_cache_dir,
    read_cache_entry,
    read_signed_json,
    remove_leftovers,
    sha256_hex,
    signed_json,
    write_cache_entry,
)
from ..export.graphs import SiameseGraphs, import_onnxruntime
from ..inference_options import InferenceOptions
from ..io.files import atomic_output
from ..model_zoo import find_weights, get_config_file, list_models
from ..utils.paths import PathLike
from .engine import MultiTargetEngine
from .graph_backend import OnnxGraphBackend
from .presence import (
    PresenceModel,
    RawScorePresence,
    presence_model_from_dict,
    presence_model_path,
)
from .search import SEARCH_STRATEGY_REGISTRY, search_strategy_from_settings
from .single_target import OneTargetEngine, SingleTargetTracker

__all__ = [
    "RECORD_FORMAT",
    "RuntimeRequest",
    "load_runtime_tracker",
    "runtime_key",
    "runtime_record_dir",
    "runtime_record_path",
    "save_runtime_record",
]

logger = logging.getLogger(__name__)

RECORD_FORMAT = "siamtrack-runtime-1"
_PACKAGE = Path(__file__).resolve().parents[1]
_MAX_BASE_DEPTH = 32
# Errors that make a record unusable (then ignored with a warning).
_RECORD_ERRORS = (
    CacheEntryError,
    SiamtrackError,
    OSError,
    ImportError,
    KeyError,
    TypeError,
    ValueError,
    AttributeError,
)
_unwritable_warned = set()  # record folders already warned about in this process


@dataclass(frozen=True)
class RuntimeRequest:
    """What a tool asks for, as ``siamtrack.config.config_from_args`` reads it.

    Attributes:
        config_file: the yaml file (``--config-file``, else the model zoo config of
            ``--weights``).
        opts: ``KEY VALUE`` overrides in order (``--opts``, then ``MODEL.DEVICE`` of
            ``--device``).
        weights: ``--weights`` (it replaces ``MODEL.WEIGHTS``), or None.
        trust_weights: ``--trust-weights``.
    """

    config_file: str
    opts: Tuple[str, ...] = ()
    weights: Optional[str] = None
    trust_weights: bool = False

    @classmethod
    def from_args(cls, args) -> Optional["RuntimeRequest"]:
        """The request of a tool's model arguments (``siamtrack.cli.add_model_arguments``), or
        None where ``config_from_args`` would stop with an error (it then says why)."""
        config_file = getattr(args, "config_file", None)
        weights = getattr(args, "weights", None)
        if not config_file:
            if not weights or weights not in list_models():
                return None
            try:
                config_file = get_config_file(weights)
            except (OSError, SiamtrackError, ValueError, KeyError):
                return None
        opts = [str(v) for v in getattr(args, "opts", None) or []]
        device = getattr(args, "device", None)
        if device:
            opts += ["MODEL.DEVICE", str(device)]
        return cls(
            str(config_file),
            tuple(opts),
            str(weights) if weights else None,
            bool(getattr(args, "trust_weights", False)),
        )


# ---------------------------------------------------------------------------- the key
def _yaml_chain(config_file: str) -> Optional[List[Tuple[str, bytes, dict]]]:
    """(path, bytes, mapping) of the config and its ``_BASE_`` files, the config first, as
    detectron2 reads them (a ``_BASE_`` path relative to its file's folder; ``~`` expanded);
    None where the chain cannot be read here (a URL, a file that is missing or not a mapping)."""
    chain, path = [], config_file
    for _ in range(_MAX_BASE_DEPTH):
        try:
            data = Path(path).read_bytes()
            mapping = yaml.safe_load(data)
        except (OSError, yaml.YAMLError):
            return None
        if not isinstance(mapping, dict):
            return None
        chain.append((str(path), data, mapping))
        base = mapping.get("_BASE_")
        if base is None:
            return chain
        base = os.path.expanduser(str(base))
        if base.startswith(("https://", "http://")):
            return None
        if not base.startswith("/"):
            base = os.path.join(os.path.dirname(path), base)
        path = base
    return None


def _config_value(request: RuntimeRequest, chain: Sequence[Tuple[str, bytes, dict]], name: str):
    """The value of a ``SECTION.KEY`` config entry as the config ends up with it: the last
    override, else the nearest yaml file that sets it, else empty."""
    opts = request.opts
    for index in range(len(opts) - 2, -1, -2):
        if opts[index] == name:
            return str(opts[index + 1])
    section, key = name.split(".")
    for _, _, mapping in chain:
        node = mapping.get(section)
        if isinstance(node, dict) and key in node:
            return str(node[key] or "")
    return ""


def _absolute(path: str) -> str:
    return str(Path(path).absolute()) if path else ""


def _weights_file(value: str) -> Optional[str]:
    """The file the model zoo resolution would load for ``value`` (an existing file, or a zoo
    name found locally), or None (no weights, a URL, a file to download first)."""
    if not value or "://" in value:
        return None
    if os.path.isfile(value):
        return value
    if value not in list_models():
        return None
    try:
        found = find_weights(value)
    except (OSError, SiamtrackError, ValueError, KeyError):
        return None
    return found[0] if found is not None else None


def _sha256_of_file(path: PathLike) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _source_digest() -> str:
    """sha256 of siamtrack's source files (what turns a config into a tracker)."""
    digest = hashlib.sha256()
    for path in sorted(_PACKAGE.rglob("*.py")):
        data = path.read_bytes()
        digest.update(str(path.relative_to(_PACKAGE)).encode() + b"\0")
        digest.update(len(data).to_bytes(8, "little") + data)
    return digest.hexdigest()


def _torch_version() -> str:
    """The installed torch's version, read from its ``version.py`` without importing torch."""
    spec = importlib.util.find_spec("torch")
    if spec is None or not spec.submodule_search_locations:
        return "none"
    for folder in spec.submodule_search_locations:
        try:
            text = (Path(folder) / "version.py").read_text()
        except OSError:
            continue
        for line in text.splitlines():
            if line.startswith("__version__"):
                return line.split("=", 1)[1].strip().strip("'\"")
    return "unknown"


def runtime_key(request: RuntimeRequest) -> Optional[Tuple[str, Dict[str, Any]]]:
    """``(key, inputs)`` of a request (module docstring; ``inputs``: what the key hashed, for
    the record), or None when the request cannot have a record (a config whose
    ``TRACKER.BACKEND`` is not onnxruntime, no weights, weights not on disk yet, a config that
    cannot be read here, no onnxruntime)."""
    chain = _yaml_chain(request.config_file)
    if chain is None or _config_value(request, chain, "TRACKER.BACKEND") != "onnxruntime":
        return None  # (the torch backend needs torch anyway: no weights hashed for nothing)
    weights = _weights_file(request.weights or _config_value(request, chain, "MODEL.WEIGHTS"))
    if weights is None:
        return None
    presence = _config_value(request, chain, "TRACKER.PRESENCE_MODEL")
    try:
        ort_version = import_onnxruntime().__version__
        inputs = {
            "format": RECORD_FORMAT,
            "config_files": [path for path, _, _ in chain],
            "config_sha256": [sha256_hex(data) for _, data, _ in chain],
            "opts": list(request.opts),
            "weights_arg": request.weights,
            "trust_weights": request.trust_weights,
            "weights_file": weights,
            "weights_sha256": _sha256_of_file(weights),
            "presence_model_file": _absolute(
                str(presence_model_path(presence)) if presence else ""
            ),
            "onnx_dir": _absolute(_config_value(request, chain, "TRACKER.ONNX_DIR")),
            "siamtrack": __version__,
            "siamtrack_source_sha256": _source_digest(),
            "onnxruntime": str(ort_version),
            "torch": _torch_version(),
            "cuda_visible_devices": os.environ.get("CUDA_VISIBLE_DEVICES"),
        }
    except (OSError, SiamtrackError):
        return None
    # the key: everything but the weights' path (the same bytes elsewhere give the same model)
    hashed = {k: v for k, v in inputs.items() if k not in ("config_files", "weights_file")}
    return sha256_hex(json.dumps(hashed, sort_keys=True).encode()), inputs


def runtime_record_dir() -> Path:
    """Folder of the runtime records: ``<cache root>/runtime``."""
    return cache_root() / "runtime"


def runtime_record_path(key: str) -> Path:
    return runtime_record_dir() / f"{key}.json"


# ---------------------------------------------------------------------------- loading
def load_runtime_tracker(request: Optional[RuntimeRequest], num_targets: int = 1):
    """The tracker of ``request`` rebuilt from its runtime record, without torch, or None (no
    record: the caller builds it from the config, and ``save_runtime_record`` keeps it).

    Args:
        request: what the tool asks for (``RuntimeRequest.from_args``); None gives None.
        num_targets: 1: a ``SingleTargetTracker`` (``SiamTracker``'s API); more: a
            ``MultiTargetEngine`` (``MultiTargetTracker``'s API).

    A record that fails a check is ignored with a warning (None).
    """
    if request is None:
        return None
    keyed = runtime_key(request)
    if keyed is None:
        return None
    key, _ = keyed
    path = runtime_record_path(key)
    if not path.is_file():
        return None
    try:
        record = read_signed_json(path.read_bytes(), path.name)
        if record.get("format") != RECORD_FORMAT or record.get("key") != key:
            raise CacheEntryError("it belongs to another request or record format")
        engine = _engine_from_record(record, num_targets)
    except _RECORD_ERRORS as error:
        logger.warning(
            f"runtime record {path} is unusable ({error}): building the tracker from the config"
        )
        return None
    return SingleTargetTracker(engine) if num_targets == 1 else engine


def _check_files(files: Sequence[Dict[str, str]]) -> None:
    for entry in files:
        if _sha256_of_file(entry["path"]) != entry["sha256"]:
            raise CacheEntryError(f"{entry['path']} changed since the record was written")


def _strategy(search: Dict[str, Any]):
    name = search["name"]
    module = search.get("module", "")
    if name not in SEARCH_STRATEGY_REGISTRY and module.startswith("siamtrack."):
        importlib.import_module(module)  # a family's strategy registers when imported
    return search_strategy_from_settings(name, search["settings"])


def _engine_from_record(record: Dict[str, Any], num_targets: int) -> MultiTargetEngine:
    if record["device"] != "cpu":
        raise CacheEntryError(f"device {record['device']} (records are for the CPU)")
    _check_files(record["files"])
    pointer = record["graphs"]
    graphs = read_cache_entry(graph_cache_dir() / pointer["entry"], pointer["entry"])
    if (sha256_hex(graphs.template), sha256_hex(graphs.track)) != (
        pointer["template_sha256"],
        pointer["track_sha256"],
    ):
        raise CacheEntryError("the graph cache entry holds other graphs than the record names")
    network = OnnxGraphBackend(graphs, "cpu")
    shapes = (network.template_size, network.search_size, list(network.score_shape))
    if shapes != (record["template_size"], record["search_size"], record["score_shape"]):
        raise CacheEntryError("the graphs' crop sizes or score shape differ from the record's")
    presence = record["presence"]
    engine_class = OneTargetEngine if num_targets == 1 else MultiTargetEngine
    return engine_class(
        network,
        _strategy(record["search"]),
        presence=(
            None
            if presence is None
            else presence_model_from_dict(presence["model"], presence["source"])
        ),
        presence_threshold=record["presence_threshold"],
        long_term=record["long_term"],
        redetect_after=record["redetect_after"],
        redetect_crops=record["redetect_crops"],
    )


# ---------------------------------------------------------------------------- saving
def _engine_of(tracker) -> Optional[MultiTargetEngine]:
    if isinstance(tracker, SingleTargetTracker):
        tracker = tracker.engine
    return tracker if isinstance(tracker, MultiTargetEngine) else None


def _search_record(search) -> Optional[Dict[str, Any]]:
    settings_of = getattr(search, "settings", None)
    name = type(search).__name__
    registered = name in SEARCH_STRATEGY_REGISTRY and SEARCH_STRATEGY_REGISTRY.get(name)
    if settings_of is None or registered is not type(search):
        return None  # cannot be rebuilt from plain settings
    settings = dict(settings_of())
    try:
        if json.loads(json.dumps(settings)) != settings:
            return None
    except (TypeError, ValueError):
        return None
    return {"name": name, "module": type(search).__module__, "settings": settings}


def _file_entry(path: PathLike) -> Dict[str, str]:
    return {"path": str(Path(path).absolute()), "sha256": _sha256_of_file(path)}


def _graphs_pointer(graphs: SiameseGraphs, onnx_dir: str) -> Optional[Dict[str, str]]:
    """Where the record finds the graphs: their graph cache entry, or a copy written there
    (graphs read from ``TRACKER.ONNX_DIR``). None: graphs exported in memory because the
    cache could not be written (the graph cache warned)."""
    cache = graph_cache_dir()
    source = Path(graphs.source) if graphs.source else None
    if source is not None and source.parent == cache:
        entry = source.name
    elif onnx_dir:
        entry = sha256_hex(
            json.dumps(
                [sha256_hex(graphs.template), sha256_hex(graphs.track), graphs.metadata],
                sort_keys=True,
            ).encode()
        )
        if not (cache / entry).is_dir():
            write_cache_entry(cache / entry, entry, graphs, replace=False)
    else:
        return None
    return {
        "entry": entry,
        "template_sha256": sha256_hex(graphs.template),
        "track_sha256": sha256_hex(graphs.track),
    }


def save_runtime_record(request: Optional[RuntimeRequest], tracker, cfg) -> Optional[Path]:
    """Keep what ``load_runtime_tracker`` needs to rebuild ``tracker`` (built from ``cfg``, the
    config of ``request``) without torch. Returns the record's path, or None when there is
    nothing to keep (another backend or device, a strategy without ``settings()``, a request
    without a key, a tracker that is not siamtrack's) or it could not be written (warned once
    per folder; tracking goes on)."""
    engine = _engine_of(tracker)
    if request is None or engine is None or not isinstance(engine.network, OnnxGraphBackend):
        return None
    options = InferenceOptions.from_config(cfg.TRACKER)
    search = _search_record(engine.search)
    presence = engine.presence
    if (
        options.backend != "onnxruntime"
        or str(engine.network.device) != "cpu"
        or search is None
        or not isinstance(presence, (RawScorePresence, PresenceModel))
    ):
        return None
    keyed = runtime_key(request)
    if keyed is None:
        return None
    key, inputs = keyed
    folder = runtime_record_dir()
    try:
        pointer = _graphs_pointer(engine.network.graphs, options.onnx_dir)
        if pointer is None:
            return None
        files = []
        if options.onnx_dir:
            files += [_file_entry(Path(options.onnx_dir) / name)
                      for name in ("template.onnx", "track.onnx")]  # fmt: skip
        if isinstance(presence, PresenceModel) and presence.source:
            files.append(_file_entry(presence.source))
        network = engine.network
        record = {
            "format": RECORD_FORMAT,
            "key": key,
            "inputs": inputs,
            "device": "cpu",
            "graphs": pointer,
            "template_size": network.template_size,
            "search_size": network.search_size,
            "score_shape": list(network.score_shape),
            "search": search,
            "presence": (
                {"model": presence.to_dict(), "source": presence.source}
                if isinstance(presence, PresenceModel)
                else None
            ),
            "presence_threshold": engine.presence_threshold,
            "long_term": engine.long_term,
            "redetect_after": engine.redetect_after,
            "redetect_crops": engine.redetect_crops,
            "inference": asdict(options),
            "files": files,
        }
        path = runtime_record_path(key)
        folder.mkdir(parents=True, exist_ok=True)
        remove_leftovers(folder)
        with atomic_output(path) as temp_path:
            temp_path.write_bytes(signed_json(record))
    except OSError as error:
        if str(folder) not in _unwritable_warned:
            _unwritable_warned.add(str(folder))
            logger.warning(
                f"cannot write the runtime record in {folder} ({error}); later runs build the "
                "tracker from the config again (set $SIAMTRACK_CACHE_DIR to a writable folder)"
            )
        return None
    return path
