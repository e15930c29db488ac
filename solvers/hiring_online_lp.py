r"""The hiring LP on *estimated* quantities, with per-row margins (or relaxations).

The online learner of :mod:`mechsim.hiring.online` does not know the joint law :math:`q_b(s,\theta)` nor the
costs; it solves the correlated-mechanism LP of the hiring spec on estimates :math:`\hat q` and
:math:`\hat C` with every incentive row shifted by a margin that it sizes to its estimation error:

.. math::

    \max_{\phi, y, z} \; \sum_b \phi(b) \hat V(b)
        - \sum_i \sum_{b,s,\theta} \hat q_b(s,\theta)\, y_i(b,s,\theta)

subject to :math:`\sum_b \phi(b) = 1`, :math:`\phi \ge 0`, :math:`0 \le y_i(b,s,\theta) \le M \phi(b)`,
:math:`z \ge 0` and, for every agent *i*, recommended effort :math:`b_i` and deviation :math:`b'_i \ne b_i`,

.. math::

    \sum_{b_{-i}} \sum_{s,\theta} \hat q_b(s,\theta) y_i(b,s,\theta) - \sum_{s_i} z_i[b_i,b'_i,s_i]
        \ge \big(\hat C_i(b_i,b'_i) + m^{\rm eff}_i[b_i,b'_i]\big)\, \phi_i(b_i),

    z_i[b_i,b'_i,s_i] \ge \sum_{b_{-i},s_{-i},\theta} \hat q_{(b'_i,b_{-i})}((s_i,s_{-i}),\theta)\,
        y_i((b_i,b_{-i}),(s'_i,s_{-i}),\theta) \quad \forall s'_i,

where :math:`\phi_i(b_i) = \sum_{b_{-i}} \phi(b_i, b_{-i})`.  A negative margin is a relaxation (the
worst-case-faithful learner relaxes by :math:`\varepsilon_{IC}`).  Truthful reporting under obedience
(:math:`b'_i = b_i`) is imposed in one of two forms:

- ``truthful_margins=None`` (aggregate form of the spec): the row above with :math:`b'_i = b_i`, the maps
  including the identity, and right-hand side :math:`-\rho\,\phi_i(b_i)` with ``truthful_relaxation`` ρ;
- ``truthful_margins`` given (per-signal form): for every :math:`s_i` and :math:`s'_i \ne s_i`,

  .. math::  \sum_{b_{-i},s_{-i},\theta} \hat q_b((s_i,s_{-i}),\theta)\,
             \big[y_i(b,(s_i,s_{-i}),\theta) - y_i(b,(s'_i,s_{-i}),\theta)\big]
             \ge m^{\rm tr}_i[b_i, s_i]\, \phi_i(b_i),

  i.e. every single misreport loses at least the margin.  With zero margins both forms define the same
  feasible set; only the per-signal form can carry a positive margin (the identity map always has slack 0).

The LP is assembled as one sparse matrix and solved by HiGHS through ``scipy.optimize.linprog``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.optimize import linprog

from mechsim.errors import InfeasibleError, InvalidInstanceError, SolverError
from mechsim.hiring.audit import _agent_axes
from mechsim.hiring.model import value_of_information
from mechsim.validation import check_array, check_nonnegative, check_positive

__all__ = ["EstimatedLPSolution", "solve_estimated_mechanism_lp"]


@dataclass(frozen=True, eq=False)
class EstimatedLPSolution:
    """Solution of the estimate-side hiring LP.

    Attributes
    ----------
    recommendation : ndarray, shape ``(*n_efforts,)``
        :math:`\\phi`, cleaned of entries below ``1e-12`` and renormalised.
    payments : ndarray, shape ``(n_agents, *n_efforts, *n_signals, n_states)``
        :math:`\\gamma = y / \\phi` on recommended profiles, zero elsewhere.
    estimated_value : float
        The LP objective (the principal's utility *under the estimates*).
    n_variables, n_constraints : int
    status : str
        HiGHS's status message.
    """

    recommendation: np.ndarray
    payments: np.ndarray
    estimated_value: float
    n_variables: int
    n_constraints: int
    status: str


def solve_estimated_mechanism_lp(joint, cost_differences: Sequence, utility, payment_cap: float, *,
                                 effort_margins=None, truthful_margins=None,
                                 truthful_relaxation: float = 0.0) -> EstimatedLPSolution:
    """Solve the hiring LP on estimated quantities with per-row margins (module docstring).

    Parameters
    ----------
    joint : array_like, shape ``(*n_efforts, *n_signals, n_states)``
        Estimated :math:`\\hat q_b(s,\\theta)`; every profile's slice should sum to one.
    cost_differences : sequence of ``n_agents`` array_like
        ``cost_differences[i][b, b']`` estimates :math:`C_i(b, b') = c_i(b) - c_i(b')`.
    utility : array_like, shape ``(n_actions, n_states)``
    payment_cap : float
        ``M``.
    effort_margins : None, float or sequence of ``(n_efforts_i, n_efforts_i)`` arrays
        :math:`m^{\\rm eff}`; negative entries relax.  Diagonals are ignored.  ``None`` means 0.
    truthful_margins : None or sequence of ``(n_efforts_i, n_signals_i)`` arrays
        Selects the per-signal truthfulness form with these (non-negative) margins.
    truthful_relaxation : float
        ρ of the aggregate truthfulness form (used when ``truthful_margins`` is None).

    Returns
    -------
    EstimatedLPSolution

    Raises
    ------
    InfeasibleError
        If no mechanism meets the margins (status from HiGHS).
    SolverError
        If HiGHS fails otherwise.
    """
    q = check_array("joint", joint)
    u = check_array("utility", utility, ndim=2)
    cap = check_positive("payment_cap", payment_cap)
    n = (q.ndim - 1) // 2
    if q.ndim != 2 * n + 1 or n < 1:
        raise InvalidInstanceError(
            f"joint: expected shape (*n_efforts, *n_signals, n_states), found {q.shape}", argument="joint")
    n_efforts, n_signals, n_states = q.shape[:n], q.shape[n:2 * n], q.shape[-1]
    if u.shape[1] != n_states:
        raise InvalidInstanceError(f"utility: expected {n_states} columns (states), found {u.shape[1]}",
                                   argument="utility")
    if len(cost_differences) != n:
        raise InvalidInstanceError(f"cost_differences: expected {n} arrays, found {len(cost_differences)}",
                                   argument="cost_differences")
    C = [check_array(f"cost_differences[{i}]", c, shape=(n_efforts[i], n_efforts[i]))
         for i, c in enumerate(cost_differences)]
    if effort_margins is None or np.isscalar(effort_margins):
        m_eff = [np.full((k, k), float(effort_margins or 0.0)) for k in n_efforts]
    else:
        m_eff = [check_array(f"effort_margins[{i}]", m, shape=(n_efforts[i], n_efforts[i]))
                 for i, m in enumerate(effort_margins)]
    per_signal = truthful_margins is not None
    if per_signal:
        m_tr = [check_array(f"truthful_margins[{i}]", m, shape=(n_efforts[i], n_signals[i]))
                for i, m in enumerate(truthful_margins)]
    rho = check_nonnegative("truthful_relaxation", truthful_relaxation)

    P = int(np.prod(n_efforts))
    K = int(np.prod(n_signals)) * n_states
    n_y = n * P * K
    z_offsets, n_z = [], 0
    for i in range(n):
        z_offsets.append(P + n_y + n_z)
        n_z += n_efforts[i] * n_efforts[i] * n_signals[i]
    n_var = P + n_y + n_z

    rows, cols, vals = [], [], []
    n_rows = 0

    def add(r, c, v):
        rows.append(np.asarray(r, dtype=np.int64).ravel())
        cols.append(np.asarray(c, dtype=np.int64).ravel())
        vals.append(np.asarray(v, dtype=float).ravel())

    phi_idx = np.arange(P).reshape(n_efforts)
    # cap: y_i(b,s,theta) - M phi(b) <= 0
    y_all = P + np.arange(n_y).reshape(n, P, K)
    r_cap = n_rows + np.arange(n_y).reshape(n, P, K)
    add(r_cap, y_all, np.ones(n_y))
    add(r_cap, np.broadcast_to(np.arange(P)[None, :, None], (n, P, K)), np.full(n_y, -cap))
    n_rows += n_y

    for i in range(n):
        B, S = n_efforts[i], n_signals[i]
        axes = _agent_axes(n, i)
        R = P // B
        Ki = K // S
        y_i = np.transpose((P + i * P * K + np.arange(P * K)).reshape(*n_efforts, *n_signals, n_states),
                           axes).reshape(B, R, S, Ki)
        q_i = np.transpose(q, axes).reshape(B, R, S, Ki)
        phi_i = np.transpose(phi_idx, axes[:n]).reshape(B, R)
        z_i = z_offsets[i] + np.arange(B * B * S).reshape(B, B, S)
        deviations = [(b, bp) for b in range(B) for bp in range(B) if bp != b or not per_signal]
        # z rows: sum coeff * y(b, s' slot) - z[b, b', s] <= 0 for every s'
        for b, bp in deviations:
            r = n_rows + np.arange(S * S).reshape(S, S)  # (s, s')
            yy = np.broadcast_to(y_i[b].transpose(1, 0, 2)[None], (S, S, R, Ki))  # [s, s'] -> y(b, s')
            cc = np.broadcast_to(q_i[bp].transpose(1, 0, 2)[:, None], (S, S, R, Ki))  # [s, s'] -> q(b', s)
            add(np.broadcast_to(r[..., None, None], (S, S, R, Ki)), yy, cc)
            add(r, np.broadcast_to(z_i[b, bp][:, None], (S, S)), -np.ones((S, S)))
            n_rows += S * S
        # effort (and aggregate truthfulness) rows:
        # -obedient + sum_s z + (C + m) phi_i <= 0
        for b, bp in deviations:
            rhs = (C[i][b, bp] + m_eff[i][b, bp]) if bp != b else -rho
            add(np.full(R * S * Ki, n_rows), y_i[b], -q_i[b])
            add(np.full(S, n_rows), z_i[b, bp], np.ones(S))
            add(np.full(R, n_rows), phi_i[b], np.full(R, rhs))
            n_rows += 1
        if per_signal:
            # -sum q(b,s)[y(b,s) - y(b,s')] + m phi_i <= 0 for s' != s
            for b in range(B):
                for s in range(S):
                    for sp_ in range(S):
                        if sp_ == s:
                            continue
                        add(np.full(R * Ki, n_rows), y_i[b, :, s], -q_i[b, :, s])
                        add(np.full(R * Ki, n_rows), y_i[b, :, sp_], q_i[b, :, s])
                        add(np.full(R, n_rows), phi_i[b], np.full(R, m_tr[i][b, s]))
                        n_rows += 1

    A_ub = sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                         shape=(n_rows, n_var))
    b_ub = np.zeros(n_rows)
    A_eq = sp.csr_matrix((np.ones(P), (np.zeros(P, dtype=np.int64), np.arange(P))), shape=(1, n_var))
    V = value_of_information(q, u, n).ravel()
    c = np.zeros(n_var)
    c[:P] = -V
    c[P:P + n_y] = np.broadcast_to(q.reshape(1, P, K), (n, P, K)).ravel()
    bounds = np.zeros((n_var, 2))
    bounds[:, 1] = np.inf
    bounds[:P, 1] = 1.0
    bounds[P:P + n_y, 1] = cap
    res = linprog(c, A_ub=A_ub, b_ub=b_ub, A_eq=A_eq, b_eq=[1.0], bounds=bounds, method="highs")
    if res.status == 2:
        raise InfeasibleError("estimated hiring LP: no mechanism meets the requested margins",
                              status=res.message)
    if res.status != 0:
        raise SolverError("estimated hiring LP: HiGHS did not finish", status=res.message)
    x = res.x
    phi = np.where(x[:P] > 1e-12, x[:P], 0.0)
    phi = phi / phi.sum()
    y = x[P:P + n_y].reshape(n, P, K)
    gamma = np.zeros_like(y)
    used = phi > 0
    gamma[:, used] = y[:, used] / phi[None, used, None]
    over = gamma.max(initial=0.0) - cap
    if over > 1e-6 * max(1.0, cap) or gamma.min(initial=0.0) < -1e-9:
        raise SolverError("estimated hiring LP: payments recovered outside [0, M]",
                          status=f"overshoot {over:.3g}")
    gamma = np.clip(gamma, 0.0, cap)  # removes solver round-off only (checked just above)
    return EstimatedLPSolution(
        recommendation=phi.reshape(n_efforts),
        payments=gamma.reshape(n, *n_efforts, *n_signals, n_states),
        estimated_value=float(-res.fun),
        n_variables=n_var,
        n_constraints=n_rows + 1,
        status=str(res.message),
    )
