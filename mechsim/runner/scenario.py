"""What a scenario declares, and the report object it fills in.

A scenario is a module in ``scenarios/`` (installed as ``mechsim.scenarios``) that defines a module-level
``SCENARIO = Scenario(...)``:

- ``grid(quick) -> list[dict]``: the parameter cells, each a JSON-serialisable dict.  ``quick=True``
  shrinks sizes (draws, horizons), never the logic.
- ``full_grid() -> list[dict]``: optional; the paper-size grid for scenarios whose default grid is cut
  down to run in minutes (``mechsim run NAME --full``).  Cells shared with the default grid are identical
  dicts, so a ``--full`` run into the same folder reuses the default run's finished cells.
- ``compute(params, seed) -> dict``: computes one cell.  Must be a module-level function (it is pickled
  by reference for the process pool and Ray).  ``seed`` is an int derived from the run seed and the cell's
  parameters, so a cell's result does not depend on the order or the backend that ran it.  The result is a
  JSON-serialisable dict; numpy scalars and arrays are converted.  Scalar entries become CSV columns.
- ``report(report)``: optional; turns the finished cells into tables, PNG plots and the text of
  ``summary.md`` through the :class:`Report` methods.  It composes; domain logic lives elsewhere.

The runner (:mod:`mechsim.runner.run`) owns everything else: executors, progress bar, atomic writes,
``config.json``, ``results.json``/``results.csv``, resuming.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["Scenario", "Report", "atomic_write_bytes", "atomic_write_text", "to_jsonable", "json_text", "tidy_rows"]


@dataclass(frozen=True)
class Scenario:
    """Declaration of one experiment.

    Parameters
    ----------
    name : str
        Command-line name, e.g. ``"no-regret"``.
    description : str
        One line shown by ``mechsim list``.
    grid : callable ``(quick: bool) -> list[dict]``
        The parameter cells.
    compute : callable ``(params: dict, seed: int) -> dict``
        Computes one cell; module-level so that it can be pickled.
    report : callable ``(Report) -> None``, optional
        Writes tables, figures and summary text from the finished cells.
    full_grid : callable ``() -> list[dict]``, optional
        The full (paper-size) grid, when the default grid is a cut-down version of it.  Without one,
        ``--full`` runs the default grid.
    """

    name: str
    description: str
    grid: Callable[[bool], Sequence[Mapping[str, Any]]]
    compute: Callable[[Mapping[str, Any], int], Mapping[str, Any]]
    report: Callable[["Report"], None] | None = None
    full_grid: Callable[[], Sequence[Mapping[str, Any]]] | None = None


def to_jsonable(value):
    """Convert numpy containers and scalars (recursively) to plain JSON types."""
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return to_jsonable(value.tolist())
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, Path):
        return str(value)
    return value


def _finite_or_none(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite_or_none(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite_or_none(v) for v in value]
    return value


def json_text(value, indent: int | None = None) -> str:
    """Strict JSON for people's files: numpy converted, and NaN / +-infinity written as ``null``.

    (Python's ``json`` writes bare ``NaN`` and ``Infinity`` tokens, which are not JSON.)
    """
    return json.dumps(_finite_or_none(to_jsonable(value)), indent=indent, allow_nan=False)


def _current_umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see either the old file or the whole new one.

    The file gets the mode an ordinary ``open(path, "w")`` would give it (``0o666`` less the umask):
    ``mkstemp`` itself creates files readable by their owner only.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fchmod(fh.fileno(), 0o666 & ~_current_umask())
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    """Text version of :func:`atomic_write_bytes` (UTF-8)."""
    atomic_write_bytes(path, text.encode("utf-8"))


@dataclass
class Report:
    """Output side of a scenario run, handed to ``Scenario.report``.

    Attributes
    ----------
    records : list of dict
        One ``{"params": ..., "seed": ..., "result": ...}`` per cell, in grid order.
    outdir : pathlib.Path
        The run's output folder.
    seed : int
        The run seed.
    quick : bool
        Whether the run is the quick variant.
    size : {"quick", "default", "full"}
        Which grid ran.
    """

    records: list[dict]
    outdir: Path
    seed: int
    quick: bool
    size: str = "default"
    tables: dict[str, list[dict]] = field(default_factory=dict)
    figures: list[str] = field(default_factory=list)
    sections: list[tuple[str, str]] = field(default_factory=list)

    def add_table(self, name: str, rows: Sequence[Mapping[str, Any]]) -> Path:
        """Write ``rows`` (dicts) to ``<name>.csv`` as a tidy table and keep them for ``results.json``.

        Nested values become columns of their own (see :func:`tidy_rows`): a dict ``{"ci95": [0.1, 0.3]}``
        gives the numeric columns ``ci95.0`` and ``ci95.1``, never a string ``"[0.1, 0.3]"``.
        """
        rows = [to_jsonable(dict(r)) for r in rows]
        write_csv(self.outdir / f"{name}.csv", tidy_rows(rows))
        self.tables[name] = rows
        return self.outdir / f"{name}.csv"

    def add_figure(self, name: str, fig, caption: str = "") -> Path:
        """Save a matplotlib figure as ``<name>.png`` (atomically), close it, and link it in the summary."""
        import matplotlib.pyplot as plt

        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
        plt.close(fig)
        path = self.outdir / f"{name}.png"
        atomic_write_bytes(path, buf.getvalue())
        self.figures.append(name)
        self.sections.append(("", f"![{caption or name}]({name}.png)" + (f"\n\n*{caption}*" if caption else "")))
        return path

    def add_section(self, title: str, text: str) -> None:
        """Append a section (markdown) to ``summary.md``."""
        self.sections.append((title, text))

    def markdown_table(self, rows: Sequence[Mapping[str, Any]], columns: Sequence[str] | None = None,
                       floatfmt: str = ".4g") -> str:
        """Format rows as a markdown table (helper for summary text)."""
        rows = list(rows)
        if not rows:
            return "(no rows)"
        columns = list(columns or rows[0].keys())

        def fmt(v):
            if isinstance(v, (float, np.floating)):
                return format(float(v), floatfmt)
            return str(v)

        lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
        lines += ["| " + " | ".join(fmt(r.get(c, "")) for c in columns) + " |" for r in rows]
        return "\n".join(lines)


#: Lists longer than this stay one JSON-text cell in a CSV table (curves belong in results.json and plots).
MAX_CSV_LIST = 16


def _flatten(prefix: str, value, out: dict, keep_long: bool) -> None:
    if isinstance(value, dict):
        for k, v in value.items():
            _flatten(f"{prefix}.{k}" if prefix else str(k), v, out, keep_long)
    elif (isinstance(value, list) and len(value) <= MAX_CSV_LIST
          and all(not isinstance(v, (list, dict)) for v in value)):
        for i, v in enumerate(value):
            out[f"{prefix}.{i}"] = v
    elif isinstance(value, list):
        if keep_long:
            out[prefix] = json.dumps(_finite_or_none(value))
    else:
        out[prefix] = value


def tidy_rows(rows: Sequence[Mapping[str, Any]], keep_long: bool = True) -> list[dict]:
    """One flat dict per row: nested dicts give ``a.b`` columns, short lists of scalars ``a.0``, ``a.1``, ...

    Longer or nested lists become one JSON-text cell, or are dropped with ``keep_long=False`` (the per-cell
    tables leave curves to results.json).
    """
    out = []
    for r in rows:
        flat: dict = {}
        for k, v in r.items():
            _flatten(str(k), v, flat, keep_long)
        out.append(flat)
    return out


def write_csv(path: Path, rows: Sequence[Mapping[str, Any]]) -> None:
    """Write flat rows as CSV (columns in order of first appearance; None and NaN as empty cells)."""
    columns: list[str] = []
    for r in rows:
        for k in r:
            if k not in columns:
                columns.append(k)
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for r in rows:
        writer.writerow({k: _csv_value(r.get(k)) for k in columns})
    atomic_write_text(path, buf.getvalue())


def _csv_value(v):
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return ""
    return v
