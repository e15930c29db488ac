"""Scenario runner and command line (see :mod:`mechsim.runner.run` and :mod:`mechsim.runner.cli`)."""

from mechsim.runner.scenario import Report, Scenario

__all__ = ["Scenario", "Report"]
