r"""The hiring LP on *estimated* quantities, with per-row margins (or relaxations).

The online learner of :mod:`mechsim.learners.hiring_online` (the explore-then-commit principal of
Cacciamani, Castiglioni and Gatti, "Online Information Acquisition: Hiring Multiple Agents", ICLR 2024)
does not know the joint law :math:`q_b(s,\theta)` nor the costs; it solves the correlated-mechanism LP of
:mod:`mechsim.solvers.hiring_lp` on estimates :math:`\hat q` and :math:`\hat C` with every incentive row
shifted by a margin that it sizes to its estimation error:

.. math::

    \max_{\phi, y, z} \; \sum_b \phi(b) \hat V(b)
        - \sum_i \sum_{b,s,\theta} \hat q_b(s,\theta)\, y_i(b,s,\theta)

subject to :math:`\sum_b \phi(b) = 1`, :math:`\phi \ge 0`, :math:`0 \le y_i(b,s,\theta) \le M_i \phi(b)`
(agent *i*'s own cap),
:math:`z \ge 0` and, for every agent *i*, recommended effort :math:`b_i` and deviation :math:`b'_i \ne b_i`,

.. math::

    \sum_{b_{-i}} \sum_{s,\theta} \hat q_b(s,\theta) y_i(b,s,\theta) - \sum_{s_i} z_i[b_i,b'_i,s_i]
        \ge \big(\hat C_i(b_i,b'_i) + m^{\rm eff}_i[b_i,b'_i]\big)\, \phi_i(b_i),

    z_i[b_i,b'_i,s_i] \ge \sum_{b_{-i},s_{-i},\theta} \hat q_{(b'_i,b_{-i})}((s_i,s_{-i}),\theta)\,
        y_i((b_i,b_{-i}),(s'_i,s_{-i}),\theta) \quad \forall s'_i,

where :math:`\phi_i(b_i) = \sum_{b_{-i}} \phi(b_i, b_{-i})`.  A negative margin is a relaxation (the
worst-case-faithful learner relaxes by :math:`\varepsilon_{IC}`).  Truthful reporting under obedience
(:math:`b'_i = b_i`) is imposed in one of two forms:

- ``truthful_margins=None`` (aggregate form): the row above with :math:`b'_i = b_i`, the maps
  including the identity, and right-hand side :math:`-\rho\,\phi_i(b_i)` with ``truthful_relaxation`` ρ;
- ``truthful_margins`` given (per-signal form): for every :math:`s_i` and :math:`s'_i \ne s_i`,

  .. math::  \sum_{b_{-i},s_{-i},\theta} \hat q_b((s_i,s_{-i}),\theta)\,
             \big[y_i(b,(s_i,s_{-i}),\theta) - y_i(b,(s'_i,s_{-i}),\theta)\big]
             \ge m^{\rm tr}_i[b_i, s_i]\, \phi_i(b_i),

  i.e. every single misreport loses at least the margin.  With zero margins both forms define the same
  feasible set; only the per-signal form can carry a positive margin (the identity map always has slack 0).

This is :func:`mechsim.solvers.hiring_lp.build_hiring_lp` with ``effort_margins`` :math:`m^{\rm eff}`, the
diagonal ``relaxation`` ρ and ``truthful_margins`` :math:`m^{\rm tr}`, solved by the same HiGHS path
(:class:`mechsim.solvers._highs.HighsModel`, presolve off, feasibility tolerances 1e-10), whose
:func:`~mechsim.solvers.hiring_lp.solve_assembled_lp` checks the recovered payments against :math:`[0, M_i]`
and the solution against every row above, recomputed from the estimates; this module adds the argument checks
of an estimate-side entry point.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from mechsim.errors import InfeasibleError, InvalidInstanceError
from mechsim.solvers.hiring_lp import _n_agents_of, build_hiring_lp, solve_assembled_lp
from mechsim.validation import check_array, check_in_range, check_nonnegative

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
    value : float
        The LP optimum (the principal's utility *under the estimates*; formerly ``estimated_value``).
    n_variables, n_constraints : int
    status : str
        HiGHS's model status.
    solve_time : float
        Seconds inside HiGHS.
    """

    recommendation: np.ndarray
    payments: np.ndarray
    value: float
    n_variables: int
    n_constraints: int
    status: str
    solve_time: float = float("nan")

    @property
    def estimated_value(self) -> float:
        """Deprecated alias of :attr:`value`."""
        warnings.warn("EstimatedLPSolution.estimated_value is deprecated; use EstimatedLPSolution.value",
                      DeprecationWarning, stacklevel=2)
        return self.value


def solve_estimated_mechanism_lp(joint, cost_differences: Sequence, utility, payment_cap, *,
                                 effort_margins=None, truthful_margins=None,
                                 truthful_relaxation: float = 0.0) -> EstimatedLPSolution:
    """Solve the hiring LP on estimated quantities with per-row margins (module docstring).

    Parameters
    ----------
    joint : array_like, shape ``(*n_efforts, *n_signals, n_states)``
        Estimated :math:`\\hat q_b(s,\\theta)`; every profile's slice should sum to one.
    cost_differences : sequence of ``n_agents`` array_like
        ``cost_differences[i][b, b']`` estimates :math:`C_i(b, b') = c_i(b) - c_i(b')` (diagonals are
        ignored).
    utility : array_like, shape ``(n_actions, n_states)``
    payment_cap : float or sequence of ``n_agents`` floats
        ``M``, or agent *i*'s cap ``M_i``.
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
    InvalidInstanceError
        An argument is invalid (named in the message).
    InfeasibleError
        If no mechanism meets the margins (status from HiGHS).
    SolverError
        If HiGHS fails otherwise, the recovered payments leave :math:`[0, M_i]` by more than round-off, or the
        solution fails the check of its constraints on the estimates
        (:func:`mechsim.solvers.hiring_lp.solve_assembled_lp`).
    """
    n = _n_agents_of(cost_differences)
    q = check_array("joint", joint)
    if q.ndim != 2 * n + 1:
        raise InvalidInstanceError(
            f"joint: expected shape (*n_efforts, *n_signals, n_states) with {2 * n + 1} dimensions for the {n} "
            f"agents of cost_differences, found {q.shape}", argument="joint")
    if q.size == 0:
        raise InvalidInstanceError(f"joint: expected at least one effort, signal and state per agent, found shape "
                                   f"{q.shape}", argument="joint")
    n_efforts, n_signals = q.shape[:n], q.shape[n:2 * n]
    C = [check_array(f"cost_differences[{i}]", c, shape=(n_efforts[i], n_efforts[i]))
         for i, c in enumerate(cost_differences)]
    # the truthfulness row's right-hand side is -rho alone, whatever an estimate puts on the diagonal
    C = [np.where(np.eye(k, dtype=bool), 0.0, c) for k, c in zip(n_efforts, C)]
    if effort_margins is None or np.isscalar(effort_margins):
        m = 0.0 if effort_margins is None else float(check_array("effort_margins", effort_margins, ndim=0))
        m_eff = [np.full((k, k), m) for k in n_efforts]
    else:
        m_eff = effort_margins          # checked by build_hiring_lp
    if truthful_margins is not None and isinstance(truthful_margins, (list, tuple)):
        truthful_margins = [check_in_range(f"truthful_margins[{i}]", check_array(
            f"truthful_margins[{i}]", m, shape=(n_efforts[i], n_signals[i])), low=0.0)
            for i, m in enumerate(truthful_margins)]
    elif isinstance(truthful_margins, np.ndarray) and truthful_margins.ndim >= 1:
        check_in_range("truthful_margins", check_array("truthful_margins", truthful_margins), low=0.0)
    rho = check_nonnegative("truthful_relaxation", truthful_relaxation)

    lp = build_hiring_lp(q, C, utility, payment_cap, relaxation=[rho * np.eye(k) for k in n_efforts],
                         effort_margins=m_eff, truthful_margins=truthful_margins)
    try:
        phi, gamma, result = solve_assembled_lp(lp, what="the estimated hiring LP")
    except InfeasibleError as err:
        raise InfeasibleError("estimated hiring LP: no mechanism meets the requested margins",
                              status=err.status) from err
    return EstimatedLPSolution(
        recommendation=phi,
        payments=gamma,
        value=-result.value,
        n_variables=lp.n_variables,
        n_constraints=lp.n_constraints,
        status=result.status,
        solve_time=result.solve_time,
    )
