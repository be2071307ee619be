"""The hiring-plan optimiser and goal-seek (issue 15): the cheapest plan that meets a target.

`sim.optimise(...)` is sim.optimise.study.optimise: the package itself can be called, so the name
works whether or not a module of the package was imported first.
"""

from __future__ import annotations

import sys
import types


class _Callable(types.ModuleType):
    def __call__(self, *args, **kwargs):
        from sim.optimise.study import optimise

        return optimise(*args, **kwargs)


sys.modules[__name__].__class__ = _Callable
