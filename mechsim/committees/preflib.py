"""Read and write PrefLib ordinal election files (``.soc`` complete, ``.soi`` incomplete strict orders).

Parsing and writing go through ``preflibtools`` (the PrefLib maintainers' library).  PrefLib numbers
alternatives from 1; mechsim items are ``0..m-1`` (item ``c`` is alternative ``c + 1``).  A file's
multiplicities become voter weights on its distinct orders.

An ``.soi`` order ranks only some items.  ``incomplete="bottom"`` completes it by appending the unranked
items in increasing index order (so they receive the lowest positions; their order among themselves is
arbitrary and does affect positional scores); ``incomplete="error"`` (default) refuses.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from mechsim.committees.rankings import check_rankings, check_weights, merge_rankings
from mechsim.errors import InvalidInstanceError
from mechsim.validation import check_choice

__all__ = ["PreflibProfile", "read_preflib", "write_preflib"]


@dataclass(frozen=True, eq=False)
class PreflibProfile:
    """A profile read from PrefLib.

    Attributes
    ----------
    rankings : ndarray of int64, shape (u, m)
        Distinct (completed) orders, best first, items ``0..m-1``.
    weights : ndarray, shape (u,)
        Multiplicity of every order.
    names : list of str
        Name of every item (``names[c]`` for item ``c``).
    data_type : str
        ``"soc"`` or ``"soi"``.
    completed : ndarray of bool, shape (u,)
        Which orders were incomplete and completed at the bottom.
    title : str
    """

    rankings: np.ndarray
    weights: np.ndarray
    names: list = field(default_factory=list)
    data_type: str = "soc"
    completed: np.ndarray | None = None
    title: str = ""


def _instance_cls():
    try:
        from preflibtools.instances import OrdinalInstance
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("reading PrefLib files needs the 'preflibtools' package "
                          "(pip install preflibtools)") from exc
    return OrdinalInstance


def read_preflib(path, incomplete: str = "error") -> PreflibProfile:
    """Read a ``.soc`` or ``.soi`` file.

    Parameters
    ----------
    path : str or Path
    incomplete : {"error", "bottom"}
        What to do with orders that do not rank every item.

    Raises
    ------
    InvalidInstanceError
        Unsupported extension, ties in an order, or an incomplete order with ``incomplete="error"``.
    """
    check_choice("incomplete", incomplete, ["error", "bottom"])
    path = Path(path)
    ext = path.suffix.lstrip(".").lower()
    if ext not in ("soc", "soi"):
        raise InvalidInstanceError(f"path: expected a .soc or .soi PrefLib file, found {path.name!r}",
                                   argument="path")
    if not path.is_file():
        raise InvalidInstanceError(f"path: expected an existing file, found {str(path)!r}", argument="path")
    inst = _instance_cls()()
    inst.parse_file(str(path))
    m = int(inst.num_alternatives)
    rows, weights, completed = [], [], []
    for order in inst.orders:
        if any(len(cls) != 1 for cls in order):
            raise InvalidInstanceError(f"path: expected strict orders, found a tie {order} in {path.name}",
                                       argument="path")
        items = [int(cls[0]) - 1 for cls in order]
        if len(items) < m:
            if incomplete == "error":
                raise InvalidInstanceError(
                    f"path: order {[i + 1 for i in items]} ranks {len(items)} of {m} alternatives; pass "
                    "incomplete='bottom' to complete it", argument="path")
            ranked = set(items)
            items += [c for c in range(m) if c not in ranked]
            completed.append(True)
        else:
            completed.append(False)
        rows.append(items)
        weights.append(float(inst.multiplicity[order]))
    rankings = check_rankings(np.asarray(rows, dtype=np.int64).reshape(-1, m), name=f"orders in {path.name}")
    names = [str(inst.alternatives_name.get(c + 1, f"Alternative {c + 1}")) for c in range(m)]
    return PreflibProfile(rankings, np.asarray(weights), names, ext, np.asarray(completed, dtype=bool),
                          str(getattr(inst, "title", "") or ""))


def write_preflib(path, rankings, weights=None, names=None, title: str = "") -> Path:
    """Write a complete profile as a ``.soc`` file (identical rankings merged, weights as multiplicities).

    Weights must be non-negative integers (PrefLib multiplicities); zero-weight rankings are dropped.
    Returns the path written (``.soc`` is appended when ``path`` has no extension).
    """
    r = check_rankings(rankings)
    w = check_weights(weights, r.shape[0])
    if np.any(w != np.round(w)):
        raise InvalidInstanceError("weights: expected integer multiplicities for a PrefLib file, found "
                                   f"{w[np.flatnonzero(w != np.round(w))[0]]}", argument="weights")
    unique, merged = merge_rankings(r, w)
    m = r.shape[1]
    if names is not None and len(names) != m:
        raise InvalidInstanceError(f"names: expected {m} names, found {len(names)}", argument="names")
    inst = _instance_cls()()
    inst.title = title
    inst.data_type = "soc"
    for c in range(m):
        inst.alternatives_name[c + 1] = str(names[c]) if names is not None else f"Alternative {c + 1}"
    inst.num_alternatives = m
    for row, mult in zip(unique, merged):
        if mult <= 0:
            continue
        order = tuple((int(c) + 1,) for c in row)
        inst.orders.append(order)
        inst.multiplicity[order] = int(mult)
        inst.num_unique_orders += 1
        inst.num_voters += int(mult)
    path = Path(path)
    if not path.suffix:
        path = path.with_suffix(".soc")
    inst.write(str(path))
    return path
