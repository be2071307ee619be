"""Read-only dictionaries and lists: what a configuration's containers become once validated.

A `FrozenDict` is a dict and a `FrozenList` a list in every way that reads (indexing, iteration,
`len`, `in`, `.get`, `.items()`, equality with ordinary ones, `isinstance`), so code and pydantic's
serializer treat them as before, and a dump is made of ordinary containers again. What would
change one in place raises TypeError instead; a copy (`dict(...)`, `list(...)`, `.copy()`,
`{**d}`, `a + b`) is an ordinary container, the caller's to change. They pickle and copy as
themselves without going through the methods they refuse.
"""

from __future__ import annotations

from typing import Any, NoReturn


def _refuse(self: Any, *args: Any, **kwargs: Any) -> NoReturn:
    raise TypeError(
        f"the configuration is read-only: this {type(self).__mro__[1].__name__} cannot be changed in place "
        "(copy it first, or set a lever with sim.config.replaced)"
    )


class FrozenDict(dict):
    """A dict that refuses every change in place."""

    __slots__ = ()
    __setitem__ = __delitem__ = __ior__ = clear = pop = popitem = setdefault = update = _refuse

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (dict(self),))


class FrozenList(list):
    """A list that refuses every change in place."""

    __slots__ = ()
    __setitem__ = __delitem__ = __iadd__ = __imul__ = _refuse
    append = extend = insert = pop = remove = clear = sort = reverse = _refuse

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (list(self),))


def frozen(value: Any) -> Any:
    """`value` with every dictionary and list in it, however deep, made read-only (anything else,
    a model among them, as it is: a model is frozen by its own config)."""
    if isinstance(value, dict) and not isinstance(value, FrozenDict):
        return FrozenDict({key: frozen(item) for key, item in value.items()})
    if isinstance(value, list) and not isinstance(value, FrozenList):
        return FrozenList(frozen(item) for item in value)
    return value
