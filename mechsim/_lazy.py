"""Lazy re-exports (PEP 562) for packages whose modules are costly to import or import each other."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence


def lazy_exports(package: str, exports: Mapping[str, Sequence[str]],
                 namespace: dict) -> tuple[list[str], Callable, Callable]:
    """Return ``(__all__, __getattr__, __dir__)`` re-exporting ``exports[module]`` from ``package.module``.

    A key that starts with ``"mechsim."`` names a module absolutely: that is how a lower layer offers a
    higher layer's name for convenience (``from mechsim.cmdp import lagrangian_tabular`` finds the learner in
    ``mechsim.learners``) without an import statement that points upwards.  A name is imported on first
    access and then cached in ``namespace`` (the package's ``globals()``), so importing one submodule never
    imports the others and no import cycle can arise through the package.
    """
    where = {name: (module if module.startswith("mechsim.") else f"{package}.{module}")
             for module, names in exports.items() for name in names}

    def __getattr__(name: str):
        module = where.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        namespace[name] = value
        return value

    def __dir__():
        return sorted(set(namespace) | set(where))

    return sorted(where), __getattr__, __dir__
