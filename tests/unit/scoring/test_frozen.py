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


def test_item_bands_and_subscales_are_built_on_first_read() -> None:
    import copy

    from pallapp.scoring import Score, score

    s = score("esas_r", {"pain": 8, "tiredness": 2, "drowsiness": 0, "nausea": 5})
    # Not built yet: the score keeps the bands it looked up, and its int answers.
    assert "item_bands" not in vars(s)
    assert "subscales" not in vars(s)
    early = copy.copy(s)  # a copy made before either was read builds its own, the same
    assert s.item_bands == {
        "pain": "severe",
        "tiredness": "mild",
        "drowsiness": "none",
        "nausea": "moderate",
    }
    assert s.subscales == {"physical": None, "emotional": None}
    assert vars(s)["item_bands"] is s.item_bands  # kept once built
    assert vars(s)["subscales"] is s.subscales
    assert early == s
    assert hash(early) == hash(s)
    assert repr(early) == repr(s)
    # Any other missing name still fails, as does a lazy field of a score with nothing to
    # build it from.
    with pytest.raises(AttributeError, match="nothing"):
        s.nothing  # type: ignore[attr-defined]  # noqa: B018
    bare = object.__new__(Score)
    with pytest.raises(AttributeError, match="subscales"):
        bare.subscales  # noqa: B018
    with pytest.raises(AttributeError, match="item_bands"):
        bare.item_bands  # noqa: B018


def test_item_bands_are_built_from_the_scored_values() -> None:
    from pallapp.scoring import score

    # ESAS-r bands (INSTRUMENTS.md): 0 none, 1-3 mild, 4-6 moderate, 7-10 severe; an item left
    # out has no band.
    s = score("esas_r", {"pain": 0, "tiredness": 3, "drowsiness": 4, "nausea": 7, "other": 10})
    assert dict(s.item_bands) == {
        "pain": "none",
        "tiredness": "mild",
        "drowsiness": "moderate",
        "nausea": "severe",
        "other": "severe",
    }
