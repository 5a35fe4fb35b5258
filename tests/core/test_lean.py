"""lean.NamedTuple must behave as typing.NamedTuple for the class syntax we use."""

from __future__ import annotations

from typing import Any

import pytest

# Imported as the hook's modules see it at run time (TYPE_CHECKING false).
from moai_mashup.lean import NamedTuple
from tests.hooks_support import modules_after_import


class Point(NamedTuple):
    """A point."""

    x: int
    y: int = 0
    label: str = "p"

    @property
    def norm1(self) -> int:
        return abs(self.x) + abs(self.y)

    def moved(self, dx: int) -> Point:
        return self._replace(x=self.x + dx)

    @classmethod
    def origin(cls) -> Point:
        return cls(0)


def test_fields_defaults_methods() -> None:
    p = Point(3, -4)
    assert p == (3, -4, "p") and tuple(p) == (3, -4, "p")
    assert Point._fields == ("x", "y", "label")
    assert Point._field_defaults == {"y": 0, "label": "p"}
    assert p.norm1 == 7 and p.moved(1) == Point(4, -4) and Point.origin() == Point(0, 0)
    assert p._asdict() == {"x": 3, "y": -4, "label": "p"}
    assert Point.__doc__ == "A point." and Point.__qualname__ == "Point"
    assert Point.__module__ == __name__
    assert repr(p) == "Point(x=3, y=-4, label='p')"
    with pytest.raises(AttributeError):
        p.x = 1  # type: ignore[misc]
    with pytest.raises(TypeError):
        Point()  # type: ignore[call-arg]


def test_same_shape_as_typing_namedtuple() -> None:
    import typing

    class Ref(typing.NamedTuple):
        x: int
        y: int = 0
        label: str = "p"

    assert Ref._fields == Point._fields and Ref._field_defaults == Point._field_defaults
    assert tuple(Ref(1, 2)) == tuple(Point(1, 2)) and hash(Ref(1, 2)) == hash(Point(1, 2))


def test_field_without_default_after_a_default_is_refused() -> None:
    with pytest.raises(TypeError, match="without a default"):

        class Bad(NamedTuple):
            a: int = 1
            b: int  # type: ignore[misc]


def test_overwriting_namedtuple_machinery_is_refused() -> None:
    with pytest.raises(AttributeError, match="_replace"):

        class Bad(NamedTuple):
            a: int

            def _replace(self) -> None:  # type: ignore[misc]
                pass


def test_lean_itself_does_not_import_typing() -> None:
    assert modules_after_import("moai_mashup.lean", ("typing",)) == []


def test_construction_and_errors_match_typing() -> None:
    import copy
    import pickle
    import typing

    class Ref(typing.NamedTuple):
        x: int
        y: int = 0
        label: str = "p"

    cases: list[tuple[tuple[Any, ...], dict[str, Any]]] = [
        ((1,), {}),
        ((1, 2), {"label": "q"}),
        ((), {"x": 5, "y": 6}),
    ]
    for args, kwargs in cases:
        assert tuple(Point(*args, **kwargs)) == tuple(Ref(*args, **kwargs))
    bad: list[tuple[tuple[Any, ...], dict[str, Any]]] = [
        ((1, 2, 3, 4), {}),
        ((1,), {"x": 2}),
        ((), {"y": 1}),
        ((1,), {"z": 1}),
    ]
    for args, kwargs in bad:
        with pytest.raises(TypeError):
            Point(*args, **kwargs)
        with pytest.raises(TypeError):
            Ref(*args, **kwargs)
    p = Point(1, 2)
    assert p._replace(label="z") == Point(1, 2, "z") and Point._make([7, 8, "m"]) == (7, 8, "m")
    with pytest.raises(ValueError):
        p._replace(nope=1)  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        Point._make([1])
    assert copy.deepcopy(p) == p and pickle.loads(pickle.dumps(p)) == p
    assert Point.__match_args__ == ("x", "y", "label")
    match p:
        case Point(a, b):
            assert (a, b) == (1, 2)
    assert not hasattr(p, "__dict__")


def test_lean_does_not_import_collections() -> None:
    assert modules_after_import("moai_mashup.lean", ("collections",)) == []
