"""The scenario runner: cells through an executor, atomic outputs, resuming.

A run of scenario ``S`` with seed ``s`` into folder ``out``:

1. ``S.grid(quick)`` lists the cells (``S.full_grid()`` with ``full=True``, if the scenario has one).  Each
   cell gets a seed derived from ``s`` and the cell's parameters (SHA-256 of their canonical JSON), so its
   result is independent of cell order and backend.
2. Cells whose result file ``out/cells/<key>.json`` already exists and is valid (same scenario, parameters
   and seed) are reused; a damaged cell file is moved aside, named in one line on stderr, and its cell
   recomputed.  The others run through the executor, and each finished cell is written at once
   (atomically), so an interrupted run loses only the cells that were still running.  Rerunning resumes.
   While a run is going on it holds a lock on ``out``, so that a second run into the same folder is refused
   instead of computing every cell again.
3. ``config.json`` (parameters, seed, mechsim's and its dependencies' versions, mechsim's git revision when
   it runs from its own checkout), ``results.json`` (strict JSON: NaN and infinities are ``null``), one tidy
   CSV per table (``results.csv``, or ``results_<part>.csv`` when the grid has parts with different
   columns), the scenario's own tables and PNG plots, and ``summary.md`` are written atomically.
   :func:`report_scenario` writes the same report from the cells finished so far, for runs that take days;
   :func:`load_results` reads a run's tables back as pandas DataFrames.

If cells fail, the finished ones are still saved and :class:`CellFailures` is raised afterwards.
"""

from __future__ import annotations

import datetime as _dt
import difflib
import hashlib
import importlib
import importlib.metadata
import json
import math
import os
import platform
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import mechsim
from mechsim._registration import SCENARIOS
from mechsim.errors import MechsimError
from mechsim.runner.executors import make_executor
from mechsim.runner.scenario import Report, Scenario, atomic_write_text, json_text, tidy_rows, to_jsonable

__all__ = [
    "RunResult", "CellFailures", "UnknownScenarioError", "RunInProgressError", "OutputFolderError",
    "available_scenarios", "load_scenario", "cell_seed", "cell_key", "run_scenario", "report_scenario",
    "load_results",
]

#: Describes results.json for its readers (and for :func:`load_results`).
RESULTS_FORMAT = {
    "version": 2,
    "records": "one {params, seed, result} per finished cell, in grid order",
    "tables": "the scenario's own tables, name -> list of rows (each also written as <name>.csv)",
    "cell_seconds": "seconds each cell took, in the order of records",
    "non_finite": "NaN and +-infinity are written as null (strict JSON); CSV tables write NaN as an empty cell",
}

#: Distributions whose versions are recorded in config.json.
RECORDED_PACKAGES = (
    "mechsim", "numpy", "scipy", "cvxpy", "highspy", "networkx", "gymnasium", "pettingzoo",
    "hypothesis", "matplotlib", "prefsampling", "icu-sepsis", "ray",
)


class UnknownScenarioError(MechsimError, KeyError):
    """No scenario of that name; the message lists the valid names."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


class RunInProgressError(MechsimError):
    """Another run holds the output folder's lock; two runs into one folder would compute every cell twice."""


class OutputFolderError(MechsimError):
    """The output folder cannot be created or written (the message names the path and the reason)."""


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
        raise UnknownScenarioError(f"unknown scenario {name!r}{did_you_mean(name, SCENARIOS)}; valid names: "
                                   f"{', '.join(sorted(SCENARIOS))}")
    return _load_entry_point(name)


def did_you_mean(name, choices) -> str:
    """``" (did you mean 'x'?)"`` for the closest of ``choices`` to a misspelt ``name``, else ``""``."""
    close = difflib.get_close_matches(str(name), list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


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
def _mechsim_version() -> str:
    try:
        return importlib.metadata.version("mechsim")
    except importlib.metadata.PackageNotFoundError:  # running from a source tree without installing
        return mechsim.__version__


def _versions() -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for dist in RECORDED_PACKAGES:
        try:
            out[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            out[dist] = None
    return out


def _own_checkout(source: Path | None = None) -> Path | None:
    """mechsim's own source checkout, if this mechsim runs from one (an editable install); else None.

    An installed mechsim lives in site-packages, inside whatever repository the user's project is: its
    revision says nothing about mechsim.
    """
    source = Path(__file__).resolve().parents[2] if source is None else Path(source)
    setup = source / "setup.cfg"
    if not (source / ".git").exists() or not setup.is_file():
        return None
    try:
        is_ours = any(line.strip().replace(" ", "") == "name=mechsim" for line in setup.read_text().splitlines())
    except OSError:
        return None
    return source if is_ours else None


def _git_revision() -> dict[str, Any] | None:
    source = _own_checkout()
    if source is None:
        return None
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


# Cell files are read back by the runner, so they keep NaN and infinities losslessly (tagged), and stay
# strict JSON; results.json, for people, writes them as null.
def _encode_nonfinite(value):
    if isinstance(value, float) and not math.isfinite(value):
        return {"__float__": repr(value)}
    if isinstance(value, dict):
        return {k: _encode_nonfinite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_encode_nonfinite(v) for v in value]
    return value


def _decode_nonfinite(value):
    if isinstance(value, dict):
        if len(value) == 1 and "__float__" in value:
            return float(value["__float__"])
        return {k: _decode_nonfinite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode_nonfinite(v) for v in value]
    return value


def _cell_text(cell: dict) -> str:
    return json.dumps(_encode_nonfinite(to_jsonable(cell)), allow_nan=False)


def _read_cell(path: Path, key: str, params: dict, seed: int) -> tuple[dict | None, str | None]:
    """``(cell, None)`` for a valid cell file, ``(None, None)`` if there is none, ``(None, why)`` if damaged."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None, None
    except OSError as exc:
        return None, f"unreadable ({exc.strerror or exc})"
    try:
        data = _decode_nonfinite(json.loads(raw.decode("utf-8")))
    except (UnicodeDecodeError, json.JSONDecodeError, ValueError) as exc:
        return None, f"not valid JSON ({type(exc).__name__})"
    if not isinstance(data, dict):
        return None, f"a JSON {type(data).__name__}, not an object"
    if data.get("key") != key or data.get("params") != params or data.get("seed") != seed:
        return None, "its key, parameters or seed do not match its file name"
    if not isinstance(data.get("result"), dict):
        return None, "its 'result' is missing or not an object"
    elapsed = data.get("elapsed", 0.0)
    if isinstance(elapsed, bool) or not isinstance(elapsed, (int, float)):
        return None, "its 'elapsed' is not a number"
    return data, None


def _set_aside(path: Path, why: str) -> None:
    """Move a damaged cell file out of the way (kept for inspection) and say so in one line."""
    stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%dT%H%M%S%f")
    aside = path.with_name(f"{path.name}.damaged-{stamp}")
    try:
        os.replace(path, aside)
        where = f"moved to {aside.name}"
    except OSError:
        where = "could not be moved"
    print(f"mechsim: cell file {path} is damaged ({why}); {where}; the cell is recomputed", file=sys.stderr)


def _flat_rows(records: Sequence[dict]) -> list[dict]:
    """One tidy row per cell: its scalar parameters, seed, and result (nested values flattened, curves left out)."""
    rows = []
    for rec in records:
        row = tidy_rows([{k: v for k, v in rec["params"].items() if not isinstance(v, (list, dict))}])[0]
        row["seed"] = rec["seed"]
        for k, v in tidy_rows([rec["result"]], keep_long=False)[0].items():
            row[f"result.{k}" if k in row else k] = v
        rows.append(row)
    return rows


def _results_tables(rows: list[dict]) -> dict[str, list[dict]]:
    """Split the per-cell rows into tidy tables: one per set of columns (``results`` if all share one).

    A scenario whose grid has several parts (``{"part": "frontier", ...}``, ``{"part": "learners", ...}``)
    gives ``results_frontier``, ``results_learners``: each table has only the columns its cells have.
    """
    groups: dict[tuple, list[dict]] = {}
    for row in rows:
        groups.setdefault(tuple(row), []).append(row)
    if len(groups) <= 1:
        return {"results": rows}
    names = None
    for key in rows[0]:
        values = [g[0].get(key) for g in groups.values()]
        if (all(key in g[0] and all(r.get(key) == g[0][key] for r in g) for g in groups.values())
                and len(set(map(str, values))) == len(values)):
            names = [f"results_{str(v).replace(' ', '_').replace('/', '_')}" for v in values]
            break
    names = names or [f"results_{i + 1}" for i in range(len(groups))]
    return dict(zip(names, groups.values()))


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
    start = time.perf_counter()
    scen = load_scenario(scenario)
    size, grid, seeds, keys = _plan(scen, quick, full, seed)
    outdir = Path(outdir)
    cells_dir = outdir / "cells"
    try:
        cells_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputFolderError(f"out: cannot create the output folder {outdir}: "
                                f"{exc.strerror or exc}") from None
    with _RunLock(outdir):
        return _run_locked(scen, outdir, cells_dir, size, grid, seeds, keys, start, quick=quick, seed=seed,
                           backend=backend, workers=workers, address=address, progress=progress)


class _RunLock:
    """An exclusive ``flock`` on ``<outdir>/.mechsim-run.lock`` for the length of a run.

    The kernel releases it when the process ends, however it ends, so a killed run leaves no stale lock.
    """

    def __init__(self, outdir: Path):
        self.path = outdir / ".mechsim-run.lock"
        self.fd: int | None = None

    def __enter__(self):
        try:
            import fcntl
        except ImportError:  # pragma: no cover - not POSIX: no lock, as before
            return self
        try:
            self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
        except OSError as exc:
            raise OutputFolderError(f"out: cannot write to the output folder {self.path.parent}: "
                                    f"{exc.strerror or exc}") from None
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = os.pread(self.fd, 200, 0).decode("utf-8", "replace").strip() or "another process"
            os.close(self.fd)
            self.fd = None
            raise RunInProgressError(
                f"out: another run is writing into {self.path.parent} ({holder}); wait for it to finish, "
                f"or use another --out (its lock is {self.path.name})") from None
        os.ftruncate(self.fd, 0)
        os.pwrite(self.fd, f"pid {os.getpid()} on {platform.node()}, since "
                           f"{_dt.datetime.now(_dt.timezone.utc).isoformat(timespec='seconds')}".encode(), 0)
        return self

    def __exit__(self, *exc):
        if self.fd is not None:
            os.close(self.fd)  # closing the descriptor releases the flock
            self.fd = None
        return False


def _cell_label(params: dict, width: int = 48) -> str:
    text = " ".join(f"{k}={v}" for k, v in params.items() if not isinstance(v, (list, dict)))
    return text if len(text) <= width else text[: width - 1] + "…"


def _run_locked(scen: Scenario, outdir: Path, cells_dir: Path, size, grid, seeds, keys, start, *, quick, seed,
                backend, workers, address, progress) -> RunResult:
    from tqdm.auto import tqdm

    config = {
        "scenario": scen.name, "description": scen.description, "quick": quick, "size": size,
        "seed": seed,
        "backend": backend, "workers": workers, "address": address, "cells": grid,
        "mechsim": _mechsim_version(), "versions": _versions(), "git": _git_revision(),
        "python": sys.version.split()[0],
        "platform": platform.platform(), "started": _dt.datetime.now(_dt.timezone.utc).isoformat(),
    }
    atomic_write_text(outdir / "config.json", json_text(config, indent=2))

    results, timings = _finished_cells(cells_dir, keys, grid, seeds)
    reused = len(results)
    todo = [i for i in range(len(grid)) if i not in results]

    failures: list[tuple[dict, str]] = []
    if todo:
        executor = make_executor(backend, workers=workers, address=address)
        bar = tqdm(total=len(grid), initial=reused, desc=scen.name, unit="cell",
                   disable=(None if progress is None else not progress))
        waiting_since = time.perf_counter()

        def heartbeat(running: list[int] | None) -> None:
            # Long cells would leave the bar frozen at k/N: name what is running and for how long.
            waited = time.perf_counter() - waiting_since
            if running:
                names = "; ".join(_cell_label(grid[todo[j]]) for j in running[:2])
                more = f" +{len(running) - 2}" if len(running) > 2 else ""
                bar.set_postfix_str(f"running {names}{more} ({waited:.0f} s)", refresh=True)
            else:
                bar.set_postfix_str(f"waiting for cells ({waited:.0f} s)", refresh=True)

        try:
            tasks = [(scen.compute, grid[i], seeds[i]) for i in todo]
            for j, (status, value, elapsed) in executor.run(_run_one, tasks, heartbeat=heartbeat):
                i = todo[j]
                if status == "ok":
                    results[i] = value
                    timings[i] = elapsed
                    cell = {"key": keys[i], "scenario": scen.name, "params": grid[i], "seed": seeds[i],
                            "result": value, "elapsed": elapsed}
                    atomic_write_text(cells_dir / f"{keys[i]}.json", _cell_text(cell))
                else:
                    failures.append((grid[i], str(value)))
                waiting_since = time.perf_counter()
                bar.set_postfix_str("", refresh=False)
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
    atomic_write_text(outdir / "config.json", json_text(config, indent=2))
    header = (f"{len(records)} cells ({len(todo)} computed, {reused} reused from an earlier run) on the "
              f"{backend} backend in {elapsed:.1f} s.")
    atomic_write_text(outdir / "summary.md", _summary(scen, report, header))
    files = sorted(p.name for p in outdir.iterdir() if p.is_file() and not p.name.startswith("."))
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
    results, timings = _finished_cells(outdir / "cells", keys, grid, seeds, set_aside=False)
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


def load_results(outdir: str | Path) -> dict[str, Any]:
    """The tables of a finished run as pandas DataFrames, by table name (for notebooks).

    Reads ``outdir/results.json``: the per-cell tables (``results``, or ``results_<part>`` for scenarios
    whose grid has several parts) and every table of the scenario's report, flattened as in the CSV files
    (nested values as ``a.b`` / ``a.0`` columns).  Needs pandas (``pip install "mechsim[pandas]"``).

    Raises
    ------
    MechsimError
        pandas is not installed, or ``outdir`` has no readable results.json of format version 2.
    """
    try:
        import pandas as pd
    except ImportError:
        raise MechsimError('load_results needs pandas: pip install "mechsim[pandas]"') from None
    path = Path(outdir) / "results.json"
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MechsimError(f"outdir: cannot read {path} ({type(exc).__name__}: {exc})") from None
    if not isinstance(payload, dict) or payload.get("format", {}).get("version") != RESULTS_FORMAT["version"]:
        raise MechsimError(f"outdir: {path} is not a results.json of format version {RESULTS_FORMAT['version']} "
                           "(rerun the scenario into that folder to rewrite it)")
    tables = _results_tables(_flat_rows(payload["records"]))
    tables.update(payload.get("tables", {}))
    return {name: pd.DataFrame(tidy_rows(rows)) for name, rows in tables.items()}


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


def _finished_cells(cells_dir: Path, keys: list[str], grid: list[dict], seeds: list[int], *,
                    set_aside: bool = True) -> tuple[dict[int, dict], dict[int, float]]:
    """Valid finished cells; damaged ones are moved aside (``set_aside``) or skipped, and recomputed."""
    results: dict[int, dict] = {}
    timings: dict[int, float] = {}
    for i, key in enumerate(keys):
        path = cells_dir / f"{key}.json"
        cell, why = _read_cell(path, key, grid[i], seeds[i])
        if cell is not None:
            results[i] = cell["result"]
            timings[i] = float(cell.get("elapsed", 0.0))
        elif why is not None:
            if set_aside:
                _set_aside(path, why)
            else:
                print(f"mechsim: cell file {path} is damaged ({why}); left out of this report", file=sys.stderr)
    return results, timings


def _write_report(scen: Scenario, outdir: Path, records: list[dict], cell_seconds: list, seed: int,
                  quick: bool, size: str) -> Report:
    report = Report(records=records, outdir=outdir, seed=seed, quick=quick, size=size)
    cell_tables = _results_tables(_flat_rows(records))
    for stale in outdir.glob("results*.csv"):  # an earlier run of another size may have split differently
        if stale.stem not in cell_tables:
            stale.unlink()
    for name, rows in cell_tables.items():
        report.add_table(name, rows)
    if scen.report is not None:
        scen.report(report)
    payload = {"format": RESULTS_FORMAT, "scenario": scen.name, "seed": seed, "quick": quick, "size": size,
               "records": records,
               "tables": {k: v for k, v in report.tables.items() if k not in cell_tables},
               "cell_seconds": cell_seconds}
    atomic_write_text(outdir / "results.json", json_text(payload, indent=1))
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
