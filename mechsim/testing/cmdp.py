"""Hypothesis strategies for finite CMDPs.

``finite_cmdps()`` draws random :class:`~mechsim.cmdp.FiniteCMDP` instances for property tests.  With
``feasible=True`` the limits are set, per constraint, between the cost of a reference stationary policy
and a little above it, so that the reference policy meets every limit (the CMDP is feasible by
construction, and the constraints are often binding at the optimum).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from hypothesis import strategies as st

from mechsim.cmdp.model import FiniteCMDP, evaluate_policy

__all__ = ["finite_cmdps"]


@st.composite
def finite_cmdps(draw, max_states: int = 5, max_actions: int = 3, max_constraints: int = 2,
                 feasible: bool = True, sparse: bool = False, min_constraints: int = 1,
                 discount: float | None = None, signed_costs: bool = True):
    """Strategy for random finite CMDPs.

    Parameters
    ----------
    max_states, max_actions, max_constraints : int
        Upper bounds on ``S``, ``A`` and ``K`` (``S, A >= 1``; ``K >= min_constraints``).
    feasible : bool
        If True, limits are chosen so that a randomly drawn reference policy satisfies every constraint
        (slack drawn in ``[0, 0.5]`` in discounted units).  If False, limits are arbitrary (possibly infeasible).
    sparse : bool
        Give the transitions as a scipy.sparse ``(S*A, S)`` matrix, with some zero transition probabilities.
    discount : float, optional
        Fixed discount; default drawn from ``{0, 0.5, 0.8, 0.9, 0.95}``.
    signed_costs : bool
        Allow negative costs (lower bounds on auxiliary signals).
    """
    S = draw(st.integers(1, max_states))
    A = draw(st.integers(1, max_actions))
    K = draw(st.integers(min_constraints, max(min_constraints, max_constraints)))
    seed = draw(st.integers(0, 2**32 - 1))
    gamma = discount if discount is not None else draw(st.sampled_from([0.0, 0.5, 0.8, 0.9, 0.95]))
    rng = np.random.default_rng(seed)
    weights = rng.exponential(size=(S, A, S))
    if sparse or draw(st.booleans()):
        # Knock out transitions but keep at least one successor per (s, a).
        mask = rng.random((S, A, S)) < 0.5
        mask[np.arange(S)[:, None], np.arange(A)[None, :], rng.integers(S, size=(S, A))] = True
        weights = weights * mask
    transitions = weights / weights.sum(axis=2, keepdims=True)
    reward = np.round(rng.uniform(0, 1, size=(S, A)), 3)
    low = -1.0 if signed_costs else 0.0
    costs = np.round(rng.uniform(low, 1, size=(K, S, A)), 3)
    initial = rng.dirichlet(np.ones(S))
    if feasible:
        reference = rng.dirichlet(np.ones(A), size=S)
        probe = FiniteCMDP(transitions, reward, costs, np.zeros(K), initial, gamma)
        base = evaluate_policy(probe, reference).cost_values
        limits = base + rng.uniform(0, 0.5, size=K)
    else:
        limits = rng.uniform(-2, 2, size=K) / (1 - gamma)
    if sparse:
        transitions = sp.csr_array(transitions.reshape(S * A, S))
    return FiniteCMDP(transitions, reward, costs, limits, initial, gamma)
