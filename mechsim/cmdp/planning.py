r"""Exact planning on a known finite MDP: policy iteration, soft (entropy-regularised) value iteration,
advantages and the softmax natural-gradient step used by the tabular learners.

For a signal ``x(s, a)`` and discount ``gamma``:

- :func:`optimal_policy` returns a deterministic policy maximising ``E[sum_t gamma^t x(s_t, a_t)]`` from
  every state (Howard's policy iteration with exact evaluation; terminates in finitely many steps).
- :func:`soft_optimal_policy` maximises ``E[sum_t gamma^t (x(s_t, a_t) + tau H(pi(.|s_t)))]``; its solution
  is ``pi(a|s) ∝ exp(Q_soft(s, a) / tau)`` with full support, computed by soft value iteration to a fixed
  point in log space.
- :func:`advantages` returns ``A^pi(s, a) = Q^pi(s, a) - V^pi(s)`` for one or several signals.

All values are discounted sums (no ``(1 - gamma)`` factor).
"""

from __future__ import annotations

import numpy as np
from scipy.special import logsumexp

from mechsim.cmdp.model import (
    FiniteCMDP,
    _solve_discounted,
    action_values,
    policy_transition_matrix,
)
from mechsim.validation import check_positive

__all__ = ["advantages", "log_softmax", "optimal_policy", "soft_optimal_policy", "state_values"]


def log_softmax(logits: np.ndarray, axis: int = -1) -> np.ndarray:
    """``log softmax`` along ``axis``, stable for any magnitude of ``logits``."""
    return logits - logsumexp(logits, axis=axis, keepdims=True)


def state_values(cmdp: FiniteCMDP, policy: np.ndarray, signal: np.ndarray, discount: float | None = None):
    """``V^pi`` of one ``(S, A)`` signal or a stack ``(m, S, A)`` (returns ``(S,)`` or ``(m, S)``)."""
    gamma = cmdp.discount if discount is None else float(discount)
    signal = np.asarray(signal, dtype=float)
    p_pi = policy_transition_matrix(cmdp, policy)
    if signal.ndim == 2:
        return _solve_discounted(p_pi, (signal * policy).sum(axis=1), gamma)
    per_state = np.einsum("ksa,sa->sk", signal, policy)
    return _solve_discounted(p_pi, per_state, gamma).reshape(cmdp.n_states, -1).T


def advantages(cmdp: FiniteCMDP, policy: np.ndarray, signal: np.ndarray, discount: float | None = None):
    """``A^pi = Q^pi - V^pi`` of a signal ``(S, A)`` (or stack ``(m, S, A)``) under ``policy``."""
    gamma = cmdp.discount if discount is None else float(discount)
    values = state_values(cmdp, policy, signal, gamma)
    q = action_values(cmdp, signal, values, gamma)
    return q - values[..., None]


def optimal_policy(cmdp: FiniteCMDP, signal=None, discount: float | None = None, max_iterations: int = 10_000):
    """Deterministic optimal policy of the MDP with reward ``signal`` (default ``cmdp.reward``).

    Returns
    -------
    policy : ndarray (S, A)
        One-hot rows; ties broken towards the lowest action index (deterministic).
    values : ndarray (S,)
        Its optimal state values.
    """
    gamma = cmdp.discount if discount is None else float(discount)
    signal = cmdp.reward if signal is None else np.asarray(signal, dtype=float)
    S, A = cmdp.n_states, cmdp.n_actions
    actions = np.argmax(signal, axis=1)
    rows = np.arange(S)
    for _ in range(max_iterations):
        policy = np.zeros((S, A))
        policy[rows, actions] = 1.0
        values = state_values(cmdp, policy, signal, gamma)
        q = action_values(cmdp, signal, values, gamma)
        # Switch only on a strict improvement beyond round-off, so that the iteration terminates.
        current = q[rows, actions]
        best = np.argmax(q, axis=1)
        improve = q[rows, best] > current + 1e-10 * (1.0 + np.abs(current))
        if not improve.any():
            return policy, values
        actions = np.where(improve, best, actions)
    raise RuntimeError("policy iteration did not terminate")  # pragma: no cover - finite MDPs terminate


def soft_optimal_policy(cmdp: FiniteCMDP, signal, temperature: float, discount: float | None = None,
                        tol: float = 1e-12, max_iterations: int = 100_000):
    """Entropy-regularised optimal policy ``pi(a|s) ∝ exp(Q_soft(s, a) / tau)``.

    Soft value iteration ``V(s) = tau log sum_a exp(Q(s, a) / tau)``, ``Q = x + gamma P V`` is a
    ``gamma``-contraction; iterated until the sup-norm change is below ``tol * (1 + |V|)``.

    Returns
    -------
    log_policy : ndarray (S, A)
        ``log pi`` (full support, finite).
    soft_values : ndarray (S,)
    """
    tau = check_positive("temperature", temperature)
    gamma = cmdp.discount if discount is None else float(discount)
    signal = np.asarray(signal, dtype=float)
    values = np.zeros(cmdp.n_states)
    for _ in range(max_iterations):
        q = action_values(cmdp, signal, values, gamma)
        new = tau * logsumexp(q / tau, axis=1)
        done = np.abs(new - values).max() <= tol * (1.0 + np.abs(new).max())
        values = new
        if done:
            break
    q = action_values(cmdp, signal, values, gamma)
    return log_softmax(q / tau, axis=1), values
