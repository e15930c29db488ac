"""Hypothesis strategies for small debate games.

``debate_games()`` draws a complete game — a random :class:`~mechsim.debate.judges.LinearJudge`, a state,
two distinct decisions and a number of reveals — small enough for brute-force enumeration of every reveal
sequence, so that exact solvers and debaters can be checked against an independent oracle::

    from hypothesis import given
    from mechsim.testing import debate_games

    @given(debate_games())
    def test_value_in_range(game):
        out = solve_debate(game.judge, game.features, game.decisions, game.n_evidence)
        assert -1 <= out.value <= 1

Small integer weights and feature values make exact ties (value 0 outcomes) common, which exercises the
tie handling.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from hypothesis import strategies as st

from mechsim.debate.judges import LinearJudge

__all__ = ["DebateGame", "debate_games", "linear_judges", "debate_states", "evidence_masks", "fixed_random_policy"]


@dataclass(frozen=True)
class DebateGame:
    """One small debate: ``judge`` decides between ``decisions`` after ``n_evidence`` reveals of ``features``."""

    judge: LinearJudge
    features: np.ndarray
    decisions: tuple[int, int]
    n_evidence: int

    @property
    def n_features(self) -> int:
        return self.features.shape[0]


def _values(min_value, max_value, integer):
    if integer:
        return st.integers(min_value, max_value).map(float)
    return st.floats(min_value, max_value, allow_nan=False, allow_infinity=False, width=32)


@st.composite
def linear_judges(draw, n_features: int, n_decisions: int, *, integer: bool = True, magnitude: int = 3,
                  with_bias: bool = False) -> LinearJudge:
    """A ``LinearJudge`` with weights in ``[-magnitude, magnitude]`` (integers by default, so ties occur)."""
    vals = _values(-magnitude, magnitude, integer)
    w = np.array(draw(st.lists(vals, min_size=n_features * n_decisions, max_size=n_features * n_decisions)),
                 dtype=float).reshape(n_decisions, n_features)
    bias = None
    if with_bias:
        bias = np.array(draw(st.lists(vals, min_size=n_decisions, max_size=n_decisions)), dtype=float)
    return LinearJudge(w, bias)


@st.composite
def debate_states(draw, n_features: int, *, integer: bool = True, magnitude: int = 3) -> np.ndarray:
    """A feature vector of length ``n_features``."""
    vals = _values(-magnitude, magnitude, integer)
    return np.array(draw(st.lists(vals, min_size=n_features, max_size=n_features)), dtype=float)


@st.composite
def evidence_masks(draw, n_features: int, n_evidence: int) -> np.ndarray:
    """A boolean mask with exactly ``n_evidence`` of ``n_features`` entries set."""
    chosen = draw(st.lists(st.integers(0, n_features - 1), min_size=n_evidence, max_size=n_evidence,
                           unique=True))
    mask = np.zeros(n_features, dtype=bool)
    mask[chosen] = True
    return mask


@st.composite
def debate_games(draw, *, min_features: int = 1, max_features: int = 6, max_evidence: int = 4,
                 max_decisions: int = 4, integer: bool = True, with_bias: bool = False) -> DebateGame:
    """A random small debate game (F <= ``max_features``, L <= ``max_evidence``, D <= ``max_decisions``)."""
    F = draw(st.integers(min_features, max_features))
    D = draw(st.integers(2, max_decisions))
    L = draw(st.integers(0, min(F, max_evidence)))
    judge = draw(linear_judges(F, D, integer=integer, with_bias=with_bias))
    x = draw(debate_states(F, integer=integer))
    a1 = draw(st.integers(0, D - 1))
    a2 = draw(st.integers(0, D - 2))
    a2 = a2 + (a2 >= a1)
    return DebateGame(judge, x, (a1, int(a2)), L)


def fixed_random_policy(seed: int):
    """A stochastic debater policy that is a fixed function of the revealed set (and the mover's decision).

    Its reveal probabilities are drawn from ``seed`` and the set itself, so every oracle (brute force, the
    exact best response, a table of subgame values) sees the same policy however often it asks.  The
    signature is the debater policy protocol of :mod:`mechsim.solvers.debate`:
    ``policy(features, revealed, own_decision, other_decision) -> (n, F)`` probabilities.
    """
    def policy(features, revealed, own, other):
        out = np.zeros(revealed.shape)
        for i, row in enumerate(revealed):
            key = int(row.astype(np.int64) @ (1 << np.arange(row.size)))
            r = np.random.default_rng([seed, key, own]).random(row.size) * ~row
            if r.sum() == 0:
                r = (~row).astype(float)
            out[i] = r / r.sum()
        return out

    return policy
