"""Read and write PrefLib ordinal election files: ``.soc``, ``.soi``, ``.toc`` and ``.toi``.

PrefLib (Mattei and Walsh, *PrefLib: A Library of Preference Data*, ADT 2013) stores an election as distinct
orders with multiplicities.  Its four ordinal formats are

========  ==============================================  =====================================
format    orders                                          example line (multiplicity: order)
========  ==============================================  =====================================
``soc``   strict and complete                             ``3: 2,1,4,3``
``soi``   strict, possibly incomplete (a top segment)     ``2: 2,1``
``toc``   complete, with ties (``{...}`` = indifferent)   ``1: {2,1},4,3``
``toi``   possibly incomplete, with ties                  ``1: 2,{1,4}``
========  ==============================================  =====================================

Parsing and writing go through ``preflibtools`` (the PrefLib maintainers' library).  PrefLib numbers
alternatives from 1; mechsim items are ``0..m-1`` (item ``c`` is alternative ``c + 1``).

**How orders become mechsim rankings.**  mechsim's rankings are strict and complete (a permutation per
voter), so every order read is kept as it is in :attr:`PreflibProfile.orders` and *completed* into a
ranking in :attr:`PreflibProfile.rankings` (one row per distinct order, its multiplicity as the row's
weight) by two documented rules, each refused by default:

* ``incomplete="bottom"``: the items an order does not rank are appended below the ranked ones, in
  increasing index order.  (Their order among themselves is arbitrary and does affect positional scores;
  :attr:`PreflibProfile.completed` marks the rows so completed.)  ``incomplete="error"`` (default) refuses.
* ``ties="index"``: the items of an indifference class are placed in increasing index order.
  (:attr:`PreflibProfile.tied` marks the rows whose ties were broken.)  ``ties="error"`` (default) refuses.

So a ``.soc`` file always reads, and ``.soi``/``.toc``/``.toi`` files read when the completion is asked for.
Writing a :class:`PreflibProfile` writes its original orders, so ``read -> write -> read`` returns the same
orders, multiplicities, names and title in every format; writing a ranking array writes strict complete
orders (valid in every format, since ``soc`` is a special case of the other three).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mechsim.committees._checks import check_string
from mechsim.committees.rankings import check_rankings, check_weights
from mechsim.errors import InvalidInstanceError
from mechsim.validation import _describe, check_choice, check_integer

__all__ = ["FORMATS", "PreflibProfile", "read_preflib", "write_preflib"]

#: The PrefLib ordinal formats: ``(strict, complete)`` orders each holds.
FORMATS = {"soc": (True, True), "soi": (True, False), "toc": (False, True), "toi": (False, False)}


def _fail(name: str, message: str) -> InvalidInstanceError:
    return InvalidInstanceError(f"{name}: {message}", argument=name)


def _kind(order, m: int) -> tuple[bool, bool]:
    """``(strict, complete)`` of one order (a tuple of indifference classes)."""
    return all(len(cls) == 1 for cls in order), sum(len(cls) for cls in order) == m


def _data_type(orders, m: int) -> str:
    """The smallest PrefLib format that holds every order."""
    kinds = [_kind(o, m) for o in orders]
    strict = all(s for s, _ in kinds)
    complete = all(c for _, c in kinds)
    return {(True, True): "soc", (True, False): "soi", (False, True): "toc", (False, False): "toi"}[(strict, complete)]


def _check_orders(name: str, orders, m: int) -> tuple:
    """Orders as a tuple of tuples of tuples of items ``0..m-1``, each item at most once per order."""
    if isinstance(orders, (str, bytes)) or not isinstance(orders, Sequence):
        raise _fail(name, f"expected a sequence of orders, found {_describe(orders)}")
    out = []
    for v, order in enumerate(orders):
        if isinstance(order, (str, bytes)) or not isinstance(order, (Sequence, np.ndarray)):
            raise _fail(name, f"expected order {v} to be a sequence of items or of tied groups, found {order!r}")
        classes = []
        for cls in order:
            members = tuple(cls) if isinstance(cls, (tuple, list, np.ndarray)) else (cls,)
            if not members:
                raise _fail(name, f"expected non-empty indifference classes, found an empty one in order {v}")
            for c in members:
                if isinstance(c, bool) or not isinstance(c, (int, np.integer)) or not 0 <= int(c) < m:
                    raise _fail(name, f"expected items in 0..{m - 1}, found {c!r} in order {v}")
            classes.append(tuple(int(c) for c in members))
        flat = [c for cls in classes for c in cls]
        if len(set(flat)) != len(flat):
            raise _fail(name, f"expected every item at most once per order, found order {v} = {classes}")
        out.append(tuple(classes))
    if not out:
        raise _fail(name, "expected at least one order, found none")
    return tuple(out)


def _complete(orders: tuple, m: int, incomplete: str, ties: str, source: str):
    """Rankings ``(u, m)`` from orders by the module's two completion rules; and which rows each changed."""
    rows = np.empty((len(orders), m), dtype=np.int64)
    completed = np.zeros(len(orders), dtype=bool)
    tied = np.zeros(len(orders), dtype=bool)
    for v, order in enumerate(orders):
        strict, full = _kind(order, m)
        if not strict:
            if ties == "error":
                cls = next(c for c in order if len(c) > 1)
                raise _fail("ties", f"order {v} of {source} ties alternatives {[c + 1 for c in cls]} (PrefLib "
                                    "numbering), and mechsim's rankings are strict: pass ties='index' to break "
                                    "ties by increasing item index")
            tied[v] = True
        items = [c for cls in order for c in sorted(cls)]
        if not full:
            if incomplete == "error":
                raise _fail("incomplete", f"order {v} of {source} ranks {len(items)} of {m} alternatives: pass "
                                          "incomplete='bottom' to complete it")
            ranked = set(items)
            items += [c for c in range(m) if c not in ranked]
            completed[v] = True
        rows[v] = items
    return rows, completed, tied


@dataclass(frozen=True, eq=False)
class PreflibProfile:
    """A profile in PrefLib's terms: distinct orders with multiplicities, and their completed rankings.

    Attributes
    ----------
    rankings : ndarray of int64, shape (u, m)
        One strict complete ranking per distinct order (completed as the module docstring says), best
        first, items ``0..m-1``.
    weights : ndarray, shape (u,)
        Multiplicity of every order (non-negative; integers for a file).
    names : list of str
        Name of every item (``names[c]`` for item ``c``); default ``"Alternative c+1"``.
    data_type : str
        ``"soc"``, ``"soi"``, ``"toc"`` or ``"toi"``: the format the orders fit (the file's, when read).
    completed : ndarray of bool, shape (u,)
        Which orders were incomplete and completed at the bottom.
    title : str
    orders : tuple, optional
        The orders as given (0-based items): per order a tuple of indifference classes, each a tuple of
        items, best class first.  Default: the strict complete orders of ``rankings``.
    tied : ndarray of bool, shape (u,), optional
        Which orders had ties that were broken by index.
    """

    rankings: np.ndarray
    weights: np.ndarray
    names: list | None = None
    data_type: str = "soc"
    completed: np.ndarray | None = None
    title: str = ""
    orders: tuple | None = None
    tied: np.ndarray | None = None

    def __post_init__(self):
        r = check_rankings(self.rankings)
        u, m = r.shape
        object.__setattr__(self, "rankings", r)
        object.__setattr__(self, "weights", check_weights(self.weights, u))
        object.__setattr__(self, "names", _check_names(self.names, m))
        check_choice("data_type", self.data_type, list(FORMATS))
        object.__setattr__(self, "title", _check_line("title", self.title))
        orders = (tuple(tuple((int(c),) for c in row) for row in r) if self.orders is None
                  else _check_orders("orders", self.orders, m))
        if len(orders) != u:
            raise _fail("orders", f"expected one order per ranking ({u}), found {len(orders)}")
        if not _fits(orders, m, self.data_type):
            raise _fail("data_type", f"the orders need the {_data_type(orders, m)!r} format, found "
                                     f"{self.data_type!r}")
        object.__setattr__(self, "orders", orders)
        for attr in ("completed", "tied"):
            value = getattr(self, attr)
            flags = np.zeros(u, dtype=bool) if value is None else np.asarray(value)
            if flags.shape != (u,) or flags.dtype.kind != "b":
                raise _fail(attr, f"expected a boolean array of shape ({u},), found {_describe(value)}")
            object.__setattr__(self, attr, flags)

    @classmethod
    def from_orders(cls, orders, n_items: int, weights=None, names=None, *, incomplete: str = "bottom",
                    ties: str = "index", title: str = "") -> PreflibProfile:
        """A profile from orders (0-based items; a tuple or list ``(a, b)`` within an order is a tie).

        ``[[2, (0, 1)], [1, 0]]`` over 3 items: one order ranks 2 above the tied 0 and 1; the other ranks
        1 above 0 and leaves 2 unranked.  The completion rules default to ``"bottom"`` and ``"index"``.
        """
        m = check_integer("n_items", n_items, minimum=1)
        check_choice("incomplete", incomplete, ["error", "bottom"])
        check_choice("ties", ties, ["error", "index"])
        checked = _check_orders("orders", orders, m)
        rows, completed, tied = _complete(checked, m, incomplete, ties, "orders")
        return cls(rows, check_weights(weights, len(checked)), names, _data_type(checked, m), completed, title,
                   checked, tied)

    @property
    def n_voters(self) -> float:
        """Number of voters (the total multiplicity)."""
        return float(self.weights.sum())

    def voters(self) -> np.ndarray:
        """One ranking per voter: every row of :attr:`rankings` repeated by its (integer) multiplicity."""
        w = self.weights
        if np.any(w != np.round(w)):
            raise _fail("weights", "expected integer multiplicities to list one ranking per voter, found "
                                   f"{w[np.flatnonzero(w != np.round(w))[0]]}")
        return np.repeat(self.rankings, w.astype(np.int64), axis=0)


def _fits(orders, m: int, data_type: str) -> bool:
    strict, complete = FORMATS[data_type]
    return all((s or not strict) and (c or not complete) for s, c in (_kind(o, m) for o in orders))


def _check_line(name: str, value) -> str:
    check_string(name, value)
    if "\n" in value or "\r" in value:
        raise _fail(name, f"expected one line, found {value!r}")
    return value


def _check_names(names, m: int) -> list:
    if names is None:
        return [f"Alternative {c + 1}" for c in range(m)]
    if isinstance(names, (str, bytes)) or not isinstance(names, (Sequence, np.ndarray)):
        raise _fail("names", f"expected a sequence of {m} strings, found {_describe(names)}")
    if len(names) != m:
        raise _fail("names", f"expected {m} names, found {len(names)}")
    return [_check_line("names", str(n) if isinstance(n, (np.str_, int, np.integer)) else n) for n in names]


def _instance_cls():
    try:
        from preflibtools.instances import OrdinalInstance
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("reading PrefLib files needs the 'preflibtools' package "
                          "(pip install preflibtools)") from exc
    return OrdinalInstance


def _check_path(path) -> Path:
    if not isinstance(path, (str, os.PathLike)):
        raise _fail("path", f"expected a file path (str or os.PathLike), found {_describe(path)}")
    return Path(path)


def read_preflib(path, incomplete: str = "error", ties: str = "error") -> PreflibProfile:
    """Read a PrefLib ordinal file (``.soc``, ``.soi``, ``.toc`` or ``.toi``).

    Parameters
    ----------
    path : str or os.PathLike
    incomplete : {"error", "bottom"}
        What to do with orders that do not rank every item (see the module docstring).
    ties : {"error", "index"}
        What to do with orders that tie items (see the module docstring).

    Returns
    -------
    PreflibProfile
        ``orders`` as in the file, ``rankings`` completed.

    Raises
    ------
    InvalidInstanceError
        Unsupported extension, a missing or malformed file (orders that do not fit the file's format,
        alternatives out of range or repeated), or an order needing a completion that was not asked for.
    """
    path = _check_path(path)
    check_choice("incomplete", incomplete, ["error", "bottom"])
    check_choice("ties", ties, ["error", "index"])
    ext = path.suffix.lstrip(".").lower()
    if ext not in FORMATS:
        raise _fail("path", f"expected a PrefLib ordinal file (.soc, .soi, .toc or .toi), found {path.name!r}")
    if not path.is_file():
        raise _fail("path", f"expected an existing file, found {str(path)!r}")
    inst = _instance_cls()()
    try:
        inst.parse_file(str(path))
    except (ValueError, TypeError, IndexError, KeyError, UnicodeDecodeError) as exc:
        raise _fail("path", f"could not parse {path.name} as a PrefLib file ({type(exc).__name__}: {exc})") from None
    m = int(inst.num_alternatives)
    if m < 1:
        raise _fail("path", f"expected '# NUMBER ALTERNATIVES: m' with m >= 1 in {path.name}, found {m}")
    try:
        orders = _check_orders("path", [[tuple(c - 1 for c in cls) for cls in o] for o in inst.orders], m)
    except InvalidInstanceError as exc:
        raise _fail("path", f"{path.name}: {str(exc).removeprefix('path: ')} (PrefLib alternatives are 1..{m})") \
            from None
    if not _fits(orders, m, ext):
        raise _fail("path", f"{path.name} declares the {ext!r} format, but its orders need "
                            f"{_data_type(orders, m)!r}")
    weights = np.array([inst.multiplicity[o] for o in inst.orders], dtype=float)
    if np.any(weights < 0):
        raise _fail("path", f"expected non-negative multiplicities in {path.name}, found {weights.min():g}")
    rows, completed, tied = _complete(orders, m, incomplete, ties, path.name)
    names = [str(inst.alternatives_name.get(c + 1, f"Alternative {c + 1}")) for c in range(m)]
    return PreflibProfile(rows, weights, names, ext, completed, str(getattr(inst, "title", "") or ""), orders, tied)


def write_preflib(path, rankings, weights=None, names=None, title: str | None = None) -> Path:
    """Write a profile as a PrefLib ordinal file; returns the path written.

    Parameters
    ----------
    path : str or os.PathLike
        Its extension (``.soc``, ``.soi``, ``.toc``, ``.toi``) is the format; without one, the profile's
        ``data_type`` (``.soc`` for a ranking array) is appended.
    rankings : array_like of int, shape (n, m), or PreflibProfile
        Strict complete rankings, or a profile whose original ``orders`` (with ties, incomplete) are written.
    weights : array_like, shape (n,), optional
        Non-negative integer multiplicities (default: all ones, or the profile's); identical orders are
        merged, zero-weight ones dropped.
    names, title : optional
        Item names and the title (default: the profile's, or ``"Alternative c+1"`` and ``""``).

    Raises
    ------
    InvalidInstanceError
        An extension that is not a PrefLib ordinal format, orders that do not fit it (ties in a ``.soc`` or
        ``.soi`` file, incomplete orders in a ``.soc`` or ``.toc`` file), non-integer multiplicities.
    """
    path = _check_path(path)
    if isinstance(rankings, PreflibProfile):
        profile = rankings
        orders, m = profile.orders, profile.rankings.shape[1]
        w = profile.weights if weights is None else check_weights(weights, len(orders))
        names = profile.names if names is None else names
        title = profile.title if title is None else title
        default_type = profile.data_type
    else:
        r = check_rankings(rankings)
        m = r.shape[1]
        orders = tuple(tuple((int(c),) for c in row) for row in r)
        w = check_weights(weights, r.shape[0])
        default_type = "soc"
    names = _check_names(names, m)
    title = _check_line("title", "" if title is None else title)
    if np.any(w != np.round(w)):
        raise _fail("weights", f"expected integer multiplicities for a PrefLib file, found "
                               f"{w[np.flatnonzero(w != np.round(w))[0]]}")
    ext = path.suffix.lstrip(".").lower()
    if not path.suffix:
        ext = default_type
        path = path.with_suffix("." + ext)
    elif ext not in FORMATS:
        raise _fail("path", f"expected a .soc, .soi, .toc or .toi file name, found {path.name!r}")
    if not _fits(orders, m, ext):
        raise _fail("path", f"a .{ext} file holds {'strict' if FORMATS[ext][0] else 'weak'}, "
                            f"{'complete' if FORMATS[ext][1] else 'possibly incomplete'} orders, but these need "
                            f"the {_data_type(orders, m)!r} format")
    merged: dict = {}
    for order, mult in zip(orders, w):
        if mult > 0:
            key = tuple(tuple(c + 1 for c in cls) for cls in order)
            merged[key] = merged.get(key, 0) + int(mult)
    if not merged:
        raise _fail("weights", "expected at least one order with a positive multiplicity, found none")
    inst = _instance_cls()()
    inst.title = title
    inst.data_type = ext
    for c in range(m):
        inst.alternatives_name[c + 1] = names[c]
    inst.num_alternatives = m
    for order, mult in merged.items():
        inst.orders.append(order)
        inst.multiplicity[order] = mult
    inst.num_unique_orders = len(merged)
    inst.num_voters = sum(merged.values())
    try:
        inst.write(str(path))
    except OSError as exc:
        raise _fail("path", f"could not write {str(path)!r} ({exc.strerror or exc})") from None
    return path
