"""A small immutable, hashable mapping used for scores, flags and definitions.

`types.MappingProxyType` is read-only but not hashable, which would make `Flag` and `Score`
unhashable. `FrozenMap` copies its input once and never exposes the copy, so it is truly
immutable from the outside, and it hashes like a frozenset of its items.
"""

from __future__ import annotations

from collections.abc import (
    Callable,
    Hashable,
    ItemsView,
    Iterable,
    Iterator,
    KeysView,
    Mapping,
    ValuesView,
)
from types import MemberDescriptorType
from typing import Any, TypeVar, overload

__all__ = ["FrozenMap", "adopt", "set_data", "slot_setter"]

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
T = TypeVar("T")


class FrozenMap(Mapping[K, V]):
    """An immutable mapping; equal to any mapping with the same items, hashable if values are."""

    __slots__ = ("_data", "_hash")

    _data: dict[K, V]
    _hash: int  # set on first use

    def __init__(self, data: Mapping[K, V] | Iterable[tuple[K, V]] = ()) -> None:
        object.__setattr__(self, "_data", dict(data))

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def __getitem__(self, key: K) -> V:
        return self._data[key]

    def __iter__(self) -> Iterator[K]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __contains__(self, key: object) -> bool:
        return key in self._data

    @overload
    def get(self, key: K, /) -> V | None: ...

    @overload
    def get(self, key: K, default: V | T, /) -> V | T: ...

    def get(self, key: K, default: Any = None, /) -> Any:
        return self._data.get(key, default)

    def keys(self) -> KeysView[K]:
        return self._data.keys()

    def values(self) -> ValuesView[V]:
        return self._data.values()

    def items(self) -> ItemsView[K, V]:
        return self._data.items()

    def __eq__(self, other: object) -> bool:
        if isinstance(other, FrozenMap):
            return self._data == other._data
        if isinstance(other, Mapping):
            return self._data == dict(other.items())
        return NotImplemented

    def __hash__(self) -> int:
        try:
            return self._hash
        except AttributeError:
            cached = hash(frozenset(self._data.items()))
            object.__setattr__(self, "_hash", cached)
            return cached

    def __repr__(self) -> str:
        return f"FrozenMap({self._data!r})"

    def to_dict(self) -> dict[K, V]:
        """A plain, mutable (shallow) copy, e.g. for JSON."""
        return dict(self._data)


def slot_setter(cls: type, name: str) -> Callable[[Any, Any], None]:
    """A function `set(instance, value)` that sets the slot `name` of an instance of `cls`, a
    class with `__slots__` (a frozen one too).

    It is the slot's own descriptor, which `object.__setattr__(instance, name, value)` finds
    by name and calls in the end. Called directly it skips that lookup and the argument
    handling: a few hundred instead of about 1,300 machine instructions a field on CPython
    3.11 (callgrind). Only for objects still being built: an instance that has been handed out
    is never changed.
    """
    descriptor = cls.__dict__.get(name)
    if type(descriptor) is not MemberDescriptorType:
        raise TypeError(f"{cls.__name__}.{name} is not a slot")
    setter: Callable[[Any, Any], None] = descriptor.__set__
    return setter


_new_object = object.__new__
set_data = slot_setter(FrozenMap, "_data")


def adopt(data: dict[K, V]) -> FrozenMap[K, V]:
    """A `FrozenMap` of a dict the caller has just built and will never touch again (no copy).

    For the scorer's results, built by the hundred thousand a second: no copy, no `__init__`,
    and the one field set through its slot (`slot_setter`).
    """
    new: FrozenMap[K, V] = _new_object(FrozenMap)
    set_data(new, data)
    return new
