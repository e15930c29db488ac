r"""Exact planning on a known finite MDP: policy iteration, soft (entropy-regularised) value iteration,
advantages and the softmax natural-gradient step used by the tabular learners.

For a signal ``x(s, a)`` and discount ``gamma``:

- :func:`optimal_policy` returns a deterministic policy maximising ``E[sum_t gamma^t x(s_t, a_t)]`` from
  every state (Howard's policy iteration with exact evaluation; terminates in finitely many steps).
- :func:`soft_optimal_policy` maximises ``E[sum_t gamma^t (x(s_t, a_t) + tau H(pi(.|s_t)))]``; its solution
  is ``pi(a|s) ∝ exp(Q_soft(s, a) / tau)`` with full support, computed by soft value iteration to a fixed
  point in log space.
- :func:`advantages` returns ``A^pi(s, a) = Q^pi(s, a) - V^pi(s)`` for one or several signals.

All values are discounted sums (no ``(1 - gamma)`` factor).  The algorithms are those of
:mod:`mechsim.tabular_mdp`; this module applies them to a :class:`~mechsim.cmdp.model.FiniteCMDP` with its
signal-first ``(m, S, A)`` stacks.
"""

from __future__ import annotations

import numpy as np

from mechsim import tabular_mdp
from mechsim.cmdp.model import (
    FiniteCMDP,
    _chain_transitions,
    _check_cmdp,
    _check_signal,
    _one_discount,
    action_values,
    check_policy,
)
from mechsim.errors import SolverError
from mechsim.tabular_mdp import log_softmax
from mechsim.validation import _fail, check_integer, check_nonnegative, check_positive

__all__ = ["advantages", "log_softmax", "optimal_policy", "soft_optimal_policy", "state_values"]


def state_values(cmdp: FiniteCMDP, policy: np.ndarray, signal: np.ndarray, discount: float | None = None):
    """``V^pi`` of one ``(S, A)`` signal or a stack ``(m, S, A)`` (returns ``(S,)`` or ``(m, S)``)."""
    policy = check_policy(cmdp, policy)
    gamma = _one_discount(cmdp, discount)
    signal = _check_signal(cmdp, signal)
    transitions = _chain_transitions(cmdp)
    if signal.ndim == 2:
        return tabular_mdp.state_values(transitions, policy, signal, gamma, validate=False)
    return tabular_mdp.state_values(transitions, policy, signal.transpose(1, 2, 0), gamma, validate=False).T


def advantages(cmdp: FiniteCMDP, policy: np.ndarray, signal: np.ndarray, discount: float | None = None):
    """``A^pi = Q^pi - V^pi`` of a signal ``(S, A)`` (or stack ``(m, S, A)``) under ``policy``."""
    gamma = _one_discount(_check_cmdp(cmdp), discount)
    values = state_values(cmdp, policy, signal, gamma)
    q = action_values(cmdp, signal, values, gamma)
    return q - values[..., None]


def optimal_policy(cmdp: FiniteCMDP, signal=None, discount: float | None = None, max_iterations: int = 10_000):
    """Deterministic optimal policy of the MDP with reward ``signal`` (default ``cmdp.reward``).

    Policy iteration (:func:`mechsim.tabular_mdp.policy_iteration`) from the greedy one-step policy; an
    action switches only on an improvement above ``1e-10 (1 + |Q|)``, so that round-off cannot make it cycle.

    Returns
    -------
    policy : ndarray (S, A)
        One-hot rows; ties broken towards the lowest action index (deterministic).
    values : ndarray (S,)
        Its optimal state values.
    """
    gamma = _one_discount(_check_cmdp(cmdp), discount)
    signal = cmdp.reward if signal is None else _check_signal(cmdp, signal)
    if signal.ndim != 2:
        raise _fail("signal", f"shape (S, A) = ({cmdp.n_states}, {cmdp.n_actions})", f"shape {signal.shape}")
    max_iterations = check_integer("max_iterations", max_iterations, minimum=1)
    try:
        result = tabular_mdp.policy_iteration(_chain_transitions(cmdp), signal, gamma, atol=1e-10, rtol=1e-10,
                                              max_iter=max_iterations, validate=False)
    except SolverError as exc:  # finite MDPs terminate, but perhaps not within max_iterations
        raise SolverError(f"optimal_policy: policy iteration did not terminate in {max_iterations} improvement "
                          "steps (max_iterations)", status=exc.status) from exc
    return tabular_mdp.deterministic_policy(result.policy, cmdp.n_actions), result.state_values


def soft_optimal_policy(cmdp: FiniteCMDP, signal, temperature: float, discount: float | None = None,
                        tol: float = 1e-12, max_iterations: int = 100_000):
    """Entropy-regularised optimal policy ``pi(a|s) ∝ exp(Q_soft(s, a) / tau)``.

    Soft value iteration ``V(s) = tau log sum_a exp(Q(s, a) / tau)``, ``Q = x + gamma P V`` is a
    ``gamma``-contraction; iterated until the sup-norm change is below ``tol * (1 + |V|)``
    (:func:`mechsim.tabular_mdp.soft_value_iteration`).

    Returns
    -------
    log_policy : ndarray (S, A)
        ``log pi`` (full support, finite).
    soft_values : ndarray (S,)
    """
    gamma = _one_discount(_check_cmdp(cmdp), discount)
    signal = _check_signal(cmdp, signal)
    if signal.ndim != 2:
        raise _fail("signal", f"shape (S, A) = ({cmdp.n_states}, {cmdp.n_actions})", f"shape {signal.shape}")
    tau = check_positive("temperature", temperature)
    tol = check_nonnegative("tol", tol)
    max_iterations = check_integer("max_iterations", max_iterations, minimum=1)
    return tabular_mdp.soft_value_iteration(cmdp.transitions, signal, gamma, tau, tol=tol, max_iter=max_iterations,
                                            validate=False)
