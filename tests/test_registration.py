"""`import mechsim` registers every environment under mechsim/<Name>-v0 and entry points resolve."""

import importlib

import gymnasium
import pettingzoo
import pytest

import mechsim
from mechsim._registration import CHECK_KWARGS, GYMNASIUM_ENVS, PETTINGZOO_ENVS


def test_gymnasium_ids_registered():
    for env_id in GYMNASIUM_ENVS:
        assert env_id in gymnasium.registry and env_id.startswith("mechsim/") and env_id.endswith("-v0")


def test_pettingzoo_ids_registered():
    for env_id, (entry_points, _) in PETTINGZOO_ENVS.items():
        for kind in entry_points:
            registry = pettingzoo.parallel_registry if kind == "parallel" else pettingzoo.aec_registry
            assert env_id in registry


@pytest.mark.parametrize("entry_point", [ep for ep, _, _ in GYMNASIUM_ENVS.values()]
                         + [ep for eps, _ in PETTINGZOO_ENVS.values() for ep in eps.values()])
def test_entry_points_resolve(entry_point):
    module, attr = entry_point.split(":")
    assert callable(getattr(importlib.import_module(module), attr))


def test_check_kwargs_name_registered_ids():
    # a misspelt id would silently fall back to the defaults in tests/test_env_contract.py
    assert set(CHECK_KWARGS) <= set(GYMNASIUM_ENVS) | set(PETTINGZOO_ENVS)
    assert all(isinstance(kwargs, dict) for kwargs in CHECK_KWARGS.values())


def test_import_is_idempotent():
    mechsim._register_all()
    assert "mechsim/Recommender-v0" in gymnasium.registry


def test_layout_packages_install_under_mechsim(tmp_path):
    import subprocess
    import sys

    import mechsim.envs
    import mechsim.scenarios
    import mechsim.solvers

    for mod in (mechsim.envs, mechsim.solvers, mechsim.scenarios):
        assert mod.__name__.startswith("mechsim.")
    # outside the source tree, the generic top-level names must not be importable
    for generic in ("envs", "solvers", "scenarios"):
        out = subprocess.run([sys.executable, "-c", f"import {generic}"], cwd=tmp_path, capture_output=True)
        assert out.returncode != 0, f"'import {generic}' should fail outside the repository"
