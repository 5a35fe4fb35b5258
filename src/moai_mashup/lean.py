"""`NamedTuple` without importing `typing` on the hook's path.

`typing.NamedTuple` costs the `typing` import and a ForwardRef compiled per
field. Against a copy of the package that uses it (benchmarks/bench_devices.py,
2 loaded cores) this saves 15-22 ms CPU of a status line refresh or a prompt
(20-30% of them) and 7-22 ms of a switching checkout the engine decides (7-18%).
The modules use `typing` only for `NamedTuple` (the rest of `typing` is in
annotations, which `from __future__ import annotations` never evaluates).
mypy reads the `typing` import below (it treats any name `TYPE_CHECKING` as
true); at run time, classes declared with the same class syntax become plain
`collections.namedtuple` classes, which is also what `typing.NamedTuple`
builds. Modules on the hook's path write:

    from moai_mashup.lean import TYPE_CHECKING, NamedTuple

tests/githooks/test_hooks_fastpath.py checks that the hook never imports `typing`.
"""

from __future__ import annotations

from collections import namedtuple

TYPE_CHECKING = False

if TYPE_CHECKING:
    from typing import NamedTuple as NamedTuple
else:
    # What a class body may hold besides fields and methods (typing's list).
    _SPECIAL = frozenset(
        {
            "__module__",
            "__qualname__",
            "__annotations__",
            "__doc__",
            "__dict__",
            "__weakref__",
            "__firstlineno__",
            "__static_attributes__",
        }
    )
    _PROHIBITED = frozenset(
        {"__new__", "__init__", "__slots__", "__getnewargs__", "_fields", "_field_defaults"}
        | {"_make", "_replace", "_asdict", "_source"}
    )

    class _NamedTupleMeta(type):
        def __new__(mcls, name, bases, ns):
            if not bases:  # `NamedTuple` itself
                return super().__new__(mcls, name, bases, ns)
            if "__annotations__" not in ns and "__annotate__" in ns:
                # Python 3.14's lazy annotations: the stringified ones need the import.
                raise TypeError(
                    f"{name}: declare it in a module that has `from __future__ import annotations`"
                )
            fields = tuple(ns.get("__annotations__", {}))
            defaults = [ns[f] for f in fields if f in ns]
            if any(f not in ns for f in fields[len(fields) - len(defaults) :]):
                raise TypeError(f"{name}: a field without a default follows one with a default")
            cls = namedtuple(name, fields, defaults=defaults, module=ns["__module__"])
            cls.__qualname__ = ns.get("__qualname__", name)
            if ns.get("__doc__"):
                cls.__doc__ = ns["__doc__"]
            for key, value in ns.items():
                if key in _PROHIBITED:
                    raise AttributeError(f"{name}: cannot overwrite NamedTuple attribute {key}")
                if key not in _SPECIAL and key not in fields:
                    setattr(cls, key, value)
            return cls

    class NamedTuple(metaclass=_NamedTupleMeta):
        pass
