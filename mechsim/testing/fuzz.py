"""Bad-input fuzzing: every public entry point must reject bad values with a typed, named error.

A library that never returns a wrong answer must also never *accept* a wrong question.  For a call that
works, ``f(**valid)``, and one of its arguments ``x``, each kind of bad value for ``x`` must make the call
raise a :class:`~mechsim.errors.MechsimError` subclass whose message names ``x``: not a bare ``ValueError``,
``IndexError`` or ``AttributeError`` from deep inside numpy, not a silently clipped or truncated answer, and
not a NaN.

Kinds (:data:`KINDS`), each derived from the valid value so that only one thing is wrong at a time:

``none``      ``None``;
``type``      a value of an unrelated type (a string for a number or an array, an ``object()`` for a model);
``nan``       NaN (for an array: one entry replaced by NaN);
``inf``       +infinity (for an array: one entry);
``negative``  a negative number (for an array: one entry made negative) — only for arguments that must be
              non-negative;
``fraction``  a non-integral number where an integer is expected (``2.5``; one entry of an integer array);
``shape``     an array with its last axis one element shorter (or longer, if it has one element): for arrays
              whose size must agree with other arguments;
``ndim``      an array with an extra leading axis;
``dtype``     an array of strings, of complex numbers, or of objects of the same shape;
``empty``     an array with a zero-length first axis (or an empty sequence);
``huge``      a size so large that allocating for it would exhaust memory (``10**12``), which must be
              refused *before* allocating.

:func:`bad_values` lists the variants of one kind; :func:`bad_inputs` is a hypothesis strategy drawing
``(argument, kind, value)`` triples; :func:`assert_rejects` runs the call and checks the error.  The test
suite's ``tests/test_fuzz_inputs.py`` drives every public constructor, solver and environment this way;
users can do the same for their own mechanisms.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from numbers import Integral, Real
from typing import Any

import numpy as np
from hypothesis import strategies as st

from mechsim.errors import MechsimError

__all__ = ["KINDS", "HUGE", "bad_values", "bad_inputs", "assert_rejects"]

KINDS = ("none", "type", "nan", "inf", "negative", "fraction", "shape", "ndim", "dtype", "empty", "huge")

#: A size that no machine can allocate for (a dense array of this many float64 entries is 8 TB).
HUGE = 10**12


def _is_array(value) -> bool:
    return isinstance(value, np.ndarray) or (isinstance(value, (list, tuple)) and len(value) > 0
                                             and all(isinstance(v, (Real, list, tuple, np.ndarray)) for v in value))


def _with_entry(arr: np.ndarray, value, index: int | None = None) -> np.ndarray:
    out = np.array(arr, dtype=float if isinstance(value, float) else arr.dtype, copy=True)
    flat = out.reshape(-1)
    flat[(flat.size - 1) if index is None else index % flat.size] = value
    return out


def bad_values(valid, kind: str, index: int | None = None) -> list:
    """The bad variants of kind ``kind`` of the valid argument value ``valid`` ([] if the kind does not apply).

    ``index`` picks the array entry that is spoilt (default: the last one).
    """
    if kind not in KINDS:
        raise ValueError(f"kind: expected one of {KINDS}, found {kind!r}")
    if kind == "none":
        return [None]
    if isinstance(valid, bool):
        return [] if kind != "type" else ["yes"]
    if isinstance(valid, Integral):
        return {"type": ["3"], "nan": [float("nan")], "inf": [float("inf")], "negative": [-1],
                "fraction": [2.5], "huge": [HUGE]}.get(kind, [])
    if isinstance(valid, Real):
        return {"type": ["0.5"], "nan": [float("nan")], "inf": [float("inf")],
                "negative": [-abs(float(valid)) - 1.0]}.get(kind, [])
    if isinstance(valid, str):
        return {"type": [3.0]}.get(kind, [])
    if _is_array(valid):
        arr = np.asarray(valid)
        if arr.size == 0:
            return []
        if kind == "type":
            return ["an array"]
        if kind == "nan":
            return [_with_entry(arr, float("nan"), index)]
        if kind == "inf":
            return [_with_entry(arr, float("inf"), index)]
        if kind == "negative":
            return [_with_entry(arr, -1.0 - float(np.abs(arr).max()), index)]
        if kind == "fraction":
            return [_with_entry(arr, 0.5, index)] if arr.dtype.kind in "iu" else []
        if kind == "shape":
            if arr.ndim == 0:
                return []
            shorter = arr[(slice(None),) * (arr.ndim - 1) + (slice(0, max(arr.shape[-1] - 1, 0)),)] \
                if arr.shape[-1] > 1 else np.concatenate([arr, arr], axis=-1)
            return [shorter]
        if kind == "ndim":
            return [arr[None, ...]]
        if kind == "dtype":
            return [arr.astype(str), arr.astype(complex) + 1j, np.full(arr.shape, object(), dtype=object)]
        if kind == "empty":
            return [arr[:0]]
        return []
    # Models, mechanisms, judges, envs: anything of the wrong type.
    return {"type": [object(), "a model"]}.get(kind, [])


@st.composite
def bad_inputs(draw, valid: Mapping[str, Any], kinds: Mapping[str, Sequence[str]]):
    """Strategy for ``(argument, kind, value)``: one argument of ``valid`` replaced by a bad value.

    ``kinds`` maps each argument to the kinds that must be rejected for it (those that apply to its value).
    """
    options = [(arg, kind) for arg, ks in kinds.items() for kind in ks]
    arg, kind = draw(st.sampled_from(options))
    value = valid[arg]
    size = np.asarray(value).size if _is_array(value) else 1
    index = draw(st.integers(0, max(size - 1, 0)))
    variants = bad_values(value, kind, index)
    if not variants:
        raise ValueError(f"kind {kind!r} does not apply to argument {arg!r} (value {value!r})")
    return arg, kind, draw(st.sampled_from(variants))


def assert_rejects(call: Callable[..., Any], kwargs: Mapping[str, Any], argument: str,
                   names: Sequence[str] = ()) -> MechsimError:
    """Assert that ``call(**kwargs)`` raises a :class:`MechsimError` whose message names ``argument``.

    ``names`` are other spellings the message may use instead (e.g. ``"rankings"`` for ``profile``).
    Returns the error.
    """
    try:
        result = call(**kwargs)
    except MechsimError as exc:
        message = str(exc)
        if not any(n in message for n in (argument, *names)):
            raise AssertionError(f"{getattr(call, '__qualname__', call)}: the error for a bad {argument!r} does "
                                 f"not name it: {type(exc).__name__}: {message}") from exc
        return exc
    except Exception as exc:  # noqa: BLE001 - the point is to report any untyped error
        raise AssertionError(f"{getattr(call, '__qualname__', call)}: a bad {argument!r} gave an untyped "
                             f"{type(exc).__name__}: {exc}") from exc
    raise AssertionError(f"{getattr(call, '__qualname__', call)}: a bad {argument!r} was accepted "
                         f"(returned {type(result).__name__})")
