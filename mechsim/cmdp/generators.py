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
policy plus ``slack / (1 - gamma)`` (exactly evaluated, one linear solve per signal): the uniform policy
meets every limit, so the CMDP is feasible by construction.  Values are discounted sums, as everywhere in
:mod:`mechsim.cmdp`.
"""

from __future__ import annotations

import numbers

import numpy as np
import scipy.sparse as sp

from mechsim.cmdp.model import MAX_DISCOUNT, FiniteCMDP, evaluate_policy, uniform_policy
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
    # Transitions (data + int64 indices), reward, costs, two copies made by FiniteCMDP and the evaluation.
    check_allocation("n_states", 2.0 * 16.0 * S * A * b + 8.0 * (K + 1) * S * A * 3,
                     f"a CMDP of n_states={S}, n_actions={A}, successors={b} and n_constraints={K}")
    return S, A, K, b, gamma, rho, slack


def _assemble(S, A, K, b, cols, gamma, rho, slack, rng) -> FiniteCMDP:
    weights = rng.random((S * A, b)) + 1e-3          # bounded away from zero: every listed successor is real
    weights /= weights.sum(axis=1, keepdims=True)
    order = np.argsort(cols, axis=1, kind="stable")   # canonical CSR: sorted column indices within each row
    cols = np.take_along_axis(cols, order, axis=1)
    weights = np.take_along_axis(weights, order, axis=1)
    P = sp.csr_array((weights.ravel(), cols.ravel().astype(np.int32 if S < 2**31 else np.int64),
                      np.arange(0, S * A * b + 1, b, dtype=np.int64)), shape=(S * A, S))
    reward = rng.random((S, A))
    costs = rho * reward[None] + (1.0 - rho) * rng.random((K, S, A))
    probe = FiniteCMDP(P, reward, costs, np.zeros(K), np.full(S, 1.0 / S), gamma)
    if K == 0:
        return probe
    limits = evaluate_policy(probe, uniform_policy(probe)).cost_values + slack / (1.0 - gamma)
    return probe.with_limits(limits)


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
    edges = -w + (span * np.arange(b + 1)) // b
    low, width = edges[:-1], np.diff(edges)
    offsets = low + (rng.random((S * A, b)) * width).astype(np.int64)
    cols = (np.repeat(np.arange(S, dtype=np.int64), A)[:, None] + offsets) % S
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
    start = rng.integers(0, S, size=(S * A, 1))
    jitter = (rng.random((S * A, b)) * stride).astype(np.int64)
    cols = (start + stride * np.arange(b)[None, :] + jitter) % S
    return _assemble(S, A, K, b, cols, gamma, rho, slack, rng)
