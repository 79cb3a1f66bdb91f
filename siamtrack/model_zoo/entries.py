"""The named pretrained models siamtrack can load, one frozen record each, and lookups by name.

Pure standard library (no torch, no detectron2), so it is cheap to import.

NanoTrack v1/v2/v3 (Apache-2.0) are pinned to one commit of HonglinChu/SiamTrackers and carry
a sha256, so they download and verify automatically. pysot publishes its SiamRPN++ models on
file-sharing sites without a checksum: those entries have no URL and must be fetched by hand
from pysot's model-zoo page (the error raised when they are missing says where to put them).
Only networks siamtrack can build are listed; pysot's ``_lt`` model is left out because its
long-term tracker (search enlarged on low confidence) is not implemented.

The configs ship inside the package, as detectron2's do: ``setup.py`` links the repository's
top-level ``configs/`` (the source of truth) into ``siamtrack/model_zoo/configs`` at build
time, so an editable install reads the checkout's files through that link and a wheel carries
a copy. :func:`get_config_file` looks there (:func:`configs_dir`).
"""

import dataclasses
import difflib
import re
from pathlib import Path, PurePosixPath
from typing import Dict, List, Optional, Tuple

from ..errors import BadInputError, UnknownNameError

__all__ = [
    "ModelEntry",
    "UnknownModelError",
    "list_models",
    "get_model",
    "get_config_file",
    "get_weights_name",
    "configs_dir",
    "REPO_ROOT",
]

# The checkout holding ``configs/`` (siamtrack/model_zoo/entries.py -> repository root); in an
# installed wheel this is site-packages, which holds no configs.
REPO_ROOT = Path(__file__).resolve().parents[2]
# The configs shipped with the package: a link to REPO_ROOT/configs made by setup.py in a
# checkout (editable install), a copy in a wheel.
PACKAGE_CONFIGS_DIR = Path(__file__).resolve().parent / "configs"
# Suffixes that make a name a config path rather than a zoo name.
_CONFIG_SUFFIXES = (".yaml", ".yml")

_SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")


@dataclasses.dataclass(frozen=True)
class ModelEntry:
    """One named pretrained model.

    Attributes:
        name: zoo name, what ``MODEL.WEIGHTS`` / ``--weights`` accept (e.g. ``"nanotrack_v3"``).
        config_file: repository-relative path of the config that builds its network
            (e.g. ``"configs/nanotrack/nanotrack_v3.yaml"``); installed, the same file is
            ``configs_dir() / "nanotrack/nanotrack_v3.yaml"``.
        file_name: the file's name where it is published (``"nanotrackv3.pth"``; pysot:
            ``"model.pth"``). Downloaded files are cached under this name.
        url: pinned http(s) download address (an immutable commit), or None when the file
            can only be fetched by hand from ``source_page``.
        sha256: lowercase hex sha256 of the file, or None when the publisher gives none.
            Required when ``url`` is set: every automatic download is verified.
        size_bytes: size of the file in bytes, or None when unknown.
        license: licence of the weights (SPDX identifier).
        source_page: web page the file is published on, for fetching it by hand.
        local_names: paths, relative to a local weights folder, under which the file is
            looked for, in order; the first one is what error messages suggest.
        description: one line for ``python -m siamtrack.model_zoo list`` and docs.
    """

    name: str
    config_file: str
    file_name: str
    url: Optional[str]
    sha256: Optional[str]
    size_bytes: Optional[int]
    license: str
    source_page: str
    local_names: Tuple[str, ...]
    description: str = ""

    def __post_init__(self) -> None:
        if self.url is not None:
            if not self.url.startswith(("https://", "http://")):
                raise ValueError(f"model '{self.name}': url must be http(s), got '{self.url}'")
            if self.sha256 is None:
                raise ValueError(f"model '{self.name}': an entry with a url needs a sha256")
        if self.sha256 is not None and not _SHA256_HEX.match(self.sha256):
            raise ValueError(
                f"model '{self.name}': sha256 must be 64 lowercase hex digits, got '{self.sha256}'"
            )
        if not self.local_names:
            raise ValueError(f"model '{self.name}': local_names is empty")

    @property
    def downloadable(self) -> bool:
        """True when the file is fetched (and verified) automatically."""
        return self.url is not None


class UnknownModelError(UnknownNameError, ValueError):
    """A name that is not in the model zoo; the message lists the known names.

    Both a ``KeyError`` (a failed lookup) and a ``ValueError`` (a bad argument), so callers
    may catch either; a ``SiamtrackError`` (bad input: one line from the tools).
    """

    def __init__(self, name: str, known: List[str]):
        suggestions = difflib.get_close_matches(name, known, n=1)
        hint = f" (did you mean '{suggestions[0]}'?)" if suggestions else ""
        message = (
            f"'{name}' is not a model-zoo name{hint}; known names: {', '.join(known)} "
            "(python -m siamtrack.model_zoo list)"
        )
        super().__init__(message)
        self.name = name
        self.known = list(known)

    def __str__(self) -> str:  # KeyError would print the message in quotes
        return str(self.args[0])


_NANOTRACK_COMMIT = "248663fde6bf7c40190cf10ee396d5662919ecd3"
_NANOTRACK_FOLDER = "NanoTrack/models/pretrained"
_NANOTRACK_RAW = (
    f"https://raw.githubusercontent.com/HonglinChu/SiamTrackers/{_NANOTRACK_COMMIT}/"
    f"{_NANOTRACK_FOLDER}"
)
_NANOTRACK_PAGE = (
    f"https://github.com/HonglinChu/SiamTrackers/tree/{_NANOTRACK_COMMIT}/{_NANOTRACK_FOLDER}"
)
_PYSOT_PAGE = "https://github.com/STVIR/pysot/blob/master/MODEL_ZOO.md"


def _nanotrack(version: int, size_bytes: int, sha256: str, description: str) -> ModelEntry:
    file_name = f"nanotrackv{version}.pth"
    name = f"nanotrack_v{version}"
    return ModelEntry(
        name=name,
        config_file=f"configs/nanotrack/nanotrack_v{version}.yaml",
        file_name=file_name,
        url=f"{_NANOTRACK_RAW}/{file_name}",
        sha256=sha256,
        size_bytes=size_bytes,
        license="Apache-2.0",
        source_page=_NANOTRACK_PAGE,
        local_names=(file_name, f"{name}.pth"),
        description=description,
    )


def _pysot(name: str, config_file: str, description: str) -> ModelEntry:
    # pysot keeps each model as experiments/<name>/model.pth; a bare "model.pth" would be
    # ambiguous between models, so it is only looked for inside a folder named after the model.
    return ModelEntry(
        name=name,
        config_file=config_file,
        file_name="model.pth",
        url=None,
        sha256=None,
        size_bytes=None,
        # MODEL_ZOO.md: the models are licensed CC BY-SA 3.0 (the code is Apache-2.0)
        license="CC-BY-SA-3.0",
        source_page=_PYSOT_PAGE,
        local_names=(f"{name}/model.pth", f"experiments/{name}/model.pth", f"{name}.pth"),
        description=description,
    )


# Sizes and digests: the weights README next to the shared test data
# (../shared/weights/nanotrack, files byte for byte from the commit above).
# Scores: NanoTrack's README and pysot's MODEL_ZOO.md.
_ENTRIES = (
    _nanotrack(
        1,
        2475634,
        "2a24bbfd1163a7692ab22100336a54de55dde12301b7d8ae7a4e745fb10b09a3",
        "NanoTrack v1, MobileNetV3-Small (VOT2018 EAO 0.311, GOT-10k val AO 0.604)",
    ),
    _nanotrack(
        2,
        2095829,
        "938a320c560fd8c8d6a148a76a072bca29c529ce16591c9a2157859ee0ecc5e1",
        "NanoTrack v2, MobileNetV3-Small (VOT2018 EAO 0.352, GOT-10k val AO 0.680)",
    ),
    _nanotrack(
        3,
        3498955,
        "4f0d25108385a67bdec5fa01ca37c74acb72343b53996dd645fe18b86e512e69",
        "NanoTrack v3, MobileNetV3-Small (VOT2018 EAO 0.449, GOT-10k val AO 0.719)",
    ),
    _pysot(
        "siamrpn_r50_l234_dwxcorr",
        "configs/siamrpn/siamrpn_R_50_l234_dwxcorr.yaml",
        "pysot SiamRPN++ ResNet-50 l234, VOT hyper-parameters (VOT2018 EAO 0.415)",
    ),
    _pysot(
        "siamrpn_r50_l234_dwxcorr_otb",
        "configs/siamrpn/siamrpn_R_50_l234_dwxcorr_otb.yaml",
        "pysot SiamRPN++ ResNet-50 l234, OTB hyper-parameters (OTB2015 AUC 0.696)",
    ),
)

_MODELS: Dict[str, ModelEntry] = {entry.name: entry for entry in _ENTRIES}


def list_models() -> List[str]:
    """Names of all model-zoo entries, in table order (NanoTrack first, then pysot)."""
    return list(_MODELS)


def get_model(name: str) -> ModelEntry:
    """The entry called ``name``.

    Raises:
        UnknownModelError: ``name`` is not in the zoo (the message lists the known names).
    """
    try:
        return _MODELS[name]
    except (KeyError, TypeError):
        raise UnknownModelError(str(name), list_models()) from None


def configs_dir() -> Path:
    """The folder of siamtrack's configs: the package's ``siamtrack/model_zoo/configs``.

    A source checkout that has not been built since the link was introduced (no
    ``pip install -e .`` or ``setup.py`` run yet) has no link: its top-level ``configs/`` is used.

    Raises:
        FileNotFoundError: neither exists (an installation without its package data).
    """
    if PACKAGE_CONFIGS_DIR.is_dir():
        return PACKAGE_CONFIGS_DIR
    checkout_configs = REPO_ROOT / "configs"
    if (REPO_ROOT / "setup.py").is_file() and checkout_configs.is_dir():
        return checkout_configs
    raise FileNotFoundError(
        f"siamtrack's configs are missing: {PACKAGE_CONFIGS_DIR} does not exist (reinstall "
        "siamtrack: its wheel ships them, 'pip install -e .' links them from the checkout)"
    )


def get_config_file(name: str) -> str:
    """Path of a config shipped with siamtrack, as ``detectron2.model_zoo.get_config_file``.

    Args:
        name: a model-zoo name (``"nanotrack_v3"``: the config that builds its network), or a
            config path relative to the configs folder (``"nanotrack/nanotrack_v3.yaml"``; a
            leading ``configs/``, as in the repository, is accepted).

    Returns:
        Absolute path of the file under :func:`configs_dir` (not resolved through the link, so
        ``_BASE_`` paths resolve beside it).

    Raises:
        UnknownModelError: ``name`` is neither a zoo name nor a path (no ``/``, no ``.yaml``).
        ValueError: the path is absolute or leaves the configs folder (``..``).
        FileNotFoundError: no such config (the message names the folder searched).
    """
    relative, entry = _config_path(name)
    root = configs_dir()
    path = root / relative
    if not path.is_file():
        if entry is not None:
            what = f"config file of model '{entry.name}' ('{entry.config_file}')"
        else:
            what = f"config '{name}'"
        raise FileNotFoundError(
            f"{what} not found in siamtrack's configs: {path} does not exist (give a model-zoo "
            f"name, {', '.join(list_models())}, or a path relative to {root})"
        )
    return str(path)


def get_weights_name(name: str) -> str:
    """The ``MODEL.WEIGHTS`` value of the trained weights for ``name``: the zoo name itself, or
    the zoo entry whose config ``name`` is (``"nanotrack/nanotrack_v3.yaml"`` ->
    ``"nanotrack_v3"``), as ``detectron2.model_zoo.get_checkpoint_url``.

    Raises:
        UnknownModelError: ``name`` is neither a zoo name nor a config path.
        ValueError: no zoo model is trained with that config (a base or training config).
    """
    relative, entry = _config_path(name)
    if entry is not None:
        return entry.name
    for candidate in _MODELS.values():
        if _relative_config(candidate) == relative:
            return candidate.name
    raise BadInputError(
        f"config '{name}' is not the config of a model-zoo model ({', '.join(list_models())}), "
        "so it has no trained weights: pass trained=False for its untrained model"
    )


def _relative_config(entry: ModelEntry) -> str:
    """An entry's config path relative to the configs folder (``nanotrack/nanotrack_v3.yaml``)."""
    return _strip_configs_prefix(PurePosixPath(entry.config_file))


def _strip_configs_prefix(path: PurePosixPath) -> str:
    parts = path.parts[1:] if len(path.parts) > 1 and path.parts[0] == "configs" else path.parts
    return "/".join(parts)


def _config_path(name: str) -> Tuple[str, Optional[ModelEntry]]:
    """(path relative to the configs folder, zoo entry or None) of a zoo name or config path."""
    if name in _MODELS:
        entry = _MODELS[name]
        return _relative_config(entry), entry
    text = str(name).replace("\\", "/")
    path = PurePosixPath(text)
    if "/" not in text and path.suffix not in _CONFIG_SUFFIXES:
        raise UnknownModelError(str(name), list_models())
    if path.is_absolute() or ".." in path.parts or not path.parts:
        raise BadInputError(
            f"config '{name}': give a path relative to siamtrack's configs folder "
            "(e.g. nanotrack/nanotrack_v3.yaml), or a model-zoo name"
        )
    return _strip_configs_prefix(path), None
