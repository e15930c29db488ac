r"""Random sparse CMDPs of any size, built in a few vectorised passes (benchmarks and large-instance tests).

Both generators draw, for every pair ``(s, a)``, ``successors`` distinct next states and Dirichlet-like
probabilities over them (independent uniform weights, normalised), and store the transitions as a CSR matrix
of shape ``(S*A, S)`` (row ``s*A + a``) without a COO round trip, so that ``10^6`` states with ``10`` actions
and ``5`` successors (``5 * 10^7`` non-zeros, about 0.6 GB) build in seconds:

- :func:`banded_cmdp`: the successors lie within ``bandwidth`` states of ``s`` (indices taken modulo ``S``):
  a local chain, as in models whose state is a position or a fatigue level.  ``bandwidth`` is split into
  ``successors`` disjoint windows with one successor drawn uniformly in each, so successors are distinct.
- :func:`random_cmdp`: the successors are spread over all states (one in each of ``successors`` equal arcs
  of the state circle from a uniform start, so distinct and each marginally uniform): a well-mixing,
  expander-like chain.

Signals: rewards ``r ~ U[0, 1]``; cost ``k`` is ``c_k = rho * r + (1 - rho) * U[0, 1]`` with ``rho`` the
``correlation`` in ``[0, 1]``, so that for ``rho > 0`` the reward-greedy policy tends to pay more cost and the
constraints bind.  The initial law is uniform.  The limits are the discounted costs of the uniformly random
policy plus ``slack / (1 - gamma)`` (exactly evaluated: one occupancy solve for all costs): the uniform policy
meets every limit, so the CMDP is feasible by construction.  Values are discounted sums, as everywhere in
:mod:`mechsim.cmdp`.
"""

from __future__ import annotations

import numbers

import numpy as np
import scipy.sparse as sp

from mechsim import tabular_mdp
from mechsim.cmdp.model import MAX_DISCOUNT, FiniteCMDP
from mechsim.validation import _fail, as_generator, check_allocation, check_integer, check_nonnegative

__all__ = ["banded_cmdp", "random_cmdp"]


def _checked(n_states, n_actions, n_constraints, successors, discount, correlation, slack):
    S = check_integer("n_states", n_states, minimum=1)
    A = check_integer("n_actions", n_actions, minimum=1)
    K = check_integer("n_constraints", n_constraints, minimum=0)
    b = check_integer("successors", successors, minimum=1, maximum=S)
    if isinstance(discount, bool) or not isinstance(discount, (numbers.Real, np.floating, np.integer)):
        raise _fail("discount", "a real number in [0, 1)", f"{type(discount).__name__} {discount!r}")
    gamma = float(discount)
    if not 0.0 <= gamma <= MAX_DISCOUNT:
        raise _fail("discount", f"a number in [0, {MAX_DISCOUNT!r}]", repr(discount))
    rho = check_nonnegative("correlation", correlation)
    if rho > 1.0:
        raise _fail("correlation", "a number in [0, 1]", repr(correlation))
    slack = check_nonnegative("slack", slack)
    # The transitions (12 bytes a non-zero) built here and copied by FiniteCMDP, the uniform policy's chain for
    # the limits, and reward and costs.
    check_allocation("n_states", 4.0 * 12.0 * S * A * b + 8.0 * (K + 3) * S * A,
                     f"a CMDP of n_states={S}, n_actions={A}, successors={b} and n_constraints={K}")
    return S, A, K, b, gamma, rho, slack


def _index_type(S: int, A: int, b: int):
    return np.int32 if S * A * b < 2**31 - 1 else np.int64


def _assemble(S, A, K, b, cols, gamma, rho, slack, rng) -> FiniteCMDP:
    weights = rng.random((S * A, b)) + 1e-3          # bounded away from zero: every listed successor is real
    weights /= weights.sum(axis=1, keepdims=True)
    index = _index_type(S, A, b)
    # Column indices are sorted within a row except where its band wraps past the last state; FiniteCMDP puts
    # the matrix in canonical form in place (no argsort of S*A*b entries here).
    P = sp.csr_array((weights.ravel(), cols.ravel().astype(index, copy=False),
                      np.arange(0, S * A * b + 1, b, dtype=index)), shape=(S * A, S))
    del weights, cols
    reward = rng.random((S, A))
    costs = rho * reward[None] + (1.0 - rho) * rng.random((K, S, A))
    initial = np.full(S, 1.0 / S)
    limits = np.zeros(K)
    if K:
        # The uniform policy's costs J_k = sum_s d(s) mean_a c_k(s, a): one occupancy solve for all K.
        d = tabular_mdp.state_occupancy(P, np.full((S, A), 1.0 / A), initial, gamma, validate=False)
        limits = costs.mean(axis=2) @ d + slack / (1.0 - gamma)
    return FiniteCMDP(P, reward, costs, limits, initial, gamma)


def banded_cmdp(n_states: int, n_actions: int = 10, n_constraints: int = 2, *, successors: int = 5,
                bandwidth: int = 12, discount: float = 0.95, correlation: float = 0.5, slack: float = 0.0,
                seed=None) -> FiniteCMDP:
    """A random CMDP whose transitions move at most ``bandwidth`` states away (sparse, local chain).

    Parameters
    ----------
    n_states, n_actions : int
        ``S >= 1`` and ``A >= 1``.
    n_constraints : int
        ``K >= 0`` cost signals.
    successors : int
        Distinct next states per ``(s, a)`` (``1 <= successors <= S``).
    bandwidth : int
        Successors of ``s`` lie in ``s - bandwidth .. s + bandwidth`` (modulo ``S``); at least
        ``(successors - 1) / 2`` so that the ``successors`` windows are non-empty, and the windows must fit
        in ``S`` states (``2 * bandwidth + 1 <= S`` unless ``successors == S``).
    discount : float
        ``gamma`` in ``[0, MAX_DISCOUNT]``.
    correlation : float
        ``rho`` in ``[0, 1]``: costs are ``rho * r + (1 - rho) * U[0, 1]``.
    slack : float
        Limits are the uniform policy's costs plus ``slack / (1 - gamma)`` (``>= 0``).
    seed : int, Generator or None

    Returns
    -------
    FiniteCMDP
        Sparse transitions ``(S*A, S)``, uniform initial law, feasible limits.

    Examples
    --------
    >>> m = banded_cmdp(1000, 10, 2, seed=0)
    >>> m.n_states, m.n_actions, m.n_constraints, m.transition_matrix.nnz
    (1000, 10, 2, 50000)
    """
    S, A, K, b, gamma, rho, slack = _checked(n_states, n_actions, n_constraints, successors, discount, correlation,
                                             slack)
    w = check_integer("bandwidth", bandwidth, minimum=0)
    rng = as_generator(seed)
    if b == S:
        cols = np.broadcast_to(np.arange(S), (S * A, S)).copy()
        return _assemble(S, A, K, b, cols, gamma, rho, slack, rng)
    span = 2 * w + 1
    if span < b:
        raise _fail("bandwidth", f"at least (successors - 1) / 2 = {(b - 1) / 2:g} so that {b} distinct "
                    f"successors fit in the band", str(w))
    if span > S:
        raise _fail("bandwidth", f"2 * bandwidth + 1 <= n_states = {S} (a band that does not wrap onto itself)",
                    str(w))
    # Window j covers offsets [edges[j], edges[j + 1]) of -w..w; one successor uniform in each: distinct.
    index = _index_type(S, A, b) if S + span < 2**31 - 1 else np.int64
    edges = (-w + (span * np.arange(b + 1)) // b).astype(index)
    cols = rng.integers(0, np.diff(edges), size=(S * A, b), dtype=index)
    cols += edges[:-1]
    cols += np.repeat(np.arange(S, dtype=index), A)[:, None]
    cols %= S
    return _assemble(S, A, K, b, cols, gamma, rho, slack, rng)


def random_cmdp(n_states: int, n_actions: int = 10, n_constraints: int = 2, *, successors: int = 5,
                discount: float = 0.95, correlation: float = 0.5, slack: float = 0.0, seed=None) -> FiniteCMDP:
    """A random CMDP whose ``successors`` next states are spread uniformly over all states (well mixing).

    The successors of a pair are ``(u + j * stride + e_j) mod S`` for a uniform start ``u``, ``stride =
    S // successors`` and independent jitters ``e_j`` uniform in ``0..stride-1``: one successor in each of
    ``successors`` equal arcs of the state circle, so they are distinct and each is marginally uniform.

    Parameters
    ----------
    n_states, n_actions, n_constraints, successors, discount, correlation, slack, seed
        As for :func:`banded_cmdp`.

    Returns
    -------
    FiniteCMDP
    """
    S, A, K, b, gamma, rho, slack = _checked(n_states, n_actions, n_constraints, successors, discount, correlation,
                                             slack)
    rng = as_generator(seed)
    stride = S // b
    index = _index_type(S, A, b) if 2 * S < 2**31 - 1 else np.int64
    cols = rng.integers(0, stride, size=(S * A, b), dtype=index)
    cols += (stride * np.arange(b, dtype=index))[None, :]
    cols += rng.integers(0, S, size=(S * A, 1), dtype=index)
    cols %= S
    return _assemble(S, A, K, b, cols, gamma, rho, slack, rng)
