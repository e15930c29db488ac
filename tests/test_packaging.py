"""Packaging conventions users rely on: licence, citation, changelog, type marker, dependency floors."""

import configparser
import importlib.resources
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_licence_citation_and_changelog_exist():
    assert "MIT License" in (REPO / "LICENSE").read_text()
    cff = (REPO / "CITATION.cff").read_text()
    assert "cff-version" in cff and cff.count("type: conference-paper") == 4
    assert "## Unreleased" in (REPO / "CHANGELOG.md").read_text()


def test_package_is_typed():
    assert importlib.resources.files("mechsim").joinpath("py.typed").is_file()
    config = configparser.ConfigParser()
    config.read(REPO / "setup.cfg")
    assert "py.typed" in config["options.package_data"]["mechsim"]
    assert config["metadata"]["license"] == "MIT"


def test_every_package_is_listed_for_installation():
    config = configparser.ConfigParser()
    config.read(REPO / "setup.cfg")
    listed = set(config["options"]["packages"].split())
    dirs = {"mechsim": REPO / "mechsim", "mechsim.envs": REPO / "envs", "mechsim.solvers": REPO / "solvers",
            "mechsim.scenarios": REPO / "scenarios"}
    found = set()
    for name, folder in dirs.items():
        for init in folder.rglob("__init__.py"):
            rel = init.parent.relative_to(folder).parts
            found.add(".".join([name, *rel]))
    assert found == listed, f"not installed: {sorted(found - listed)}; listed but missing: {sorted(listed - found)}"


def test_pettingzoo_floor_has_the_registry_the_readme_uses():
    config = configparser.ConfigParser()
    config.read(REPO / "setup.cfg")
    requires = config["options"]["install_requires"]
    assert "pettingzoo>=1.27" in requires     # pettingzoo.make / pettingzoo.register appeared in 1.27
