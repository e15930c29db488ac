"""Validation helpers that turn bad input into clear errors.

Every helper takes the *name* of the argument it checks and raises
:class:`~mechsim.errors.InvalidInstanceError` (a ``ValueError``) whose message names the argument, what was
expected and what was found, e.g.::

    prior: expected a probability vector (non-negative, summing to 1 within 1e-09), found sum 0.9

They return the validated value converted to a numpy array (or number) so that callers can write
``prior = check_probability_vector("prior", prior)``.  Nothing is clipped or renormalised silently.
"""

from __future__ import annotations

import numbers
import os
import re
from collections.abc import Sequence

import numpy as np

from mechsim.errors import InvalidInstanceError

__all__ = [
    "PROBABILITY_ATOL",
    "as_generator",
    "check_array",
    "check_shape",
    "check_finite",
    "check_in_range",
    "check_probability_vector",
    "check_stochastic",
    "check_positive",
    "check_nonnegative",
    "check_integer",
    "check_choice",
    "check_allocation",
    "memory_limit",
    "set_memory_limit",
    "MEMORY_LIMIT_ENV",
]

#: Tolerance on ``sum == 1`` used throughout mechsim.
PROBABILITY_ATOL = 1e-9


def _fail(name: str, expected: str, found: str) -> InvalidInstanceError:
    return InvalidInstanceError(f"{name}: expected {expected}, found {found}", argument=name)


def _describe(value) -> str:
    if isinstance(value, np.ndarray):
        return f"array of shape {value.shape} and dtype {value.dtype}"
    return f"{type(value).__name__} {value!r}"[:200]


def as_generator(seed=None) -> np.random.Generator:
    """Return a ``numpy.random.Generator`` from a seed-like value.

    Parameters
    ----------
    seed : None, int, numpy.random.SeedSequence or numpy.random.Generator
        ``None`` gives fresh OS entropy; a Generator is returned unchanged (shared state), anything else
        seeds a new PCG64 generator.
    """
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None or isinstance(seed, (np.random.SeedSequence, numbers.Integral)):
        if isinstance(seed, numbers.Integral) and not isinstance(seed, bool) and seed < 0:
            raise _fail("seed", "a non-negative integer", str(seed))
        if isinstance(seed, bool):
            raise _fail("seed", "an integer, SeedSequence, Generator or None", "bool")
        return np.random.default_rng(seed)
    raise _fail("seed", "an integer, SeedSequence, Generator or None", _describe(seed))


def check_array(name: str, value, *, ndim: int | None = None, shape: Sequence[int | None] | None = None,
                dtype=float, finite: bool = True) -> np.ndarray:
    """Convert ``value`` to an array and check its dimension, shape and finiteness.

    ``shape`` may contain ``None`` for an axis of any length.
    """
    target = np.dtype(dtype)
    if value is None:
        raise _fail(name, f"an array convertible to {target.name}", "None")
    if target.kind in "biuf":
        # np.asarray would turn "0.5" into 0.5 and drop imaginary parts: refuse both instead.
        try:
            source = value if isinstance(value, np.ndarray) else np.asarray(value)
        except (TypeError, ValueError) as exc:
            raise _fail(name, f"an array convertible to {target.name}", f"{_describe(value)} ({exc})") from None
        if source.dtype.kind in "USOVMm" or (source.dtype.kind == "c" and target.kind != "c"):
            raise _fail(name, f"an array convertible to {target.name} (real numbers: no strings, complex "
                              "numbers or objects)",
                        f"{_describe(value)}" if isinstance(value, np.ndarray) else
                        f"an array of dtype {source.dtype} ({_describe(value)})")
    try:
        arr = np.asarray(value, dtype=dtype)
    except (TypeError, ValueError, OverflowError) as exc:
        raise _fail(name, f"an array convertible to {target.name}", f"{_describe(value)} ({exc})") from None
    if ndim is not None and arr.ndim != ndim:
        raise _fail(name, f"a {ndim}-dimensional array", f"{arr.ndim} dimensions (shape {arr.shape})")
    if shape is not None:
        check_shape(name, arr, shape)
    if finite and arr.dtype.kind in "fc":
        check_finite(name, arr)
    return arr


def check_shape(name: str, arr: np.ndarray, expected: Sequence[int | None]) -> np.ndarray:
    """Check ``arr.shape`` against ``expected`` (``None`` matches any length)."""
    expected = tuple(expected)
    ok = arr.ndim == len(expected) and all(e is None or e == s for e, s in zip(expected, arr.shape))
    if not ok:
        shown = "(" + ", ".join("*" if e is None else str(e) for e in expected) + (",)" if len(expected) == 1 else ")")
        raise _fail(name, f"shape {shown}", f"shape {arr.shape}")
    return arr


def check_finite(name: str, arr) -> np.ndarray:
    """Check that every entry is finite (no NaN, no infinity)."""
    arr = np.asarray(arr)
    if arr.dtype.kind in "fc" and not np.all(np.isfinite(arr)):
        bad = np.argwhere(~np.isfinite(arr))[0]
        where = tuple(int(i) for i in bad)
        raise _fail(name, "finite values", f"{arr[where] if where else arr.item()} at index {where}")
    return arr


def check_in_range(name: str, arr, low: float | None = None, high: float | None = None,
                   atol: float = 0.0) -> np.ndarray:
    """Check ``low - atol <= arr <= high + atol`` elementwise."""
    arr = np.asarray(arr, dtype=float)
    check_finite(name, arr)
    if arr.size == 0:
        return arr
    if low is not None and arr.min() < low - atol:
        where = tuple(int(i) for i in np.unravel_index(np.argmin(arr), arr.shape))
        raise _fail(name, f"values >= {low}", f"{arr.min():.6g} at index {where}")
    if high is not None and arr.max() > high + atol:
        where = tuple(int(i) for i in np.unravel_index(np.argmax(arr), arr.shape))
        raise _fail(name, f"values <= {high}", f"{arr.max():.6g} at index {where}")
    return arr


def check_probability_vector(name: str, value, *, size: int | None = None,
                             atol: float = PROBABILITY_ATOL) -> np.ndarray:
    """Check a 1-D probability vector: finite, non-negative, summing to one within ``atol``."""
    arr = check_array(name, value, ndim=1, shape=None if size is None else (size,))
    if arr.size == 0:
        raise _fail(name, "a non-empty probability vector", "an empty array")
    if arr.min() < 0:
        raise _fail(name, "non-negative probabilities", f"{arr.min():.6g} at index {int(np.argmin(arr))}")
    total = arr.sum()
    if abs(total - 1.0) > atol:
        raise _fail(name, f"a probability vector summing to 1 within {atol:g}", f"sum {total:.12g}")
    return arr


def check_stochastic(name: str, value, axis: int | Sequence[int] = -1, *, shape=None,
                     atol: float = PROBABILITY_ATOL) -> np.ndarray:
    """Check a stochastic tensor: non-negative and every slice sums to one over ``axis``.

    ``axis`` may be a tuple of axes (e.g. the signal axes of a joint signal law).
    """
    arr = check_array(name, value, shape=shape)
    if arr.size and arr.min() < 0:
        where = tuple(int(i) for i in np.unravel_index(np.argmin(arr), arr.shape))
        raise _fail(name, "non-negative probabilities", f"{arr.min():.6g} at index {where}")
    axes = (axis,) if isinstance(axis, numbers.Integral) else tuple(axis)
    sums = arr.sum(axis=axes)
    dev = np.abs(sums - 1.0)
    if dev.size and dev.max() > atol:
        where = tuple(int(i) for i in np.unravel_index(np.argmax(dev), dev.shape))
        raise _fail(name, f"slices summing to 1 over axes {axes} within {atol:g}",
                    f"sum {np.asarray(sums)[where] if where else float(sums):.12g} at slice {where}")
    return arr


def check_positive(name: str, value) -> float:
    """Check a finite scalar strictly greater than zero."""
    x = _scalar(name, value)
    if not x > 0:
        raise _fail(name, "a positive number", repr(value))
    return x


def check_nonnegative(name: str, value) -> float:
    """Check a finite scalar greater than or equal to zero."""
    x = _scalar(name, value)
    if not x >= 0:
        raise _fail(name, "a non-negative number", repr(value))
    return x


def _scalar(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (numbers.Real, np.floating, np.integer)):
        raise _fail(name, "a real number", _describe(value))
    x = float(value)
    if not np.isfinite(x):
        raise _fail(name, "a finite number", repr(value))
    return x


def check_integer(name: str, value, *, minimum: int | None = None, maximum: int | None = None) -> int:
    """Check an integer (not a bool) within ``[minimum, maximum]``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise _fail(name, "an integer", _describe(value))
    v = int(value)
    if minimum is not None and v < minimum:
        raise _fail(name, f"an integer >= {minimum}", str(v))
    if maximum is not None and v > maximum:
        raise _fail(name, f"an integer <= {maximum}", str(v))
    return v


def check_layer_widths(name: str, value) -> tuple[int, ...]:
    """Check a non-empty tuple / list of positive integer layer widths (an MLP's hidden layers)."""
    if not isinstance(value, (tuple, list)) or not value:
        raise _fail(name, "a non-empty tuple of layer widths", _describe(value))
    return tuple(check_integer(name, w, minimum=1) for w in value)


def check_choice(name: str, value, choices: Sequence) -> object:
    """Check that ``value`` is one of ``choices``."""
    if value not in choices:
        raise _fail(name, "one of " + ", ".join(repr(c) for c in choices), repr(value))
    return value


#: Environment variable that sets :func:`memory_limit` (bytes, or a number with a unit: ``"8GB"``, ``"512MiB"``).
MEMORY_LIMIT_ENV = "MECHSIM_MEMORY_LIMIT"
_MEMORY_LIMIT: int | None = None
_UNITS = {"": 1, "b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12,
          "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}


def _physical_memory() -> int:
    try:
        return int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, ValueError, OSError):  # pragma: no cover - not POSIX
        return 8 * 2**30


def _format_bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if abs(n) < 1024 or unit == "PiB":
            return f"{n:.3g} {unit}"
        n /= 1024
    return f"{n:.3g} EiB"  # pragma: no cover


def set_memory_limit(limit: int | str | None) -> None:
    """Set the largest allocation mechsim attempts (bytes or ``"8GB"``); ``None`` restores the default."""
    global _MEMORY_LIMIT
    _MEMORY_LIMIT = None if limit is None else _parse_limit("limit", limit)


def _parse_limit(name: str, value) -> int:
    if isinstance(value, str):
        match = re.fullmatch(r"\s*([0-9.]+(?:e[0-9]+)?)\s*([a-zA-Z]*)\s*", value)
        if not match or match.group(2).lower() not in _UNITS:
            raise _fail(name, "a byte count such as 4000000000, '8GB' or '512MiB'", repr(value))
        return int(float(match.group(1)) * _UNITS[match.group(2).lower()])
    return check_integer(name, value, minimum=1)


def memory_limit() -> int:
    """The largest single allocation (bytes) that mechsim attempts before refusing with a typed error.

    :func:`set_memory_limit` if called, else the ``MECHSIM_MEMORY_LIMIT`` environment variable, else half of
    this machine's physical memory.
    """
    if _MEMORY_LIMIT is not None:
        return _MEMORY_LIMIT
    env = os.environ.get(MEMORY_LIMIT_ENV)
    if env:
        return _parse_limit(MEMORY_LIMIT_ENV, env)
    return _physical_memory() // 2


def check_allocation(name: str, n_bytes: float, what: str) -> None:
    """Refuse, before allocating, a call whose arrays would need more than :func:`memory_limit` bytes.

    ``name`` is the argument that sets the size, ``what`` says what would be allocated
    (``"a (K,) float64 array of weights"``).
    """
    limit = memory_limit()
    if not n_bytes <= limit:
        raise _fail(name, f"a size whose memory fits the limit of {_format_bytes(limit)} (set "
                          f"{MEMORY_LIMIT_ENV} or mechsim.validation.set_memory_limit to change it)",
                    f"{what} needing an estimated {_format_bytes(n_bytes)}")
