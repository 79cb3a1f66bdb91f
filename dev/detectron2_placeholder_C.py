"""Placeholder for detectron2's compiled extension ``detectron2._C``.

Installed by ``dev/setup_env.sh`` when only the pure-Python detectron2 sources could be
installed (PyPI's ``pb1-detectron2==0.6``, whose sdist lacks the C++/CUDA sources).
detectron2 imports ``_C`` at module level in a few places, so the module must exist; siamtrack
itself uses none of the compiled ops. Any op lookup raises an error naming the op and saying
how to get the compiled build. The three build-information functions that detectron2's
``collect_env`` (run by ``default_setup``) reads are answered, since they are not ops.
"""

__siamtrack_placeholder__ = True

_HOW_TO_FIX = (
    "Install the official detectron2 with its compiled ops, e.g. "
    "`pip install 'git+https://github.com/facebookresearch/detectron2.git'` "
    "(see https://detectron2.readthedocs.io/en/latest/tutorials/install.html), "
    "then re-run `make setup`."
)


def get_compiler_version() -> str:
    return "none (pure-Python detectron2 fallback, no compiled ops)"


def get_cuda_version() -> str:
    return "none (pure-Python detectron2 fallback, no compiled ops)"


def has_cuda() -> bool:
    return False


class CompiledOpUnavailableError(AttributeError):
    """Raised when code asks the placeholder for a compiled detectron2 op.

    It subclasses AttributeError so that ``hasattr(_C, name)`` probes answer False instead of
    crashing; direct use still fails with the message below.
    """


def __getattr__(name: str):
    if name.startswith("__") and name.endswith("__"):
        # Python machinery probes dunder names (copy, pickle, inspect): plain "not found".
        raise AttributeError(name)
    raise CompiledOpUnavailableError(
        f"detectron2 compiled op '{name}' is not available: this environment has the "
        f"pure-Python detectron2 fallback (detectron2._C is a placeholder). {_HOW_TO_FIX}"
    )
