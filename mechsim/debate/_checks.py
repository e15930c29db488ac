"""Argument checks shared by the debate domain, its solver, its debaters and its environments.

Each helper names the argument it checks and raises :class:`~mechsim.errors.InvalidInstanceError` with what
was expected and what was found (the conventions of :mod:`mechsim.validation`, which these build on).
"""

from __future__ import annotations

import numbers

import numpy as np

from mechsim.errors import InvalidInstanceError
from mechsim.validation import check_array

__all__ = ["check_judge", "check_judge_size", "check_index", "check_index_array", "check_mask", "check_flag",
           "check_features", "describe"]


def describe(value) -> str:
    """A short description of ``value`` for an error message."""
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    if value is None:
        return "None"
    return f"{type(value).__name__} {value!r}"[:120]


def check_judge(name: str, judge):
    """A judge: any object with a callable ``score(features, mask, decisions)``."""
    if not callable(getattr(judge, "score", None)):
        raise InvalidInstanceError(f"{name}: expected a judge (an object with a score(features, mask, decisions) "
                                   f"method), found {describe(judge)}", argument=name)
    return judge


def _declared(judge, attr):
    """``judge.<attr>`` if the judge declares it as an integer, else None."""
    v = getattr(judge, attr, None)
    return int(v) if isinstance(v, numbers.Integral) and not isinstance(v, bool) else None


def check_judge_size(judge, n_features: int | None = None, decisions=None, *, features_name: str = "features",
                     decisions_name: str = "decisions") -> None:
    """Check features and decisions against the sizes a judge declares (``n_features``, ``n_decisions``)."""
    nf = _declared(judge, "n_features")
    if n_features is not None and nf is not None and n_features != nf:
        raise InvalidInstanceError(f"{features_name}: expected {nf} features (the judge's n_features), found "
                                   f"{n_features}", argument=features_name)
    nd = _declared(judge, "n_decisions")
    if decisions is not None and nd is not None:
        d = np.asarray(decisions)
        if d.size and (d.min() < 0 or d.max() >= nd):
            raise InvalidInstanceError(f"{decisions_name}: expected decisions in [0, {nd}) (the judge's "
                                       f"n_decisions), found {d.max() if d.max() >= nd else d.min()}",
                                       argument=decisions_name)


def check_index(name: str, value, *, minimum: int = 0, maximum: int | None = None) -> int:
    """An integer index (not a bool) in ``[minimum, maximum]``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise InvalidInstanceError(f"{name}: expected an integer, found {describe(value)}", argument=name)
    v = int(value)
    if v < minimum or (maximum is not None and v > maximum):
        bound = f"in [{minimum}, {maximum}]" if maximum is not None else f">= {minimum}"
        raise InvalidInstanceError(f"{name}: expected an integer {bound}, found {v}", argument=name)
    return v


def check_index_array(name: str, value, *, shape=None, ndim: int | None = None, low: int = 0,
                      high: int | None = None, what: str = "integers") -> np.ndarray:
    """An array of integer indices (integer dtype: no floats, NaN, strings or objects) in ``[low, high)``.

    ``shape`` may contain ``None`` for a free axis.
    """
    if value is None:
        raise InvalidInstanceError(f"{name}: expected an array of {what}, found None", argument=name)
    try:
        arr = value if isinstance(value, np.ndarray) else np.asarray(value)
    except (TypeError, ValueError) as exc:
        raise InvalidInstanceError(f"{name}: expected an array of {what}, found {describe(value)} ({exc})",
                                   argument=name) from None
    if arr.size and arr.dtype.kind not in "iu":
        raise InvalidInstanceError(f"{name}: expected an array of {what} (integer dtype), found "
                                   f"{describe(arr)}", argument=name)
    if ndim is not None and arr.ndim != ndim:
        raise InvalidInstanceError(f"{name}: expected a {ndim}-dimensional array of {what}, found shape "
                                   f"{arr.shape}", argument=name)
    if shape is not None:
        shape = tuple(shape)
        if arr.ndim != len(shape) or any(e is not None and e != s for e, s in zip(shape, arr.shape)):
            shown = "(" + ", ".join("*" if e is None else str(e) for e in shape) + (",)" if len(shape) == 1 else ")")
            raise InvalidInstanceError(f"{name}: expected {what} of shape {shown}, found shape {arr.shape}",
                                       argument=name)
    arr = arr.astype(np.int64, copy=False)
    if arr.size and (arr.min() < low or (high is not None and arr.max() >= high)):
        bad = arr[(arr < low) | ((arr >= high) if high is not None else False)].ravel()[0]
        bound = f"[{low}, {high})" if high is not None else f">= {low}"
        raise InvalidInstanceError(f"{name}: expected {what} in {bound}, found {bad}", argument=name)
    return arr


def check_mask(name: str, value, *, shape=None, ndim: int | None = None) -> np.ndarray:
    """A boolean array (bool, or integers 0/1), converted to bool; ``shape`` may contain ``None``."""
    if value is None:
        raise InvalidInstanceError(f"{name}: expected a boolean array, found None", argument=name)
    try:
        arr = value if isinstance(value, np.ndarray) else np.asarray(value)
    except (TypeError, ValueError) as exc:
        raise InvalidInstanceError(f"{name}: expected a boolean array, found {describe(value)} ({exc})",
                                   argument=name) from None
    if arr.dtype != bool:
        if arr.size and (arr.dtype.kind not in "iu" or not np.isin(arr, (0, 1)).all()):
            raise InvalidInstanceError(f"{name}: expected a boolean (or 0/1 integer) array, found "
                                       f"{describe(arr)}", argument=name)
        arr = arr.astype(bool)
    if ndim is not None and arr.ndim != ndim:
        raise InvalidInstanceError(f"{name}: expected a {ndim}-dimensional boolean array, found shape {arr.shape}",
                                   argument=name)
    if shape is not None:
        shape = tuple(shape)
        if arr.ndim != len(shape) or any(e is not None and e != s for e, s in zip(shape, arr.shape)):
            shown = "(" + ", ".join("*" if e is None else str(e) for e in shape) + (",)" if len(shape) == 1 else ")")
            raise InvalidInstanceError(f"{name}: expected a boolean array of shape {shown}, found shape "
                                       f"{arr.shape}", argument=name)
    return arr


def check_flag(name: str, value) -> bool:
    """A boolean (``bool`` or ``numpy.bool_``; no strings or numbers standing in for one)."""
    if not isinstance(value, (bool, np.bool_)):
        raise InvalidInstanceError(f"{name}: expected True or False, found {describe(value)}", argument=name)
    return bool(value)


def check_features(name: str, value, *, ndim: int, n_features: int | None = None) -> np.ndarray:
    """A finite float array of states with ``n_features`` columns (last axis)."""
    arr = check_array(name, value, ndim=ndim)
    if n_features is not None and arr.shape[-1] != n_features:
        raise InvalidInstanceError(f"{name}: expected {n_features} features (last axis), found shape {arr.shape}",
                                   argument=name)
    return arr
