"""FrozenMap: the immutable, hashable mapping behind scores, flags and definitions."""

from __future__ import annotations

import pytest

from pallapp.scoring import FrozenMap
from pallapp.scoring._frozen import adopt, slot_setter


def test_reads_like_a_mapping() -> None:
    m = FrozenMap({"a": 1, "b": 2})
    assert m["a"] == 1
    assert len(m) == 2
    assert list(m) == ["a", "b"]
    assert "a" in m
    assert "z" not in m
    assert m.get("z") is None
    assert m.get("z", 0) == 0
    assert m.get("b", 0) == 2
    assert list(m.keys()) == ["a", "b"]
    assert list(m.values()) == [1, 2]
    assert list(m.items()) == [("a", 1), ("b", 2)]
    assert m.to_dict() == {"a": 1, "b": 2}
    assert repr(m) == "FrozenMap({'a': 1, 'b': 2})"
    assert FrozenMap([("x", 1)]) == {"x": 1}
    assert FrozenMap() == {}


def test_copies_its_input() -> None:
    source = {"a": 1}
    m = FrozenMap(source)
    source["a"] = 2
    assert m["a"] == 1
    copy = m.to_dict()
    copy["a"] = 3
    assert m["a"] == 1


def test_cannot_be_changed() -> None:
    m = FrozenMap({"a": 1})
    with pytest.raises(TypeError):
        m["a"] = 2  # type: ignore[index]
    with pytest.raises(TypeError):
        del m["a"]  # type: ignore[attr-defined]
    with pytest.raises(AttributeError):
        m._data = {}
    with pytest.raises(AttributeError):
        del m._data
    with pytest.raises(AttributeError):
        m.update({"b": 2})  # type: ignore[attr-defined]


def test_equality_and_hash() -> None:
    a = FrozenMap({"a": 1, "b": 2})
    b = FrozenMap({"b": 2, "a": 1})
    assert a == b
    assert hash(a) == hash(b)
    assert hash(a) == hash(a)  # cached the second time
    assert a == {"a": 1, "b": 2}
    assert a != {"a": 1}
    assert a != FrozenMap({"a": 1})
    assert a != [("a", 1), ("b", 2)]
    assert len({a, b}) == 1


def test_slot_setter_sets_a_slot_and_refuses_anything_else() -> None:
    set_data = slot_setter(FrozenMap, "_data")
    m = FrozenMap({"a": 1})
    set_data(m, {"b": 2})  # only ever done to a map still being built
    assert m == {"b": 2}
    with pytest.raises(TypeError, match="FrozenMap.get is not a slot"):
        slot_setter(FrozenMap, "get")
    with pytest.raises(TypeError, match="FrozenMap.missing is not a slot"):
        slot_setter(FrozenMap, "missing")


def test_adopt_wraps_without_copying() -> None:
    data = {"a": 1}
    m = adopt(data)
    assert m == {"a": 1}
    assert type(m) is FrozenMap
