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
import os
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["Scenario", "Report", "atomic_write_bytes", "atomic_write_text", "to_jsonable"]


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


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see either the old file or the whole new one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
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
        """Write ``rows`` (list of flat dicts) to ``<name>.csv`` and keep them for ``results.json``."""
        rows = [to_jsonable(dict(r)) for r in rows]
        columns: list[str] = []
        for r in rows:
            for k in r:
                if k not in columns:
                    columns.append(k)
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        for r in rows:
            writer.writerow({k: _csv_cell(r.get(k)) for k in columns})
        path = self.outdir / f"{name}.csv"
        atomic_write_text(path, buf.getvalue())
        self.tables[name] = rows
        return path

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


def _csv_cell(v):
    if isinstance(v, (list, dict)):
        return json.dumps(v)
    return v
