"""The layer rule and the absence of import cycles, read from the import statements of the source tree.

Layers (each imports only from the ones at or below it; see README, "Layout"):

0. shared utilities and infrastructure: ``mechsim`` itself, ``errors``, ``validation``, ``optim``,
   ``tabular_mdp``, ``rollout``, ``_lazy``, ``_registration``, ``runner`` (which knows the scenarios only
   through the registry's strings);
1. the domains ``mechsim.hiring``, ``mechsim.committees``, ``mechsim.cmdp``, ``mechsim.debate`` and the classic
   design models ``mechsim.auctions``, ``mechsim.persuasion`` (numpy and scipy maths; a domain never imports
   another domain);
2. ``mechsim.solvers``;
3. ``mechsim.learners`` and ``mechsim.regret``;
4. ``mechsim.envs``;
5. ``mechsim.scenarios`` and ``mechsim.testing``.

Every import statement counts, at any depth (module level, inside functions, under ``TYPE_CHECKING``): a
function-level import that points upwards is still an upward dependency.  A lower package offers a higher
layer's name only through a lazy re-export (:mod:`mechsim._lazy`), which is a string, not an import.

Run this file as a script to print the violations of the working tree.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import networkx as nx
import pytest

REPO = Path(__file__).resolve().parents[1]

#: Source folder -> import name (``package_dir`` in setup.cfg).
ROOTS = {"mechsim": "mechsim", "envs": "mechsim.envs", "solvers": "mechsim.solvers",
         "scenarios": "mechsim.scenarios"}

#: Module prefix -> layer (longest prefix wins).
LAYERS = {
    "mechsim": 0,
    "mechsim.hiring": 1, "mechsim.committees": 1, "mechsim.cmdp": 1, "mechsim.debate": 1,
    "mechsim.auctions": 1, "mechsim.persuasion": 1, "mechsim.equilibria": 1,
    "mechsim.solvers": 2,
    "mechsim.learners": 3, "mechsim.regret": 3,
    "mechsim.envs": 4,
    "mechsim.scenarios": 5, "mechsim.testing": 5,
}
DOMAINS = ("mechsim.hiring", "mechsim.committees", "mechsim.cmdp", "mechsim.debate", "mechsim.auctions",
           "mechsim.persuasion", "mechsim.equilibria")

#: Third-party packages a domain module may import (besides the standard library): the maths, and the
#: domain libraries that read or sample its data.
DOMAIN_THIRD_PARTY = {"numpy", "scipy", "networkx", "prefsampling", "preflibtools"}


@dataclass(frozen=True)
class Import:
    source: str
    target: str
    line: int
    top_level: str  # first component of the imported name


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    base = ROOTS[parts[0]]
    rest = parts[1:]
    if rest and rest[-1] == "__init__":
        rest = rest[:-1]
    return ".".join([base, *rest])


def source_modules(root: Path = REPO) -> dict[str, Path]:
    found = {}
    for folder in ROOTS:
        for path in sorted((root / folder).rglob("*.py")):
            found[module_name(path, root)] = path
    return found


def imports_of(name: str, path: Path, modules) -> list[Import]:
    """Every import statement of the file, resolved to module names (relative imports included)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                out.append(Import(name, alias.name, node.lineno, alias.name.split(".")[0]))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            out.append(Import(name, target, node.lineno, target.split(".")[0]))
            for alias in node.names:  # ``from package import submodule``
                if f"{target}.{alias.name}" in modules:
                    out.append(Import(name, f"{target}.{alias.name}", node.lineno, "mechsim"))
    return out


def layer_of(module: str) -> int:
    best = max((p for p in LAYERS if module == p or module.startswith(p + ".")), key=len)
    return LAYERS[best]


def domain_of(module: str) -> str | None:
    return next((d for d in DOMAINS if module == d or module.startswith(d + ".")), None)


def layer_violations(root: Path = REPO) -> list[str]:
    """Upward imports, imports between domains, and non-maths third-party imports in domain modules."""
    modules = source_modules(root)
    stdlib = set(sys.stdlib_module_names) | {"__future__"}
    problems = []
    for name, path in modules.items():
        for imp in imports_of(name, path, modules):
            where = f"{path.relative_to(root)}:{imp.line}"
            if imp.top_level == "mechsim":
                if layer_of(imp.target) > layer_of(name):
                    problems.append(f"{where}: {name} (layer {layer_of(name)}) imports {imp.target} "
                                    f"(layer {layer_of(imp.target)})")
                elif domain_of(name) and domain_of(imp.target) and domain_of(name) != domain_of(imp.target):
                    problems.append(f"{where}: domain {domain_of(name)} imports domain {imp.target}")
            elif domain_of(name) and imp.top_level not in stdlib | DOMAIN_THIRD_PARTY:
                problems.append(f"{where}: domain module {name} imports {imp.target} (domain code uses "
                                f"only {', '.join(sorted(DOMAIN_THIRD_PARTY))} and the standard library)")
    return problems


def import_graph(root: Path = REPO) -> nx.DiGraph:
    """Module -> imported module, plus the packages Python initialises on the way.

    ``from mechsim.hiring.audit import x`` first runs ``mechsim/hiring/__init__.py``, so a module outside
    ``mechsim.hiring`` that imports ``mechsim.hiring.audit`` also depends on the package ``mechsim.hiring``.
    """
    modules = source_modules(root)
    graph = nx.DiGraph()
    graph.add_nodes_from(modules)
    for name, path in modules.items():
        for imp in imports_of(name, path, modules):
            if imp.top_level != "mechsim" or imp.target not in modules:
                continue
            graph.add_edge(name, imp.target)
            parts = imp.target.split(".")
            for i in range(2, len(parts)):
                parent = ".".join(parts[:i])
                if parent in modules and not (name == parent or name.startswith(parent + ".")):
                    graph.add_edge(name, parent)
    return graph


def import_cycles(root: Path = REPO) -> list[list[str]]:
    graph = import_graph(root)
    return [sorted(c) for c in nx.strongly_connected_components(graph) if len(c) > 1]


# ------------------------------------------------------------------------------------------------ tests
def test_every_import_respects_the_layers():
    problems = layer_violations()
    assert not problems, "layer violations:\n" + "\n".join(problems)


def test_no_import_cycles():
    cycles = import_cycles()
    assert not cycles, "import cycles:\n" + "\n".join(" <-> ".join(c) for c in cycles)


def _write_tree(tmp_path: Path, files: dict[str, str]) -> Path:
    for folder in ROOTS:
        (tmp_path / folder).mkdir(parents=True, exist_ok=True)
        (tmp_path / folder / "__init__.py").touch()
    for rel, text in files.items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return tmp_path


def test_checker_catches_a_hidden_upward_import_and_the_cycle_it_makes(tmp_path):
    """The regression this suite guards against, once: a domain learner importing a solver in a function."""
    root = _write_tree(tmp_path, {
        "mechsim/hiring/__init__.py": "from mechsim.hiring.online import simulate\n",
        "mechsim/hiring/model.py": "import numpy\n",
        "mechsim/hiring/online.py": """
            def simulate():
                from mechsim.solvers.lp import solve   # hidden upward dependency
                return solve()
        """,
        "solvers/lp.py": "from mechsim.hiring.model import numpy\n",
        "mechsim/cmdp/env.py": "import gymnasium\n",
    })
    problems = layer_violations(root)
    assert any("mechsim.hiring.online (layer 1) imports mechsim.solvers.lp (layer 2)" in p for p in problems)
    assert any("domain module mechsim.cmdp.env imports gymnasium" in p for p in problems)
    cycles = import_cycles(root)
    assert ["mechsim.hiring", "mechsim.hiring.online", "mechsim.solvers.lp"] in cycles
    # The cure: the learner moves up a layer and the domain re-exports it lazily (no import statement).
    (root / "mechsim/hiring/online.py").unlink()
    (root / "mechsim/learners").mkdir()
    (root / "mechsim/learners/__init__.py").touch()
    (root / "mechsim/learners/online.py").write_text("from mechsim.solvers.lp import solve\n")
    (root / "mechsim/hiring/__init__.py").write_text(
        "from mechsim._lazy import lazy_exports\n"
        "__all__, __getattr__, __dir__ = lazy_exports('mechsim.hiring', "
        "{'mechsim.learners.online': ['simulate']}, globals())\n")
    (root / "mechsim/cmdp/env.py").unlink()
    assert layer_violations(root) == []
    assert import_cycles(root) == []


_IMPORT_EACH_FIRST = r"""
import importlib, os, sys
# Third-party libraries load once in the parent: each child then starts with no mechsim module imported.
for lib in ("numpy", "scipy.sparse", "scipy.optimize", "scipy.stats", "networkx", "gymnasium", "pettingzoo",
            "highspy", "matplotlib", "click", "tqdm", "hypothesis"):
    importlib.import_module(lib)
failed = []
for name in sys.argv[1:]:
    pid = os.fork()
    if pid == 0:
        try:
            importlib.import_module(name)
        except BaseException as exc:  # noqa: BLE001 - report whatever went wrong
            print(f"{name}: {type(exc).__name__}: {exc}", flush=True)
            os._exit(1)
        os._exit(0)
    _, status = os.waitpid(pid, 0)
    if status:
        failed.append(name)
sys.exit(1 if failed else 0)
"""


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_every_module_imports_first_in_a_fresh_interpreter():
    """Importing any module first (no other mechsim module loaded) works: no cycle bites at import time."""
    names = [n for n in source_modules() if not n.endswith("__main__")]
    done = subprocess.run([sys.executable, "-c", _IMPORT_EACH_FIRST, *names], capture_output=True, text=True,
                          timeout=600, env={**os.environ, "PYTHONWARNINGS": "ignore"})
    assert done.returncode == 0, done.stdout + done.stderr


if __name__ == "__main__":  # pragma: no cover
    found = layer_violations()
    print("\n".join(found) or "no layer violations")
    for cycle in import_cycles():
        print("cycle:", " <-> ".join(cycle))
