"""Seeds and reset masks of the batched environments (one copy of each rule, shared by every vector env).

``reset(seed=s)`` seeds copy ``c`` with ``s + c`` (as Gymnasium's ``SyncVectorEnv`` and SuperSuit seed their
sub-environments), and ``reset(options={"reset_mask": m})`` resets only the copies where ``m`` is True.
"""

from __future__ import annotations

import numpy as np

from mechsim.errors import InvalidInstanceError
from mechsim.validation import _describe, _fail

__all__ = ["check_seed", "copy_seeds", "reset_mask"]


def check_seed(name: str, seed) -> int | None:
    """``None`` or a non-negative integer (booleans refused)."""
    if seed is None:
        return None
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise _fail(name, "None or a non-negative integer", _describe(seed))
    return int(seed)


def copy_seeds(seed, n: int) -> list[int | None]:
    """The seed of each of ``n`` copies: ``seed + c`` for an int, the entries of a sequence of ``n``, or Nones."""
    if seed is None or isinstance(seed, (int, np.integer)) and not isinstance(seed, (bool, np.bool_)):
        s = check_seed("seed", seed)
        return [None] * n if s is None else [s + c for c in range(n)]
    if isinstance(seed, (list, tuple)) and len(seed) == n:
        return [check_seed("seed", s) for s in seed]
    raise _fail("seed", f"None, a non-negative integer or a sequence of {n} of them", _describe(seed))


def reset_mask(options, n: int, started: bool) -> np.ndarray:
    """The copies a ``reset(options=...)`` resets: all, or ``options["reset_mask"]`` (a bool array ``(n,)``)."""
    if options is not None and not isinstance(options, dict):
        raise _fail("options", "None or a dict", _describe(options))
    if not options or "reset_mask" not in options:
        return np.ones(n, dtype=bool)
    mask = options["reset_mask"]
    if not isinstance(mask, np.ndarray) or mask.dtype != np.bool_ or mask.shape != (n,) or not mask.any():
        raise _fail("reset_mask", f"a boolean array of shape ({n},) with at least one True", _describe(mask))
    if not started and not mask.all():
        raise InvalidInstanceError(f"reset_mask: the first reset must reset every copy, found {int(mask.sum())} "
                                   f"of {n}", argument="reset_mask")
    return mask.copy()
