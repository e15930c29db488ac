"""Argument checks shared by the committees modules (on top of :mod:`mechsim.validation`).

Group labels are integers: an integer array, or a float array whose entries are integral (``1.0`` is the
label 1).  A non-integral label (``0.5``) is refused, never truncated: labels name groups, and two items
with labels 0.2 and 0.7 are in different groups, which a conversion to int would merge.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable

import numpy as np

from mechsim.errors import InvalidInstanceError
from mechsim.validation import _describe, check_array

__all__ = ["check_bool", "check_callable", "check_index_array", "check_label", "check_labels",
           "check_string", "check_unit"]


def _fail(name: str, expected: str, found: str) -> InvalidInstanceError:
    return InvalidInstanceError(f"{name}: expected {expected}, found {found}", argument=name)


def check_bool(name: str, value) -> bool:
    """A ``bool`` (or numpy bool); anything else, even a truthy one, is refused."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    raise _fail(name, "True or False", _describe(value))


def check_string(name: str, value) -> str:
    """A ``str``."""
    if isinstance(value, str):
        return value
    raise _fail(name, "a string", _describe(value))


def check_callable(name: str, value) -> Callable:
    """A callable (a model, a bias, a rule constructor)."""
    if callable(value):
        return value
    raise _fail(name, "a callable", _describe(value))


def check_unit(name: str, value, *, low: float = 0.0, high: float = 1.0, open_low: bool = False) -> float:
    """A finite real number in ``[low, high]`` (``(low, high]`` with ``open_low``); strings are refused."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Real, np.floating, np.integer)):
        raise _fail(name, "a real number", _describe(value))
    x = float(value)
    if not np.isfinite(x):
        raise _fail(name, "a finite number", repr(value))
    interval = f"{'(' if open_low else '['}{low:g}, {high:g}]"
    if x < low or (open_low and x == low):
        raise _fail(name, f"values {'>' if open_low else '>='} {float(low)} (a number in {interval})", repr(value))
    if x > high:
        raise _fail(name, f"values <= {float(high)} (a number in {interval})", repr(value))
    return x


def _integral(name: str, value, what: str) -> np.ndarray:
    if value is None:
        raise _fail(name, what, "None")
    try:
        raw = value if isinstance(value, np.ndarray) else np.asarray(value)
    except (TypeError, ValueError) as exc:
        raise _fail(name, what, f"{_describe(value)} ({exc})") from None
    if raw.dtype.kind in "iu":
        return raw.astype(np.int64, copy=False)
    if raw.dtype.kind == "b" or raw.dtype.kind not in "f":
        raise _fail(name, what, f"an array of dtype {raw.dtype}" if isinstance(value, np.ndarray)
                    else f"{_describe(value)} (dtype {raw.dtype})")
    arr = check_array(name, raw)              # finite
    bad = np.flatnonzero(arr.reshape(-1) != np.round(arr.reshape(-1)))
    if bad.size:
        raise _fail(name, f"{what} (integral values; non-integral values are refused, not truncated)",
                    f"{arr.reshape(-1)[bad[0]]!r} at flat index {int(bad[0])}")
    if arr.size and np.abs(arr).max() >= 2.0**62:
        raise _fail(name, f"{what} (integers below 2**62 in magnitude)", f"{np.abs(arr).max():g}")
    return arr.astype(np.int64)


def check_labels(name: str, value, n_items: int | None, *, n_items_name: str = "n_items") -> np.ndarray:
    """Group labels, one integer per item: an ``int64`` array of shape ``(n_items,)`` (any length >= 1 if None)."""
    arr = _integral(name, value, "integer group labels, one per item")
    if n_items is None:
        if arr.ndim != 1 or arr.size == 0:
            raise _fail(name, "a non-empty 1-D array of labels, one per item", f"shape {arr.shape}")
        return arr
    if arr.ndim != 1 or arr.shape[0] != n_items:
        raise _fail(name, f"shape ({n_items},): one label per item ({n_items_name}={n_items})", f"shape {arr.shape}")
    return arr


def check_index_array(name: str, value, size: int, *, what: str = "indices", ndim: int = 1) -> np.ndarray:
    """An ``ndim``-dimensional array of integer indices in ``0..size-1`` (no negative index: nothing wraps)."""
    arr = _integral(name, value, f"an array of integer {what}")
    if arr.ndim != ndim:
        raise _fail(name, f"a {ndim}-dimensional array of {what}", f"shape {arr.shape}")
    if arr.size and (arr.min() < 0 or arr.max() >= size):
        bad = arr.min() if arr.min() < 0 else arr.max()
        raise _fail(name, f"{what} in 0..{size - 1}", f"{int(bad)}")
    return arr


def check_label(name: str, value, labels: np.ndarray, *, many: bool = False) -> np.ndarray:
    """One group label (``many``: one or several) that occurs in ``labels``; returned as a 1-D int64 array."""
    if not many and not isinstance(value, (numbers.Real, np.floating, np.integer)) or isinstance(value, bool):
        raise _fail(name, "an integer group label", _describe(value))
    arr = np.atleast_1d(_integral(name, value, "integer group label(s)"))
    if arr.ndim != 1 or arr.size == 0:
        raise _fail(name, "one group label or a non-empty sequence of them", f"shape {arr.shape}")
    missing = arr[~np.isin(arr, labels)]
    if missing.size:
        raise _fail(name, f"group label(s) among {np.unique(labels).tolist()}", f"{missing.tolist()}")
    return arr

