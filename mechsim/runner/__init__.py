"""Scenario runner and command line (see :mod:`mechsim.runner.run` and :mod:`mechsim.runner.cli`)."""

from mechsim.runner.run import load_results, report_scenario, run_scenario
from mechsim.runner.scenario import Report, Scenario

__all__ = ["Scenario", "Report", "run_scenario", "report_scenario", "load_results"]
