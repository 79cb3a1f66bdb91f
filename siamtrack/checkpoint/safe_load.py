"""Loading weight files without running code from them.

A ``.pth`` file is a pickle: unpickling it in full can call any Python function the file
names (a ``__reduce__`` payload), so a downloaded checkpoint could run code. Here every file
is read with ``torch.load(weights_only=True)`` (``.pth``) or a restricted unpickler
(``.pkl``), plus an explicit allow-list of the harmless globals real checkpoints hold:

- numpy scalars, dtypes and arrays (NanoTrack's and pysot's training checkpoints store the
  learning rate as a numpy float64; detectron2/Caffe2 ``.pkl`` files hold numpy arrays);
- nothing else: siamtrack's and detectron2's own checkpoints (model, optimizer, scheduler,
  iteration) contain only tensors and plain Python containers and numbers.

Anything else stops with ``UnsafeCheckpointError`` naming the global and the file. A user who
trusts a file opts in with ``trust=True`` (tools: ``--trust-weights``; config:
``MODEL.TRUST_WEIGHTS True``), which loads it with full unpickling.
"""

import pickle
import re
from typing import Any, List

import numpy as np
import torch

from ..errors import SiamtrackError

__all__ = ["UnsafeCheckpointError", "load_torch_file", "load_pickle_file", "SAFE_GLOBAL_NAMES"]


class UnsafeCheckpointError(SiamtrackError, pickle.UnpicklingError):
    """A weight file refers to a Python global that is not on the allow-list."""

    def __init__(self, filename: str, global_name: str):
        self.filename = str(filename)
        self.global_name = global_name
        super().__init__(
            f"{filename}: refusing to load it, it refers to the Python global '{global_name}', "
            "which is not on siamtrack's list of harmless checkpoint contents (numpy scalars, "
            "dtypes and arrays); unpickling it could run code from the file. If you trust this "
            "file, load it with --trust-weights (tools), MODEL.TRUST_WEIGHTS True (config) or "
            "trust=True (API)"
        )


def _numpy_core():
    return getattr(np, "_core", None) or np.core  # numpy 2 moved numpy.core to numpy._core


def _allowed_objects() -> List[Any]:
    """(object, pickled name) pairs for torch's allow-list, under both numpy 1 and 2 names."""
    core = _numpy_core()
    objects = [
        (np.dtype, "numpy.dtype"),
        (np.ndarray, "numpy.ndarray"),
    ]
    for prefix in ("numpy.core", "numpy._core"):
        objects.append((core.multiarray.scalar, f"{prefix}.multiarray.scalar"))
        objects.append((core.multiarray._reconstruct, f"{prefix}.multiarray._reconstruct"))
    for name in dir(np.dtypes):  # Float64DType, Int64DType, ... (numpy >= 1.25)
        dtype_class = getattr(np.dtypes, name)
        if isinstance(dtype_class, type) and name.endswith("DType"):
            objects.append((dtype_class, f"numpy.dtypes.{name}"))
    return objects


SAFE_GLOBAL_NAMES = frozenset(name for _, name in _allowed_objects())
_UNSUPPORTED = re.compile(r"Unsupported global: GLOBAL ([\w.]+)")


def load_torch_file(filename: str, *, trust: bool = False) -> Any:
    """``torch.load`` on CPU with ``weights_only=True`` and the allow-list (or in full if
    ``trust``).

    Raises:
        UnsafeCheckpointError: the file needs a global outside the allow-list.
        Other errors of ``torch.load`` (truncated or foreign files) are passed on.
    """
    if trust:
        return torch.load(filename, map_location="cpu", weights_only=False)
    allowed = [obj if name == f"{obj.__module__}.{obj.__qualname__}" else (obj, name)
               for obj, name in _allowed_objects()]  # fmt: skip
    try:
        with torch.serialization.safe_globals(allowed):
            return torch.load(filename, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as error:
        match = _UNSUPPORTED.search(str(error))
        if match:
            raise UnsafeCheckpointError(filename, match[1]) from None
        raise


class _RestrictedUnpickler(pickle.Unpickler):
    def __init__(self, file, filename: str):
        super().__init__(file, encoding="latin1")
        self._filename = filename

    def find_class(self, module: str, name: str):
        qualified = f"{module}.{name}"
        if qualified in SAFE_GLOBAL_NAMES or qualified == "collections.OrderedDict":
            return super().find_class(module, name)
        raise UnsafeCheckpointError(self._filename, qualified)


def load_pickle_file(filename: str, *, trust: bool = False) -> Any:
    """A plain pickle (detectron2 / Caffe2 ``.pkl``), restricted to the allow-list unless
    ``trust``; decoded with latin1 as detectron2 does for Python 2 pickles."""
    with open(filename, "rb") as file:
        if trust:
            return pickle.load(file, encoding="latin1")
        return _RestrictedUnpickler(file, str(filename)).load()
