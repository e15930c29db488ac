r"""An exact minimax debater on a pool of states: the strongest opponent a learned debater can train against.

On a pool of states :math:`x_1, \dots, x_S`, each with a baseline decision :math:`b_i`, every debate is "some
decision :math:`a` against :math:`b_i`".  :class:`MinimaxPoolDebater` plays either side of such a debate
exactly: at a revealed set :math:`R` (:math:`|R| = k < L`) it reveals

.. math::  f^\star \in \operatorname*{arg\,max}_{f \notin R} \; \sigma\, V_{fm}(R \cup \{f\}),

with :math:`V_{fm}` the minimax value of the position for the debater arguing :math:`a`
(:func:`mechsim.solvers.debate.state_debate_values`, exact and verified), :math:`\sigma = +1` when it argues
:math:`a` and :math:`-1` when it argues :math:`b_i`, and the first mover :math:`fm` implied by who moves at
level :math:`k` (the first mover makes the even-numbered reveals).  Ties go to the lowest feature.  So
against it any debater earns at most the minimax value of the game, and exactly that when it plays minimax
itself: as an opponent in max-min training (:func:`mechsim.learners.neural_debaters.train_neural_debaters`)
it is the exact confuser of the evaluation, without the cost of a best response to a moving learner.

Tables are computed lazily, one state (all ``D`` decisions, both first movers) per first query of that state,
about 4 MB and a fraction of a second per state at F = 44, L = 4; ``max_cached`` bounds how many are kept.
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np

from mechsim.debate._checks import check_index_array, check_judge, check_judge_size, check_mask, describe
from mechsim.errors import InvalidInstanceError
from mechsim.learners.debaters import BaseDebater
from mechsim.solvers.debate import StateDebateValues, state_debate_values
from mechsim.validation import check_array, check_integer

__all__ = ["MinimaxPoolDebater"]


class MinimaxPoolDebater(BaseDebater):
    """Exact minimax play in the debates "decision against the state's baseline" on a pool of states.

    Parameters
    ----------
    judge : Judge
    states : array_like, shape (S, F)
        The pool; queries must come from these rows (matched exactly).
    baseline : array_like of int, shape (S,)
        Each state's baseline decision; in every query one of the two decisions is it.
    n_evidence : int
        L (``C(F, L)`` evidence sets per state must fit the exact solver).
    n_decisions : int, optional
        D (default ``judge.n_decisions``).
    max_cached : int, optional
        Most state tables kept (least recently used dropped); default all.
    """

    def __init__(self, judge, states, baseline, n_evidence: int, *, n_decisions: int | None = None,
                 max_cached: int | None = None):
        check_judge("judge", judge)
        x = check_array("states", states, ndim=2)
        S, F = x.shape
        if S == 0:
            raise InvalidInstanceError("states: expected at least one state, found 0 rows", argument="states")
        check_judge_size(judge, F, features_name="states")
        D = n_decisions if n_decisions is not None else getattr(judge, "n_decisions", None)
        if D is None:
            raise InvalidInstanceError("n_decisions: expected an integer (the judge does not say), found None",
                                       argument="n_decisions")
        self.judge = judge
        self.n_features = F
        declared = getattr(judge, "n_decisions", None)
        self.n_decisions = check_integer("n_decisions", D, minimum=2,
                                         maximum=declared if isinstance(declared, int) else None)
        self.n_evidence = check_integer("n_evidence", n_evidence, minimum=1, maximum=F)
        self.baseline = check_index_array("baseline", baseline, shape=(S,), high=self.n_decisions,
                                          what="integer decisions (one per state)").astype(np.int64)
        self.max_cached = S if max_cached is None else check_integer("max_cached", max_cached, minimum=1)
        self._states = np.ascontiguousarray(x, dtype=np.float64)
        self._index = {row.tobytes(): i for i, row in enumerate(self._states)}
        self._tables: OrderedDict[int, StateDebateValues] = OrderedDict()
        self.tables_computed = 0

    def table(self, state: int) -> StateDebateValues:
        """The exact value table of pool state ``state`` (computed on first use)."""
        got = self._tables.get(state)
        if got is not None:
            self._tables.move_to_end(state)
            return got
        got = state_debate_values(self.judge, self._states[state], int(self.baseline[state]), self.n_evidence,
                                  n_decisions=self.n_decisions)
        self.tables_computed += 1
        self._tables[state] = got
        if len(self._tables) > self.max_cached:
            self._tables.popitem(last=False)
        return got

    def _rows(self, features) -> np.ndarray:
        x = np.ascontiguousarray(np.asarray(features, dtype=np.float64))
        idx = np.array([self._index.get(row.tobytes(), -1) for row in x], dtype=np.int64)
        if np.any(idx < 0):
            raise InvalidInstanceError(f"features: expected rows of the debater's state pool, found "
                                       f"{int(np.sum(idx < 0))} row(s) outside it", argument="features")
        return idx

    def batch_probabilities(self, features, revealed, own, other) -> np.ndarray:
        x = check_array("features", features, ndim=2)
        n, F = x.shape
        if F != self.n_features:
            raise InvalidInstanceError(f"features: expected {self.n_features} columns, found {F}",
                                       argument="features")
        revealed = check_mask("revealed", revealed)
        if revealed.shape != (n, F):
            raise InvalidInstanceError(f"revealed: expected shape {(n, F)}, found {revealed.shape}",
                                       argument="revealed")
        own = check_index_array("own", own, shape=(n,), high=self.n_decisions, what="integer decisions")
        other = check_index_array("other", other, shape=(n,), high=self.n_decisions, what="integer decisions")
        states = self._rows(x)
        base = self.baseline[states]
        argues_baseline = own == base
        if np.any(~argues_baseline & (other != base)):
            raise InvalidInstanceError("own: expected one of the two decisions to be the state's baseline in every "
                                       f"row, found pairs {describe(np.stack([own, other], 1)[other != base][:3])}",
                                       argument="own")
        decision = np.where(argues_baseline, other, own)       # the debate's non-baseline decision (debater 0)
        mover = argues_baseline.astype(np.int64)                # 0: argues the decision, 1: the baseline
        k = revealed.sum(axis=1)
        if np.any(k >= self.n_evidence):
            raise InvalidInstanceError(f"revealed: expected fewer than {self.n_evidence} revealed features, found "
                                       f"{int(k.max())}", argument="revealed")
        first_mover = np.where(k % 2 == 0, mover, 1 - mover)
        out = np.zeros((n, F))
        for s, level in {(int(s), int(lv)) for s, lv in zip(states, k)}:
            rows = np.flatnonzero((states == s) & (k == level))
            vals = self.table(s).child_values(decision[rows], first_mover[rows], revealed[rows])
            sign = np.where(mover[rows] == 0, 1.0, -1.0)[:, None]
            best = np.argmax(np.where(np.isnan(vals), -np.inf, sign * vals), axis=1)
            out[rows, best] = 1.0
        return out
