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

Nor `collections` (~3 ms of a hook's CPU with its dependencies): the classes are
built here as `collections.namedtuple` builds them (a tuple subclass, a read-only
property per field, a `__new__` compiled with the fields as parameters,
`_fields`, `_field_defaults`, `_make`, `_replace`, `_asdict`, the same repr).
tests/core/test_lean.py holds them to `typing.NamedTuple`'s behaviour.
"""

from __future__ import annotations

from _operator import itemgetter  # the C module: `operator` is 19 KB of Python around it

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

    _FunctionType = type(lambda: None)
    _NEW_GLOBALS = {"_tuple_new": tuple.__new__, "__builtins__": {}}
    _NEW_CODES = {}

    def _new_code(size):
        """`lambda _cls, _0, ..., _n: _tuple_new(_cls, (_0, ..., _n))`, compiled once."""
        code = _NEW_CODES.get(size)
        if code is None:
            params = ", ".join(f"_{i}" for i in range(size))
            source = (
                f"lambda _cls, {params}: _tuple_new(_cls, ({params}{',' if size == 1 else ''}))"
                if size
                else "lambda _cls: _tuple_new(_cls, ())"
            )
            code = _NEW_CODES[size] = eval(source, _NEW_GLOBALS).__code__
        return code

    def _tuple_class(name, fields, defaults, module):
        """collections.namedtuple(name, fields, defaults=defaults, module=module)."""
        size = len(fields)
        field_defaults = dict(zip(fields[size - len(defaults) :], defaults, strict=True))

        # As collections.namedtuple: a __new__ whose parameters are the fields, so a
        # call binds them as fast as any function (the hot loops of `moai cost` build
        # a record per transcript line). Compiled once per number of fields, then
        # renamed per class: compiling per class cost the hook ~30 us a class.
        code = _new_code(size).replace(
            co_varnames=("_cls", *fields), co_name="__new__", co_qualname=f"{name}.__new__"
        )
        __new__ = _FunctionType(code, _NEW_GLOBALS, "__new__", tuple(defaults) or None)

        def _make(cls, iterable):
            result = tuple.__new__(cls, iterable)
            if len(result) != size:
                raise TypeError(f"Expected {size} arguments, got {len(result)}")
            return result

        def _replace(self, **kwargs):
            result = self._make([kwargs.pop(f, v) for f, v in zip(fields, self, strict=True)])
            if kwargs:
                raise ValueError(f"Got unexpected field names: {list(kwargs)!r}")
            return result

        def _asdict(self):
            return dict(zip(fields, self, strict=True))

        def __repr__(self):
            shown = ", ".join(f"{f}={v!r}" for f, v in zip(fields, self, strict=True))
            return f"{self.__class__.__name__}({shown})"

        def __getnewargs__(self):
            return tuple(self)

        body = {
            "__doc__": f"{name}({', '.join(fields)})",
            "__slots__": (),
            "_fields": fields,
            "_field_defaults": field_defaults,
            "__match_args__": fields,
            "__new__": __new__,
            "_make": classmethod(_make),
            "_replace": _replace,
            "_asdict": _asdict,
            "__repr__": __repr__,
            "__getnewargs__": __getnewargs__,
            "__module__": module,
        }
        for index, field in enumerate(fields):
            body[field] = property(itemgetter(index), doc=f"Alias for field number {index}")
        return type(name, (tuple,), body)

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
            cls = _tuple_class(name, fields, defaults, ns["__module__"])
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
