"""``NamedRegistry``: a registry of objects that carry their own ``name``; ``Registry``: a
registry of classes by class name (pure Python).

detectron2's ``Registry`` maps class and function names to builders (``META_ARCH_REGISTRY``,
``SIAM_HEAD_REGISTRY``, ...). Some extension points register *objects* instead, named by
what users type (``--layout opencv-nano``, a checkpoint format ``"pysot"``): those use
``NamedRegistry``. Entries keep their registration order, which is the order lookups try them in.

``Registry`` has the API of detectron2's (``@REGISTRY.register()`` on a class or function,
``REGISTRY.get(name)``, ``name in REGISTRY``, iteration over ``(name, obj)``) without importing
detectron2, for the registries that code without torch reads (``SEARCH_STRATEGY_REGISTRY``).
"""

from typing import Any, Dict, Generic, Iterator, List, Optional, Tuple, TypeVar

from ..errors import UnknownNameError

__all__ = ["NamedRegistry", "Registry"]

T = TypeVar("T")


class NamedRegistry(Generic[T]):
    """Objects with a ``name`` attribute, by name, in registration order.

    Args:
        what: what an entry is, for messages ("export layout", "checkpoint format").
    """

    def __init__(self, what: str):
        self.what = what
        self._entries: Dict[str, T] = {}

    def register(self, entry: T) -> T:
        """Add ``entry`` under ``entry.name`` (and return it).

        Raises:
            ValueError: another entry already has this name.
        """
        name = getattr(entry, "name", None)
        if not isinstance(name, str) or not name:
            raise ValueError(f"a {self.what} needs a non-empty string 'name', got {name!r}")
        if name in self._entries and self._entries[name] is not entry:
            raise ValueError(f"{self.what} '{name}' is already registered")
        self._entries[name] = entry
        return entry

    def get(self, name: str) -> T:
        """The entry called ``name``.

        Raises:
            UnknownNameError: no such entry (the message lists the registered names).
        """
        try:
            return self._entries[name]
        except KeyError:
            raise UnknownNameError(
                f"'{name}' is not a registered {self.what} ({', '.join(self.names()) or 'none'})"
            ) from None

    def names(self) -> List[str]:
        return list(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[T]:
        return iter(list(self._entries.values()))

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return f"NamedRegistry({self.what!r}: {', '.join(self.names())})"


class Registry:
    """Classes (or functions) by their ``__name__``, as detectron2's ``Registry``.

    Args:
        name: what the registry holds, for messages ("SEARCH_STRATEGY").
    """

    def __init__(self, name: str):
        self._name = name
        self._obj_map: Dict[str, Any] = {}

    def _do_register(self, name: str, obj: Any) -> None:
        if name in self._obj_map and self._obj_map[name] is not obj:
            raise ValueError(f"An object named '{name}' was already registered in '{self._name}'!")
        self._obj_map[name] = obj

    def register(self, obj: Optional[Any] = None):
        """``@REGISTRY.register()`` on a class or function, or ``REGISTRY.register(obj)``;
        the name is ``obj.__name__``. Registering the same object twice is harmless."""
        if obj is None:

            def decorator(func_or_class):
                self._do_register(func_or_class.__name__, func_or_class)
                return func_or_class

            return decorator
        self._do_register(obj.__name__, obj)
        return obj

    def get(self, name: str) -> Any:
        """The object registered as ``name``.

        Raises:
            KeyError: none is (the message lists the registered names).
        """
        try:
            return self._obj_map[name]
        except KeyError:
            raise KeyError(
                f"No object named '{name}' found in '{self._name}' registry! "
                f"(registered: {', '.join(self._obj_map) or 'none'})"
            ) from None

    def __contains__(self, name: object) -> bool:
        return name in self._obj_map

    def __iter__(self) -> Iterator[Tuple[str, Any]]:
        return iter(list(self._obj_map.items()))

    def __len__(self) -> int:
        return len(self._obj_map)

    def __repr__(self) -> str:
        return f"Registry of {self._name}: {', '.join(self._obj_map)}"
