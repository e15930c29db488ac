"""Shared pieces of the no-regret learners: the batch trace, constants and numerical kernels.

The per-round and batch paths of every learner call the same kernels, so that they agree exactly."""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from itertools import accumulate

import numpy as np

from mechsim.validation import (
    check_array,
    check_in_range,
)

__all__ = ["LearnerTrace", "SMALL_K"]


#: Up to this many actions the sequential learners keep their state in Python floats (faster per round
#: than numpy's call overhead); above it they use numpy arrays.
SMALL_K = 32

#: EXP3 with a fixed rate rescales its weights when their sum falls below this (avoids underflow).
_RESCALE_BELOW = 1e-100

_CHUNK = 1 << 15  # rows per chunk in the vectorised Hedge path: bounds memory at ~8 * K * 2**15 bytes



@dataclass(frozen=True)
class LearnerTrace:
    """What a batch ``run`` did, round by round.

    ``x`` below is the matrix given to ``run``: losses for :class:`Hedge` and :class:`Exp3`, utilities for
    :class:`RegretMatching`, rewards for :class:`ExploreThenCommit`.

    Attributes
    ----------
    actions : ndarray of int, shape (T,), or None
        Sampled actions (``None`` when ``run(..., sample_actions=False)``).
    expected : ndarray, shape (T,)
        :math:`\\langle p_t, x_t \\rangle`, the learner's expected loss/utility in each round.
    realised : ndarray, shape (T,), or None
        :math:`x_{t, a_t}` for the sampled actions.
    mean_expected : ndarray, shape (T,), or None
        :math:`\\langle p_t, \\mu \\rangle` when ``run`` was given the mean vector ``mu`` of a stochastic
        environment (for pseudo-regret).
    totals : ndarray, shape (K,)
        Column sums of ``x`` over the run (cumulative loss/utility of each fixed action).
    best_so_far : ndarray, shape (T,)
        ``min`` (losses) or ``max`` (utilities, rewards) over actions of the cumulative column sums after
        each round: the best fixed action in hindsight at every prefix.
    gain : bool
        True if ``x`` holds utilities/rewards (higher is better), False for losses.

    The trace covers this call only: cumulative sums (learner and comparator) start at zero at its first row.
    """

    actions: np.ndarray | None
    expected: np.ndarray
    realised: np.ndarray | None
    mean_expected: np.ndarray | None
    totals: np.ndarray
    best_so_far: np.ndarray
    gain: bool

    def regret(self) -> np.ndarray:
        """Cumulative regret of the expected play against the best fixed action, after each round.

        :math:`\\sum_{s \\le t} \\langle p_s, \\ell_s\\rangle - \\min_i L_{t, i}` for losses, the mirror image for
        utilities.  Shape (T,).
        """
        cum = np.cumsum(self.expected)
        return self.best_so_far - cum if self.gain else cum - self.best_so_far


def _best_so_far(x: np.ndarray, start: np.ndarray, gain: bool) -> tuple[np.ndarray, np.ndarray]:
    """Best cumulative column sum after every row of ``x``, starting from ``start``; and the final sums."""
    best = np.empty(x.shape[0])
    cum = start.copy()
    for lo in range(0, x.shape[0], _CHUNK):
        block = np.cumsum(x[lo:lo + _CHUNK], axis=0) + cum
        best[lo:lo + _CHUNK] = block.max(axis=1) if gain else block.min(axis=1)
        cum = block[-1]
    return best, cum



def _softmax_rows(scaled_losses: np.ndarray) -> np.ndarray:
    """Row-wise ``exp(-x) / sum exp(-x)`` after shifting each row by its minimum (no overflow)."""
    z = np.exp(-(scaled_losses - scaled_losses.min(axis=1, keepdims=True)))
    return z / z.sum(axis=1, keepdims=True)


def _sample_rows(probs: np.ndarray, uniforms: np.ndarray) -> np.ndarray:
    """Inverse-CDF sampling of one action per row from uniforms in [0, 1)."""
    c = np.cumsum(probs, axis=1)
    idx = (c <= uniforms[:, None] * c[:, -1:]).sum(axis=1)
    # rounding can put the target at the very top: fall back to the last action of positive probability
    last_positive = probs.shape[1] - 1 - np.argmax(probs[:, ::-1] > 0, axis=1)
    return np.minimum(idx, last_positive)


def _last_positive(w) -> int:
    return max(i for i, v in enumerate(w) if v > 0)


def _pick(cum: list, u: float, w) -> int:
    """Inverse-CDF sampling: first index whose cumulative weight exceeds ``u * total``."""
    a = bisect_right(cum, u * cum[-1])
    # rounding can put the target at the very top: the last action of positive weight
    return a if a < len(cum) else _last_positive(w)


def _draw(p, u: float, small: bool) -> int:
    """One action from the weights ``p`` (a list of floats when ``small``, else an array) and a uniform ``u``.

    The sampling step of the sequential learners' ``act``, shared with the game dynamics that pre-draw their
    uniforms.
    """
    if small:
        return _pick(list(accumulate(p)), u, p)
    return int(_sample_rows(p[None, :], np.array([u]))[0])


def _check_matrix(name: str, x, n_actions: int, low: float | None, high: float | None) -> np.ndarray:
    arr = check_array(name, x, ndim=2, shape=(None, n_actions))
    if low is not None or high is not None:
        check_in_range(name, arr, low, high)
    return np.ascontiguousarray(arr)


def _check_mean(name: str, mean, n_actions: int, low=0.0, high=1.0) -> np.ndarray | None:
    if mean is None:
        return None
    arr = check_array(name, mean, ndim=1, shape=(n_actions,))
    return check_in_range(name, arr, low, high) if low is not None or high is not None else arr
