"""The scenario runner: cells through an executor, atomic outputs, resuming.

A run of scenario ``S`` with seed ``s`` into folder ``out``:

1. ``S.grid(quick)`` lists the cells (``S.full_grid()`` with ``full=True``, if the scenario has one).  Each cell gets a seed derived from ``s`` and the cell's parameters
   (SHA-256 of their canonical JSON), so its result is independent of cell order and backend.
2. Cells whose result file ``out/cells/<key>.json`` already exists (same scenario, parameters and seed) are
   reused; the others run through the executor, and each finished cell is written at once (atomically), so
   an interrupted run loses only the cells that were still running.  Rerunning resumes.
3. ``config.json`` (parameters, seed, versions, git revision), ``results.json``, ``results.csv``, the
   scenario's own tables and PNG plots, and ``summary.md`` are written atomically.
   :func:`report_scenario` writes the same report from the cells finished so far, for runs that take days.

If cells fail, the finished ones are still saved and :class:`CellFailures` is raised afterwards.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import importlib
import importlib.metadata
import json
import platform
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mechsim._registration import SCENARIOS
from mechsim.errors import MechsimError
from mechsim.runner.executors import make_executor
from mechsim.runner.scenario import Report, Scenario, atomic_write_text, to_jsonable

__all__ = [
    "RunResult", "CellFailures", "UnknownScenarioError", "available_scenarios", "load_scenario",
    "cell_seed", "cell_key", "run_scenario", "report_scenario",
]

#: Distributions whose versions are recorded in config.json.
RECORDED_PACKAGES = (
    "mechsim", "numpy", "scipy", "cvxpy", "highspy", "networkx", "gymnasium", "pettingzoo",
    "hypothesis", "matplotlib", "prefsampling", "icu-sepsis", "ray",
)


class UnknownScenarioError(MechsimError, KeyError):
    """No scenario of that name; the message lists the valid names."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


class CellFailures(MechsimError):
    """Some cells raised; the finished cells were saved and a rerun resumes from them.

    Attributes
    ----------
    failures : list of (params, traceback text)
    """

    def __init__(self, scenario: str, failures: list[tuple[dict, str]], total: int):
        self.failures = failures
        params, tb = failures[0]
        last = tb.strip().splitlines()[-1] if tb.strip() else "unknown error"
        super().__init__(
            f"{len(failures)} of {total} cells of scenario '{scenario}' failed (finished cells are saved; "
            f"rerun to resume). First failure, params {json.dumps(params)}: {last}\n{tb}")


@dataclass(frozen=True)
class RunResult:
    """What a run produced.

    Attributes
    ----------
    scenario : str
    outdir : pathlib.Path
    records : list of dict
        ``{"params", "seed", "result"}`` per cell in grid order.
    computed : int
        Cells computed by this run.
    reused : int
        Cells taken from an earlier (interrupted) run.
    elapsed : float
        Wall-clock seconds.
    files : list of str
        Files written into ``outdir`` (besides ``cells/``).
    """

    scenario: str
    outdir: Path
    records: list[dict]
    computed: int
    reused: int
    elapsed: float
    files: list[str] = field(default_factory=list)


# ----------------------------------------------------------------------------------------- discovery
def _load_entry_point(name: str) -> Scenario:
    module, _, attribute = SCENARIOS[name].partition(":")
    scenario = getattr(importlib.import_module(module), attribute)
    if not isinstance(scenario, Scenario) or scenario.name != name:
        raise MechsimError(f"the scenario registry's entry {name!r} -> {SCENARIOS[name]!r} is not a Scenario "
                           f"named {name!r}")
    return scenario


def available_scenarios() -> dict[str, Scenario]:
    """Every registered scenario (:data:`mechsim._registration.SCENARIOS`), by name (sorted)."""
    return {name: _load_entry_point(name) for name in sorted(SCENARIOS)}


def load_scenario(name: str | Scenario) -> Scenario:
    """Return the registered scenario called ``name`` (a Scenario is returned unchanged).

    Only that scenario's module is imported, so one broken scenario does not hide the others.
    """
    if isinstance(name, Scenario):
        return name
    if name not in SCENARIOS:
        raise UnknownScenarioError(f"unknown scenario {name!r}; valid names: {', '.join(sorted(SCENARIOS))}")
    return _load_entry_point(name)


# ----------------------------------------------------------------------------------------- seeds/keys
def _canonical(obj: Any) -> str:
    return json.dumps(to_jsonable(obj), sort_keys=True, separators=(",", ":"))


def cell_seed(run_seed: int, params: Mapping[str, Any]) -> int:
    """Seed of one cell: a 63-bit integer from SHA-256 of the run seed and the canonical parameters."""
    digest = hashlib.sha256(f"{int(run_seed)}|{_canonical(params)}".encode()).digest()
    return int.from_bytes(digest[:8], "little") >> 1


def cell_key(scenario: str, params: Mapping[str, Any], seed: int) -> str:
    """File key of one cell's result: scenario name, parameters and cell seed."""
    text = f"{scenario}|{_canonical(params)}|{int(seed)}"
    return hashlib.sha256(text.encode()).hexdigest()[:24]


# ----------------------------------------------------------------------------------------- provenance
def _versions() -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for dist in RECORDED_PACKAGES:
        try:
            out[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            out[dist] = None
    return out


def _git_revision() -> dict[str, Any] | None:
    source = Path(__file__).resolve().parents[2]
    try:
        rev = subprocess.run(["git", "rev-parse", "HEAD"], cwd=source, capture_output=True, text=True,
                             timeout=10)
        if rev.returncode != 0:
            return None
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=source,
                               capture_output=True, text=True, timeout=10)
        return {"revision": rev.stdout.strip(), "dirty": bool(dirty.stdout.strip())}
    except (OSError, subprocess.SubprocessError):
        return None


# ----------------------------------------------------------------------------------------- running
def _run_one(compute, params: dict, seed: int) -> dict:
    """Executed in the worker: compute one cell and make its result JSON-able."""
    result = compute(params, seed)
    if not isinstance(result, Mapping):
        raise MechsimError(f"compute() must return a dict, returned {type(result).__name__}")
    return to_jsonable(dict(result))


def _load_cell(path: Path, key: str) -> dict | None:
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return None
    return data if data.get("key") == key and "result" in data else None


def _flat_rows(records: Sequence[dict]) -> list[dict]:
    rows = []
    for rec in records:
        row = {k: v for k, v in rec["params"].items() if not isinstance(v, (list, dict))}
        row["seed"] = rec["seed"]
        for k, v in rec["result"].items():
            if isinstance(v, (list, dict)):
                continue
            row[f"result.{k}" if k in row else k] = v
        rows.append(row)
    return rows


def run_scenario(scenario: str | Scenario, outdir: str | Path, *, quick: bool = False, seed: int = 0,
                 backend: str = "local", workers: int | None = None, address: str | None = None,
                 progress: bool | None = False, full: bool = False) -> RunResult:
    """Run one scenario into ``outdir``, resuming from finished cells found there.

    Parameters
    ----------
    scenario : str or Scenario
        Scenario name (see ``mechsim list``) or object.
    outdir : path
        Output folder (created).
    quick : bool
        Run the scenario's quick grid.
    seed : int
        Run seed; each cell's seed is derived from it and the cell's parameters.
    backend : {"local", "ray"}
        Local process pool, or Ray (``ray`` extra).
    workers : int, optional
        Worker processes (local) or CPUs of a local Ray instance; ``1`` runs in this process.
    address : str, optional
        Ray cluster address (``backend="ray"`` only).
    progress : bool or None
        Show a progress bar (``None``: only on a terminal).
    full : bool
        Run the scenario's full (paper-size) grid, ``Scenario.full_grid``; scenarios without one run their
        default grid.  Exclusive with ``quick``.

    Returns
    -------
    RunResult

    Raises
    ------
    UnknownScenarioError
        No scenario of that name.
    CellFailures
        Some cells raised; all finished cells are saved first.
    """
    from tqdm.auto import tqdm

    start = time.perf_counter()
    scen = load_scenario(scenario)
    size, grid, seeds, keys = _plan(scen, quick, full, seed)
    outdir = Path(outdir)
    cells_dir = outdir / "cells"
    cells_dir.mkdir(parents=True, exist_ok=True)

    config = {
        "scenario": scen.name, "description": scen.description, "quick": quick, "size": size,
        "seed": seed,
        "backend": backend, "workers": workers, "address": address, "cells": grid,
        "versions": _versions(), "git": _git_revision(), "python": sys.version.split()[0],
        "platform": platform.platform(), "started": _dt.datetime.now(_dt.timezone.utc).isoformat(),
    }
    atomic_write_text(outdir / "config.json", json.dumps(config, indent=2))

    results, timings = _finished_cells(cells_dir, keys)
    reused = len(results)
    todo = [i for i in range(len(grid)) if i not in results]

    failures: list[tuple[dict, str]] = []
    if todo:
        executor = make_executor(backend, workers=workers, address=address)
        bar = tqdm(total=len(grid), initial=reused, desc=scen.name, unit="cell",
                   disable=(None if progress is None else not progress))
        try:
            tasks = [(scen.compute, grid[i], seeds[i]) for i in todo]
            for j, (status, value, elapsed) in executor.run(_run_one, tasks):
                i = todo[j]
                if status == "ok":
                    results[i] = value
                    timings[i] = elapsed
                    cell = {"key": keys[i], "scenario": scen.name, "params": grid[i], "seed": seeds[i],
                            "result": value, "elapsed": elapsed}
                    atomic_write_text(cells_dir / f"{keys[i]}.json", json.dumps(cell))
                else:
                    failures.append((grid[i], str(value)))
                bar.update(1)
        finally:
            bar.close()
            executor.close()
    if failures:
        raise CellFailures(scen.name, failures, len(grid))

    records = [{"params": grid[i], "seed": seeds[i], "result": results[i]} for i in range(len(grid))]
    report = _write_report(scen, outdir, records, [timings.get(i) for i in range(len(grid))], seed, quick, size)
    elapsed = time.perf_counter() - start
    config["finished"] = _dt.datetime.now(_dt.timezone.utc).isoformat()
    atomic_write_text(outdir / "config.json", json.dumps(config, indent=2))
    header = (f"{len(records)} cells ({len(todo)} computed, {reused} reused from an earlier run) on the "
              f"{backend} backend in {elapsed:.1f} s.")
    atomic_write_text(outdir / "summary.md", _summary(scen, report, header))
    files = sorted(p.name for p in outdir.iterdir() if p.is_file())
    return RunResult(scenario=scen.name, outdir=outdir, records=records, computed=len(todo), reused=reused,
                     elapsed=elapsed, files=files)


def report_scenario(scenario: str | Scenario, outdir: str | Path, *, quick: bool = False, full: bool = False,
                    seed: int = 0) -> RunResult:
    """Write the report of the cells finished so far in ``outdir``, without computing any.

    For long runs (``full=True`` grids can take days): while a run is going on, or after it was
    interrupted, this writes ``results.json``, the scenario's tables and plots and ``summary.md`` from the
    finished cells of the grid that ``quick``/``full``/``seed`` select; missing cells are left out of every
    table and plot, and ``summary.md`` says how many.  Rerunning :func:`run_scenario` into the same folder
    completes the grid.

    Raises
    ------
    MechsimError
        No finished cell of that grid in ``outdir/cells`` (or bad arguments), or the scenario's report
        cannot be made from the finished cells (its error is attached).
    """
    start = time.perf_counter()
    scen = load_scenario(scenario)
    outdir = Path(outdir)
    size, grid, seeds, keys = _plan(scen, quick, full, seed)
    results, timings = _finished_cells(outdir / "cells", keys)
    if not results:
        raise MechsimError(f"outdir: no finished cell of the {size} grid of '{scen.name}' with seed {seed} "
                           f"in {outdir / 'cells'}")
    done = sorted(results)
    records = [{"params": grid[i], "seed": seeds[i], "result": results[i]} for i in done]
    try:
        report = _write_report(scen, outdir, records, [timings.get(i) for i in done], seed, quick, size)
    except Exception as exc:  # the scenario's own report code: name the situation, keep its error
        raise MechsimError(f"scenario '{scen.name}': its report failed on {len(done)} of {len(grid)} cells "
                           f"({type(exc).__name__}: {exc})") from exc
    elapsed = time.perf_counter() - start
    if len(done) == len(grid):
        header = f"report of all {len(grid)} finished cells (written by `mechsim report`)."
    else:
        header = (f"**Partial report**: {len(done)} of {len(grid)} cells finished; the other "
                  f"{len(grid) - len(done)} are left out of every table and plot (rerun `mechsim run` into this "
                  "folder to complete them).")
    atomic_write_text(outdir / "summary.md", _summary(scen, report, header))
    files = sorted(p.name for p in outdir.iterdir() if p.is_file())
    return RunResult(scenario=scen.name, outdir=outdir, records=records, computed=0, reused=len(done),
                     elapsed=elapsed, files=files)


def _plan(scen: Scenario, quick: bool, full: bool, seed: int):
    """The grid a run uses: ``(size, cells, cell seeds, cell keys)``."""
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise MechsimError(f"seed: expected a non-negative integer, found {seed!r}")
    if quick and full:
        raise MechsimError("quick, full: expected at most one of them, found both set")
    size = "quick" if quick else ("full" if full else "default")
    cells = scen.full_grid() if full and scen.full_grid is not None else scen.grid(quick)
    grid = [to_jsonable(dict(p)) for p in cells]
    seeds = [cell_seed(seed, p) for p in grid]
    keys = [cell_key(scen.name, p, s) for p, s in zip(grid, seeds)]
    if len(set(keys)) != len(keys):
        raise MechsimError(f"scenario '{scen.name}' has duplicate cells in its grid")
    return size, grid, seeds, keys


def _finished_cells(cells_dir: Path, keys: list[str]) -> tuple[dict[int, dict], dict[int, float]]:
    results: dict[int, dict] = {}
    timings: dict[int, float] = {}
    for i, key in enumerate(keys):
        cached = _load_cell(cells_dir / f"{key}.json", key)
        if cached is not None:
            results[i] = cached["result"]
            timings[i] = cached.get("elapsed", 0.0)
    return results, timings


def _write_report(scen: Scenario, outdir: Path, records: list[dict], cell_seconds: list, seed: int,
                  quick: bool, size: str) -> Report:
    report = Report(records=records, outdir=outdir, seed=seed, quick=quick, size=size)
    report.add_table("results", _flat_rows(records))
    if scen.report is not None:
        scen.report(report)
    payload = {"scenario": scen.name, "seed": seed, "quick": quick, "size": size, "records": records,
               "tables": {k: v for k, v in report.tables.items() if k != "results"},
               "cell_seconds": cell_seconds}
    atomic_write_text(outdir / "results.json", json.dumps(to_jsonable(payload), indent=1))
    return report


def _summary(scen: Scenario, report: Report, header: str) -> str:
    lines = [f"# {scen.name}", "", scen.description, "", f"Seed {report.seed}; {report.size} size; {header}", ""]
    for title, text in report.sections:
        if title:
            lines += [f"## {title}", ""]
        lines += [text.rstrip(), ""]
    tables = ", ".join(f"`{t}.csv`" for t in report.tables)
    lines += ["## Files", "", f"`config.json` (parameters, seed, versions, git revision), `results.json` "
              f"(every cell), tables {tables}" + (", plots " + ", ".join(f"`{f}.png`" for f in report.figures)
                                                  if report.figures else "") + ".", ""]
    return "\n".join(lines)


def __getattr__(name: str):
    # ``main`` moved to mechsim.runner.cli (it builds a click command); this keeps the old path working
    # without an import cycle between the two modules.
    if name == "main":
        return importlib.import_module("mechsim.runner.cli").scenario_main
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
