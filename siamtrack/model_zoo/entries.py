"""The named pretrained models siamtrack can load, one frozen record each, and lookups by name.

Pure standard library (no torch, no detectron2), so it is cheap to import.

NanoTrack v1/v2/v3 (Apache-2.0) are pinned to one commit of HonglinChu/SiamTrackers and carry
a sha256, so they download and verify automatically. pysot publishes its SiamRPN++ models on
file-sharing sites without a checksum: those entries have no URL and must be fetched by hand
from pysot's model-zoo page (the error raised when they are missing says where to put them).
Only networks siamtrack can build are listed; pysot's ``_lt`` model is left out because its
long-term tracker (search enlarged on low confidence) is not implemented.
"""

import dataclasses
import difflib
import re
from pathlib import Path
from typing import Dict, List, Optional, Tuple

__all__ = [
    "ModelEntry",
    "UnknownModelError",
    "list_models",
    "get_model",
    "get_config_file",
    "REPO_ROOT",
]

# The checkout holding ``configs/`` (siamtrack/model_zoo/entries.py -> repository root).
REPO_ROOT = Path(__file__).resolve().parents[2]

_SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")


@dataclasses.dataclass(frozen=True)
class ModelEntry:
    """One named pretrained model.

    Attributes:
        name: zoo name, what ``MODEL.WEIGHTS`` / ``--weights`` accept (e.g. ``"nanotrack_v3"``).
        config_file: repository-relative path of the config that builds its network
            (e.g. ``"configs/nanotrack/nanotrack_v3.yaml"``).
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


class UnknownModelError(KeyError, ValueError):
    """A name that is not in the model zoo; the message lists the known names.

    Both a ``KeyError`` (a failed lookup) and a ``ValueError`` (a bad argument), so callers
    may catch either.
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
        "configs/siamrpn_R_50_l234_dwxcorr.yaml",
        "pysot SiamRPN++ ResNet-50 l234, VOT hyper-parameters (VOT2018 EAO 0.415)",
    ),
    _pysot(
        "siamrpn_r50_l234_dwxcorr_otb",
        "configs/siamrpn_R_50_l234_dwxcorr_otb.yaml",
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


def get_config_file(name: str) -> str:
    """Absolute path of the config file that builds model ``name``'s network.

    Raises:
        UnknownModelError: ``name`` is not in the zoo.
        FileNotFoundError: the config is not in this checkout (configs ship with the source
            repository, not with a wheel).
    """
    entry = get_model(name)
    path = REPO_ROOT / entry.config_file
    if not path.is_file():
        raise FileNotFoundError(
            f"config file of model '{name}' not found: {path} (expected '{entry.config_file}' "
            f"in the siamtrack checkout at {REPO_ROOT})"
        )
    return str(path)
