r"""Optimal incentive-compatible hiring mechanisms as linear programs (HiGHS).

The model is that of Cacciamani, Castiglioni and Gatti, "Online Information Acquisition: Hiring Multiple
Agents" (ICLR 2024), implemented in :mod:`mechsim.hiring`; the LPs below are their correlated and
uncorrelated mechanism programs, written with the z-trick so that their size is polynomial.

**Correlated mechanism** (:func:`optimal_mechanism`, :func:`solve_hiring_lp`).  With
:math:`y_i(b,s,\theta) = \phi(b)\,\gamma_i(b,s,\theta)` and :math:`z_i[b_i,b'_i,s_i]` standing for
the best misreport of each true signal, the optimal IC mechanism solves

.. math::

    \max_{\phi, y, z} \;& \sum_b \phi(b) V(b)
        - \sum_i \sum_{b,s,\theta} q_b(s,\theta)\, y_i(b,s,\theta) \\
    \text{s.t.}\;& \textstyle\sum_b \phi(b) = 1, \quad \phi \ge 0, \quad
        0 \le y_i(b,s,\theta) \le M_i \phi(b), \quad z \ge 0, \\
    & \sum_{b_{-i}} \sum_{s,\theta} q_b(s,\theta) y_i(b,s,\theta) - \sum_{s_i} z_i[b_i,b'_i,s_i] \\
    & \qquad \ge \big(C_i(b_i,b'_i) + (\epsilon + m_i[b_i,b'_i])\,[b'_i \ne b_i] - \rho_i[b_i,b'_i]\big)
        \sum_{b_{-i}} \phi(b_i,b_{-i}) \quad \forall i, b_i, b'_i, \\
    & z_i[b_i,b'_i,s_i] \ge \sum_{b_{-i}, s_{-i}, \theta}
        q_{(b'_i,b_{-i})}((s_i,s_{-i}),\theta)\, y_i((b_i,b_{-i}),(s'_i,s_{-i}),\theta)
        \quad \forall i, b_i, b'_i, s_i, s'_i,

where :math:`C_i(b_i,b'_i) = c_i(b_i) - c_i(b'_i)`, :math:`M_i` is agent *i*'s payment cap (one common
:math:`M` or one per agent, :attr:`mechsim.hiring.HiringInstance.payment_caps`), :math:`V(b)` is the value of
information, the
margin :math:`\epsilon` and the per-row margins :math:`m_i` (default 0; negative values relax) apply to
effort deviations only (the :math:`b'_i = b_i` row keeps truthful reporting weakly optimal) and the
relaxation :math:`\rho \ge 0` (default 0) loosens individual IC rows, its diagonal the truthfulness row.
Payments are recovered as :math:`\gamma = y / \phi` where :math:`\phi(b) > 0`; profiles never recommended
pay 0 and use the Bayes decision.

*Per-signal truthfulness* (``truthful_margins`` :math:`\tau` given, for learners that need a positive
margin on every misreport).  The rows :math:`b'_i = b_i` and their misreport rows are replaced by

.. math::

    \sum_{b_{-i}, s_{-i}, \theta} q_b((s_i,s_{-i}),\theta)\,
        \big[y_i(b,(s_i,s_{-i}),\theta) - y_i(b,(t,s_{-i}),\theta)\big]
        \ge \tau_i[b_i, s_i] \sum_{b_{-i}} \phi(b_i, b_{-i}) \quad \forall i, b_i, s_i, t \ne s_i:

every single misreport loses at least the margin.  The obedient agent's payoff separates over its true
signal, so with :math:`\tau = 0` both forms define the same feasible set; only this one can carry a
positive margin (the identity map has slack 0 in the aggregate row).  The same LP therefore serves the
exact optimum (:func:`optimal_mechanism`) and the online learner's LP on estimates
(:func:`mechsim.solvers.hiring_online_lp.solve_estimated_mechanism_lp`).

The constraint matrix is assembled directly in compressed-row form from broadcast index arrays
(every row block has a fixed number of entries; no Python loop over scalars) by
:func:`mechsim.hiring.incentive_rows.csr_from_blocks` and handed to the one HiGHS adapter
(:class:`mechsim.solvers._highs.HighsModel`, ``passModel``'s array interface); HiGHS runs dual simplex
without presolve (measured 2-3x faster here than with it).  Size: :math:`|B| + n|B||S||\Theta| + \sum_i
|B_i|^2|S_i|` variables, one row per cap, IC and misreport constraint.  Total time stays within about
1.2-1.4x of HiGHS's own solve time (``benchmarks/bench_hiring.py``).

**Uncorrelated mechanism** (:func:`optimal_uncorrelated_mechanism`): recommend one profile :math:`b`
and pay agent *i* a scoring rule :math:`g_i(\hat s_i, \theta)` of its own report; the best one
maximises :math:`V(b) - \sum_i \mathrm{MinPay}_i(b)` where :math:`\mathrm{MinPay}_i(b)` is the
single-agent LP

.. math::

    \min_{g \in [0,M_i]^{S_i \times \Theta},\, z \ge 0} \;
        & \sum_{s_i,\theta} q^{b}_i(s_i,\theta)\, g(s_i,\theta) \\
    \text{s.t.}\; & \sum_{s_i,\theta} q^{b}_i g - \sum_{s_i} z[b'_i, s_i]
        \ge C_i(b_i, b'_i) + \epsilon[b'_i\ne b_i], \\
    & z[b'_i, s_i] \ge \sum_\theta q^{(b'_i,b_{-i})}_i(s_i,\theta)\, g(s'_i, \theta),

with :math:`q^{b}_i(s_i,\theta) = \mu(\theta) P_i(s_i \mid b, \theta)` agent *i*'s marginal joint.
Its rows are those of :mod:`mechsim.hiring.incentive_rows`, shared with the inducing rules below and with
the cost sampler of :meth:`mechsim.hiring.HiringInstance.random`.

**Inducing scoring rules** (:func:`inducing_scoring_rules`): for each agent *i* and effort *k* the
max-margin rule :math:`\bar g_i^k`, solving :math:`\max \iota` over :math:`g \in [0,M_i]` subject to
:math:`(k, \text{truthful})` beating every :math:`(k', \omega)` with :math:`k' \ne k` by
:math:`\iota` (z-trick) and every misreport :math:`s_i \to t \ne s_i` at effort *k* by :math:`\iota`
(:math:`f^k(s_i,s_i) - f^k(s_i,t) \ge \iota`, which together make :math:`(k,\text{truthful})` the
unique best response by margin :math:`\iota`); Assumption 1 of the paper, which the online learner
(:mod:`mechsim.learners.hiring_online`) relies on.

Every result reports the optimum as ``value``, HiGHS's ``status`` and its ``solve_time`` (the older names
``objective`` remain as deprecated aliases).
"""

from __future__ import annotations

import math
import numbers
import time
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import highspy
import numpy as np
import scipy.sparse as sp

from mechsim.errors import InfeasibleError, InvalidInstanceError, SolverError
from mechsim.hiring.audit import _agent_axes, audit_incentives, incentive_rows
from mechsim.hiring.incentive_rows import csr_from_blocks, deviation_rows, truthful_rows
from mechsim.hiring.model import (
    HiringInstance,
    Mechanism,
    _bayes_decision,
    _type_name,
    _value_of_information,
    check_hiring_instance,
    check_payment_caps,
    check_profile,
)
from mechsim.solvers._highs import HighsModel, HighsResult, quiet_highs
from mechsim.validation import (
    check_allocation,
    check_array,
    check_in_range,
    check_nonnegative,
)

__all__ = [
    "LPInfo",
    "HiringLP",
    "HiringLPSolution",
    "InducingRules",
    "UncorrelatedSolution",
    "build_hiring_lp",
    "solve_assembled_lp",
    "solve_hiring_lp",
    "optimal_mechanism",
    "optimal_uncorrelated_mechanism",
    "min_payment",
    "inducing_scoring_rules",
]

# : Profiles recommended with probability below this are dropped when payments are recovered (y /
# phi).
PHI_TOLERANCE = 1e-12

#: HiGHS options of every hiring LP.  Presolve costs more than it saves on these LPs (measured 2-3x slower
#: with it on), and the tight tolerances keep conditional IC violations (per unit of phi) far below the
#: audit's 1e-7.
HIGHS_OPTIONS = {"presolve": "off", "primal_feasibility_tolerance": 1e-10, "dual_feasibility_tolerance": 1e-10}

#: Tolerance of the checks every solver result passes before it is returned (in units of the LP's scale, see
#: :func:`build_hiring_lp`; each incentive row is the unconditional one, weighted by the recommendation
#: probability, and gets this tolerance times ``1 + n_signals_i``, the number of solver-tolerance terms it sums).
VERIFY_ATOL = 1e-9

#: Largest number of nonzeros of an assembled LP: HiGHS and the CSR assembly index them with int32.
MAX_NONZEROS = 2**31 - 1


def check_highs_options(options) -> dict:
    """Validate user HiGHS options before any solve; return them as a dict (``{}`` for None).

    Every name must be a HiGHS option and every value one HiGHS accepts for it (tried on a throwaway model),
    and no value may be NaN (HiGHS would take ``time_limit=nan``).

    Raises
    ------
    InvalidInstanceError
        Naming ``highs_options`` and the offending option.
    """
    if options is None:
        return {}
    if not isinstance(options, Mapping):
        raise InvalidInstanceError(f"highs_options: expected a dict of HiGHS option names and values, found "
                                   f"{_type_name(options)}", argument="highs_options")
    options = dict(options)
    if not options:
        return options
    probe = quiet_highs()
    for key, value in options.items():
        if not isinstance(key, str):
            raise InvalidInstanceError(f"highs_options: expected option names as strings, found {key!r}",
                                       argument="highs_options")
        if isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isnan(value):
            raise InvalidInstanceError(f"highs_options: expected a number for option {key!r}, found nan",
                                       argument="highs_options")
        try:
            rejected = probe.setOptionValue(key, value) == highspy.HighsStatus.kError
        except (TypeError, ValueError, RuntimeError):
            rejected = True
        if rejected:
            known = key in _highs_option_names(probe)
            raise InvalidInstanceError(
                "highs_options: expected HiGHS option names with values HiGHS accepts, found "
                + (f"{key}={value!r}, a value HiGHS rejects for that option" if known
                   else f"{key!r}, which is not a HiGHS option"), argument="highs_options")
    return options


def _highs_option_names(h) -> set:
    return {name for name in dir(h.getOptions()) if not name.startswith("_")}


def _unit(*magnitudes) -> float:
    """The largest magnitude (1 if all are 0): the LPs are solved in this unit.

    Multiplying every magnitude by a factor multiplies the unit by the same factor, so the LP HiGHS sees is the
    same up to rounding at every scale (and exactly the same when the cap is the largest magnitude and 1).
    """
    peak = max((float(m) for m in magnitudes), default=0.0)
    return peak if peak > 0 and math.isfinite(peak) else 1.0


def _deprecated(old: str, new: str) -> None:
    warnings.warn(f"{old} is deprecated; use {new}", DeprecationWarning, stacklevel=3)


@dataclass(frozen=True)
class LPInfo:
    """Size and timing of one LP solve.

    Attributes
    ----------
    n_variables, n_constraints, n_nonzeros : int
    build_time : float
        Seconds spent assembling the sparse matrix (numpy).
    solve_time : float
        Seconds inside HiGHS's solve (``Highs.run``) alone.
    total_time : float
        Wall time of the whole call (build, passing the model, solve, recovery of the mechanism).
    status : str
        HiGHS model status string.
    value : float
        Optimal LP objective (the principal's utility; formerly ``objective``).
    iterations : int
        Simplex iterations.
    scale : float
        The unit the LP was solved in (:class:`HiringLP`).
    """

    n_variables: int
    n_constraints: int
    n_nonzeros: int
    build_time: float
    solve_time: float
    total_time: float
    status: str
    value: float
    iterations: int
    scale: float = 1.0

    @property
    def objective(self) -> float:
        """Deprecated alias of :attr:`value`."""
        _deprecated("LPInfo.objective", "LPInfo.value")
        return self.value


def _solve(cost, matrix, row_lower, row_upper, col_lower, col_upper, options=None,
           what: str = "the hiring LP") -> HighsResult:
    """Minimise ``cost @ x`` subject to the row and column bounds; raise unless solved to optimality."""
    model = HighsModel(cost, matrix, row_lower, row_upper, col_lower, col_upper,
                       options={**HIGHS_OPTIONS, **(options or {})}, what=what)
    return model.solve()


# ------------------------------------------------------------------------------------- correlated
# LP
@dataclass(frozen=True)
class HiringLP:
    """The assembled correlated LP: minimise ``cost @ x`` s.t. bounds on ``matrix @ x`` and ``x``.

    Variables are ordered ``phi`` (``|B|``, C order over ``n_efforts``), then ``y_i`` for each agent
    (``|B||S||Theta|`` each, C order over ``(*n_efforts, *n_signals, n_states)``), then ``z_i``
    (``|B_i|^2 |S_i|`` each, C order over ``(b_i, b'_i, s_i)``; in the per-signal truthfulness form the
    ``b'_i = b_i`` ones stay unused).  Rows: the normalisation, the caps ``y_i <= M_i phi``, the IC rows
    ``(i, b_i, b'_i)``, the misreport rows ``(i, b_i, b'_i, s_i, s'_i)`` (both without ``b'_i = b_i`` in
    the per-signal form), then the per-signal truthfulness rows ``(i, b_i, s_i, t)`` if any.

    Everything measured in utility (utilities, costs, the caps, margins, payments ``y`` and ``z``, the
    objective) is divided by ``scale``, the largest of the largest cap, the utilities and the
    cost differences, so that the LP HiGHS sees has coefficients of order one whatever the units (its
    tolerances are absolute).  ``payment_caps`` holds agent *i*'s cap :math:`M_i` in the caller's units
    (``None``: every agent has ``payment_cap``), ``payment_cap`` the largest cap (the common cap when there is
    one).  ``rows`` holds what the check of a solution needs (:func:`solve_assembled_lp`).
    """

    cost: np.ndarray
    matrix: sp.csr_array
    row_lower: np.ndarray
    row_upper: np.ndarray
    col_lower: np.ndarray
    col_upper: np.ndarray
    n_efforts: tuple
    n_signals: tuple
    n_states: int
    payment_cap: float
    build_time: float
    scale: float = 1.0
    rows: dict | None = field(default=None, repr=False, compare=False)
    payment_caps: tuple | None = None

    @property
    def n_variables(self) -> int:
        return self.matrix.shape[1]

    @property
    def n_constraints(self) -> int:
        return self.matrix.shape[0]

    @property
    def n_nonzeros(self) -> int:
        return self.matrix.nnz

    def _caps(self) -> np.ndarray:
        """Every agent's cap in the caller's units, shape ``(n_agents,)``."""
        if self.payment_caps is None:
            return np.full(len(self.n_efforts), float(self.payment_cap))
        return np.asarray(self.payment_caps, dtype=float)


@dataclass(frozen=True)
class HiringLPSolution:
    """Optimal solution of the correlated LP on given (possibly estimated) data.

    Attributes
    ----------
    mechanism : Mechanism
        Recommendation, payments ``gamma = y / phi`` (0 where ``phi = 0``), the Bayes decision under
        the given joint, and ``value`` = the principal's utility evaluated under the given joint.
    value : float
        LP optimum (equals ``mechanism.value`` up to solver tolerance; formerly ``objective``).
    info : LPInfo
        Sizes, times, ``status`` and ``solve_time`` (also offered as properties here).
    """

    mechanism: Mechanism
    value: float
    info: LPInfo

    @property
    def objective(self) -> float:
        """Deprecated alias of :attr:`value`."""
        _deprecated("HiringLPSolution.objective", "HiringLPSolution.value")
        return self.value

    @property
    def status(self) -> str:
        return self.info.status

    @property
    def solve_time(self) -> float:
        return self.info.solve_time

    @property
    def recommendation(self) -> np.ndarray:
        return self.mechanism.recommendation

    @property
    def payments(self) -> np.ndarray:
        return self.mechanism.payments

    @property
    def decision(self) -> np.ndarray:
        return self.mechanism.decision


def _per_agent_matrices(name, value, n_efforts, default=0.0) -> list[np.ndarray]:
    """``value`` as one ``(B_i, B_i)`` array per agent (a scalar is broadcast)."""
    if value is None:
        value = default
    if np.isscalar(value) or (isinstance(value, np.ndarray) and value.ndim == 0):
        x = check_nonnegative(name, value) if name == "relaxation" else float(check_array(name, value, ndim=0))
        return [np.full((b, b), x) for b in n_efforts]
    if not isinstance(value, (Sequence, np.ndarray)):
        raise InvalidInstanceError(f"{name}: expected a number or {len(n_efforts)} arrays (one per agent), found "
                                   f"{_type_name(value)}", argument=name)
    if len(value) != len(n_efforts):
        raise InvalidInstanceError(
            f"{name}: expected {len(n_efforts)} arrays (one per agent), found {len(value)}",
            argument=name,
        )
    out = []
    for i, (v, b) in enumerate(zip(value, n_efforts)):
        arr = check_array(f"{name}[{i}]", v, shape=(b, b))
        if name == "relaxation":
            check_in_range(f"{name}[{i}]", arr, low=0.0)
        out.append(arr)
    return out


def build_hiring_lp(
    joint,
    cost_differences,
    utility,
    payment_cap: float,
    *,
    margin: float = 0.0,
    relaxation=None,
    profile=None,
    effort_margins=None,
    truthful_margins=None,
) -> HiringLP:
    r"""Assemble the correlated LP (module docstring) from arrays.

    Parameters
    ----------
    joint : array_like, shape ``(*n_efforts, *n_signals, n_states)``
        :math:`q_b(s,\theta)` — true or estimated (non-negative; normalisation is not required).
    cost_differences : sequence of ``n_agents`` array_like
        ``cost_differences[i][b, b'] = c_i(b) - c_i(b')``, shape ``(n_efforts_i, n_efforts_i)``.
    utility : array_like, shape ``(n_actions, n_states)``
    payment_cap : float or sequence of ``n_agents`` floats
        ``M > 0`` for everybody, or agent *i*'s cap ``M_i > 0`` (:func:`mechsim.hiring.model.check_payment_caps`).
    margin : float, default 0
        :math:`\epsilon`: every effort deviation must lose at least ``margin`` per unit of
        :math:`\phi_i(b_i)`.  Negative values relax every effort-deviation row.
    relaxation : None, float or sequence of ``(n_efforts_i, n_efforts_i)`` arrays, default None
        :math:`\rho_i[b_i, b'_i] \ge 0` subtracted from the right-hand side of IC row ``(i, b_i,
        b'_i)`` (per unit of :math:`\phi_i(b_i)`); the diagonal relaxes the truthful-reporting row.
    profile : sequence of int, optional
        Restrict the recommendation to this profile (``phi = 1`` there): the best mechanism that
        always recommends ``profile``, still paying on everybody's reports.
    effort_margins : None, float or sequence of ``(n_efforts_i, n_efforts_i)`` arrays, default None
        :math:`m_i[b_i, b'_i]` added to ``margin`` on effort-deviation row ``(i, b_i, b'_i)``; any sign
        (negative entries relax).  Diagonals are ignored.
    truthful_margins : None or sequence of ``(n_efforts_i, n_signals_i)`` arrays, default None
        Selects the per-signal truthfulness form (module docstring) with margins
        :math:`\tau_i[b_i, s_i]`; the diagonal of ``relaxation`` then has no row to act on.

    Returns
    -------
    HiringLP
    """
    t0 = time.perf_counter()
    n = _n_agents_of(cost_differences)
    q = check_array("joint", joint)
    if q.ndim != 2 * n + 1:
        raise InvalidInstanceError(
            f"joint: expected {2 * n + 1} dimensions (*n_efforts, *n_signals, n_states) "
            f"for the {n} agents of cost_differences (one array each), "
            f"found shape {q.shape}",
            argument="joint",
        )
    if q.size == 0:
        raise InvalidInstanceError(f"joint: expected at least one effort, signal and state per agent, found shape "
                                   f"{q.shape}", argument="joint")
    check_in_range("joint", q, low=0.0)
    n_efforts, n_signals, T = q.shape[:n], q.shape[n : 2 * n], q.shape[-1]
    u = check_array("utility", utility, ndim=2)
    if u.shape[0] < 1 or u.shape[1] != T:
        raise InvalidInstanceError(f"utility: expected shape (n_actions, n_states) with n_actions >= 1 and the "
                                   f"n_states = {T} of joint, found shape {u.shape}", argument="utility")
    M = check_payment_caps("payment_cap", payment_cap, n)            # (n,): agent i's cap M_i
    margin = float(check_array("margin", margin, ndim=0))
    C = _per_agent_matrices("cost_differences", cost_differences, n_efforts)
    rho = _per_agent_matrices("relaxation", relaxation, n_efforts)
    m_eff = None if effort_margins is None else _per_agent_matrices("effort_margins", effort_margins, n_efforts)
    per_signal = truthful_margins is not None
    if per_signal:
        if isinstance(truthful_margins, (str, bytes)) or not isinstance(truthful_margins, (Sequence, np.ndarray)) \
                or isinstance(truthful_margins, np.ndarray) and truthful_margins.ndim == 0:
            raise InvalidInstanceError(f"truthful_margins: expected None or {n} arrays (one per agent), found "
                                       f"{_type_name(truthful_margins)}", argument="truthful_margins")
        if len(truthful_margins) != n:
            raise InvalidInstanceError(
                f"truthful_margins: expected {n} arrays (one per agent), found {len(truthful_margins)}",
                argument="truthful_margins")
        tau = [check_array(f"truthful_margins[{i}]", m, shape=(n_efforts[i], n_signals[i]))
               for i, m in enumerate(truthful_margins)]
    fixed_profile = None if profile is None else check_profile("profile", profile, n_efforts)
    _check_lp_size(q, n, per_signal)
    # Solve in units of `scale`: HiGHS's tolerances are absolute, so the LP it sees must not depend on the units.
    scale = _unit(M.max(), np.abs(u).max(initial=0.0), *(np.abs(c).max(initial=0.0) for c in C))
    if scale != 1.0:
        u, M, margin = u / scale, M / scale, margin / scale
        C, rho = [c / scale for c in C], [r / scale for r in rho]
        m_eff = None if m_eff is None else [m / scale for m in m_eff]
        tau = [t / scale for t in tau] if per_signal else None

    P = int(np.prod(n_efforts))
    SS = int(np.prod(n_signals))
    Y = P * SS * T
    phi_index = np.arange(P).reshape(n_efforts)
    y_base = P + np.arange(n) * Y
    z_sizes = [b * b * s for b, s in zip(n_efforts, n_signals)]
    z_base = P + n * Y + np.concatenate([[0], np.cumsum(z_sizes)[:-1]]).astype(int)
    n_cols = P + n * Y + sum(z_sizes)

    blocks, lower, upper = [], [], []
    # normalisation: sum_b phi(b) = 1
    blocks.append((phi_index.reshape(1, -1), np.ones((1, P))))
    lower.append([1.0])
    upper.append([1.0])
    # caps: y_i(b,s,theta) - M_i phi(b) <= 0
    phi_of_y = np.broadcast_to(phi_index.reshape(P, 1), (P, SS * T)).ravel()
    for i in range(n):
        cols = np.stack([y_base[i] + np.arange(Y), phi_of_y], axis=1)
        vals = np.broadcast_to(np.array([1.0, -M[i]]), (Y, 2))
        blocks.append((cols, vals))
    lower.append(np.full(n * Y, -np.inf))
    upper.append(np.zeros(n * Y))

    ic_blocks, misreport_blocks, truthful_blocks = [], [], []
    n_ic = n_mis = n_truthful = 0
    for i in range(n):
        B, S = n_efforts[i], n_signals[i]
        R = P // B
        axes = _agent_axes(n, i)
        qt = np.transpose(q, axes).reshape(B, R, S, -1)  # (b', r, s, k)
        K = qt.shape[-1]
        y_idx = np.transpose((y_base[i] + np.arange(Y)).reshape(q.shape), axes).reshape(B, R, S, K)
        phi_idx = np.transpose(phi_index, axes[:n]).reshape(B, R)
        z_idx = z_base[i] + np.arange(B * B * S).reshape(B, B, S)
        # the (b, b') pairs with rows: all of them, or the effort deviations only in the per-signal form
        pairs = ~np.eye(B, dtype=bool) if per_signal else np.ones((B, B), dtype=bool)

        def rows_of(a, pairs=pairs, B=B):  # a[b, b', ...] -> rows of the selected pairs (no copy if all)
            return a[pairs] if per_signal else a.reshape(B * B, *a.shape[2:])

        # IC rows (b, b'): q_b . y_i(b)  -  sum_s z[b,b',s]  -  (C + eps [b'!=b] - rho) phi(b, .)
        # >= 0
        rhs = C[i] + margin * (1 - np.eye(B)) - rho[i]
        if m_eff is not None:
            rhs = rhs + np.where(np.eye(B, dtype=bool), 0.0, m_eff[i])
        y_cols = np.broadcast_to(y_idx.reshape(B, 1, -1), (B, B, R * S * K))
        y_vals = np.broadcast_to(qt.reshape(B, 1, -1), (B, B, R * S * K))
        p_cols = np.broadcast_to(phi_idx[:, None, :], (B, B, R))
        p_vals = np.broadcast_to(-rhs[:, :, None], (B, B, R))
        cols = rows_of(np.concatenate([y_cols, z_idx, p_cols], axis=2))
        vals = rows_of(np.concatenate([y_vals, np.full((B, B, S), -1.0), p_vals], axis=2))
        ic_blocks.append((cols, vals))
        # misreport rows (b, b', s, s'): z[b,b',s] - sum_{r,k} q[b',r,s,k] y_i[b,r,s',k] >= 0
        y_bt = np.transpose(y_idx, (0, 2, 1, 3)).reshape(B, 1, 1, S, R * K)  # (b, ., ., s', rk)
        q_ps = np.transpose(qt, (0, 2, 1, 3)).reshape(1, B, S, 1, R * K)  # (., b', s, ., rk)
        shape = (B, B, S, S, R * K)
        cols = rows_of(np.concatenate(
            [
                np.broadcast_to(z_idx[:, :, :, None, None], (B, B, S, S, 1)),
                np.broadcast_to(y_bt, shape),
            ],
            axis=4,
        )).reshape(-1, 1 + R * K)
        vals = rows_of(np.concatenate(
            [np.ones((B, B, S, S, 1)), np.broadcast_to(-q_ps, shape)], axis=4
        )).reshape(-1, 1 + R * K)
        misreport_blocks.append((cols, vals))
        n_pairs = int(pairs.sum())
        n_ic += n_pairs
        n_mis += n_pairs * S * S
        if per_signal:
            # (b, s, t): sum_{r,k} q[b,r,s,k] (y_i[b,r,s,k] - y_i[b,r,t,k]) - tau[b,s] phi(b, .) >= 0
            s_, t_ = np.nonzero(~np.eye(S, dtype=bool))
            y_s = np.transpose(y_idx[:, :, s_, :], (0, 2, 1, 3)).reshape(B, s_.size, R * K)
            y_t = np.transpose(y_idx[:, :, t_, :], (0, 2, 1, 3)).reshape(B, s_.size, R * K)
            q_s = np.transpose(qt[:, :, s_, :], (0, 2, 1, 3)).reshape(B, s_.size, R * K)
            cols = np.concatenate([y_s, y_t, np.broadcast_to(phi_idx[:, None, :], (B, s_.size, R))], axis=2)
            vals = np.concatenate([q_s, -q_s, np.broadcast_to(-tau[i][:, s_, None], (B, s_.size, R))], axis=2)
            width = 2 * R * K + R
            truthful_blocks.append((cols.reshape(B * s_.size, width), vals.reshape(B * s_.size, width)))
            n_truthful += B * s_.size
    blocks += ic_blocks + misreport_blocks + truthful_blocks
    lower.append(np.zeros(n_ic + n_mis + n_truthful))
    upper.append(np.full(n_ic + n_mis + n_truthful, np.inf))
    matrix = csr_from_blocks(blocks, n_cols)

    V = _value_of_information(q, u, n)
    cost = np.concatenate([-V.ravel(), np.tile(q.ravel(), n), np.zeros(sum(z_sizes))])
    col_lower = np.zeros(n_cols)
    col_upper = np.concatenate([np.ones(P), np.repeat(M, Y), np.full(sum(z_sizes), np.inf)])
    if fixed_profile is not None:
        col_upper[:P] = 0.0
        fixed = phi_index[fixed_profile]
        col_lower[fixed] = col_upper[fixed] = 1.0
    return HiringLP(
        cost=cost,
        matrix=matrix,
        row_lower=np.concatenate(lower),
        row_upper=np.concatenate(upper),
        col_lower=col_lower,
        col_upper=col_upper,
        n_efforts=tuple(n_efforts),
        n_signals=tuple(n_signals),
        n_states=T,
        payment_cap=float(M.max() * scale),
        build_time=time.perf_counter() - t0,
        scale=scale,
        rows={"joint": q, "cost_differences": C, "utility": u, "payment_caps": M, "margin": margin,
              "relaxation": rho, "effort_margins": m_eff, "truthful_margins": tau if per_signal else None,
              "profile": fixed_profile},
        payment_caps=tuple(float(m) for m in M * scale),
    )


def _n_agents_of(cost_differences) -> int:
    if isinstance(cost_differences, (str, bytes)) or not isinstance(cost_differences, (Sequence, np.ndarray)) \
            or isinstance(cost_differences, np.ndarray) and cost_differences.ndim == 0:
        raise InvalidInstanceError(f"cost_differences: expected one (n_efforts_i, n_efforts_i) array per agent, "
                                   f"found {_type_name(cost_differences)}", argument="cost_differences")
    if len(cost_differences) < 1:
        raise InvalidInstanceError("cost_differences: expected one array per agent, found none",
                                   argument="cost_differences")
    return len(cost_differences)


def _check_lp_size(q: np.ndarray, n: int, per_signal: bool) -> None:
    """Refuse, before assembling, an LP whose matrix would not fit in memory or in HiGHS's int32 indices."""
    E, S = q.shape[:n], q.shape[n:2 * n]
    P, Y = math.prod(E), q.size
    nnz = P + 2 * n * Y
    for B, Si in zip(E, S):
        # IC rows, misreport rows (one entry of z and R*K of y each) and per-signal truthfulness rows
        nnz += B * Y + B * B * Si + B * P + B * B * Si * Si + B * Si * Y
        if per_signal:
            nnz += 2 * Si * Y + B * Si * Si * (P // B)
    if nnz > MAX_NONZEROS:
        raise InvalidInstanceError(f"joint: expected a shape whose hiring LP has at most {MAX_NONZEROS} nonzeros "
                                   f"(HiGHS's int32 indices), found shape {q.shape} giving about {nnz}",
                                   argument="joint")
    # column and value arrays of the row blocks, their concatenation, the CSR and CSC copies
    check_allocation("joint", 64 * nnz, f"a hiring LP of about {nnz} nonzeros for a joint of shape {q.shape}")


def _recover(lp: HiringLP, x: np.ndarray):
    """``(phi, gamma)`` from an LP solution: ``gamma = y / phi`` on the support, not yet clipped.

    Callers clip agent *i*'s ``gamma`` to ``[0, M_i]``; that only removes solver round-off (|excess| of order
    1e-10): ``y_i <= M_i phi`` is a constraint.
    """
    E, S, T = lp.n_efforts, lp.n_signals, lp.n_states
    n, P = len(E), int(np.prod(E))
    phi = np.clip(x[:P], 0.0, None)
    phi[phi < PHI_TOLERANCE] = 0.0
    phi = (phi / phi.sum()).reshape(E)
    Y = P * int(np.prod(S)) * T
    y = x[P : P + n * Y].reshape(n, *E, *S, T)
    raw_phi = x[:P].reshape(E)
    support = phi > 0
    gamma = np.zeros_like(y)
    gamma[:, support] = y[:, support] / raw_phi[support].reshape(1, -1, *([1] * (n + 1)))
    return phi, gamma


def solve_assembled_lp(lp: HiringLP, highs_options: dict | None = None, *, what: str = "the hiring LP"):
    """Solve an assembled :class:`HiringLP` with HiGHS, check the solution, return ``(phi, gamma, result)``.

    ``gamma`` is recovered as ``y / phi`` in the caller's units, agent *i*'s clipped to ``[0, M_i]`` after checking
    that it leaves that interval by solver round-off only (``1e-6 max(1, M_i)`` above, ``1e-9`` below, in the LP's
    units).
    ``result`` is the :class:`~mechsim.solvers._highs.HighsResult`; its ``value`` is the *minimised*
    objective (minus the principal's utility) in the caller's units, its ``x`` in the LP's (``lp.scale``).

    Before returning, the recovered ``(phi, gamma)`` is checked against every constraint of the LP, recomputed
    from the data (:func:`mechsim.hiring.audit.incentive_rows`: each unconditional incentive row within
    :data:`VERIFY_ATOL` ``(1 + n_signals_i)`` in the LP's units; the profile restriction; the value of the
    recovered mechanism equal to the LP optimum within ``1e-8``).

    Raises
    ------
    InvalidInstanceError
        ``lp`` is not a :class:`HiringLP` or ``highs_options`` is not valid (:func:`check_highs_options`).
    InfeasibleError, SolverError
        As :meth:`mechsim.solvers._highs.HighsModel.solve`; :class:`SolverError` also when the solution
        fails the check.
    """
    if not isinstance(lp, HiringLP):
        raise InvalidInstanceError(f"lp: expected a HiringLP (build_hiring_lp), found {_type_name(lp)}",
                                   argument="lp")
    highs_options = check_highs_options(highs_options)
    result = _solve(lp.cost, lp.matrix, lp.row_lower, lp.row_upper, lp.col_lower, lp.col_upper,
                    highs_options, what=what)
    phi, gamma = _recover(lp, result.x)
    n = len(lp.n_efforts)
    cap = lp._caps() / lp.scale                                   # agent i's cap in the LP's units
    over = gamma.reshape(n, -1).max(axis=1, initial=0.0) - cap
    if np.any(over > 1e-6 * np.maximum(1.0, cap)) or gamma.min(initial=0.0) < -1e-9:
        worst = int(np.argmax(over - 1e-6 * np.maximum(1.0, cap)))
        raise SolverError(f"{what}: payments recovered outside [0, M_i] (agent {worst} exceeds its cap by "
                          f"{over[worst]:.3g})", status=f"overshoot {over.max():.3g}")
    # removes solver round-off only (checked just above)
    gamma = np.clip(gamma, 0.0, cap.reshape((n,) + (1,) * (gamma.ndim - 1)))
    _verify(lp, phi, gamma, -result.value, what, result.status)
    if lp.scale != 1.0:
        gamma = gamma * lp.scale
        result = replace(result, value=result.value * lp.scale)
    return phi, gamma, result


def _verify(lp: HiringLP, phi: np.ndarray, gamma: np.ndarray, optimum: float, what: str, status: str) -> None:
    """Raise :class:`SolverError` unless ``(phi, gamma)`` (LP units) meets every row of ``lp`` and its optimum."""
    rows = lp.rows
    if rows is None:
        return
    q, u, C = rows["joint"], rows["utility"], rows["cost_differences"]
    n = len(lp.n_efforts)
    problems = []
    if phi.min() < 0 or abs(phi.sum() - 1.0) > 1e-9:
        problems.append(f"the recommendation is not a distribution (sum {phi.sum():.12g})")
    if rows["profile"] is not None and phi[rows["profile"]] != 1.0:
        problems.append(f"the recommendation leaves profile {rows['profile']}")
    for i, (raw, phi_i, f) in enumerate(incentive_rows(q, C, phi, gamma)):
        B, S = lp.n_efforts[i], lp.n_signals[i]
        tol = VERIFY_ATOL * (1 + S)
        off = ~np.eye(B, dtype=bool)
        bound = rows["relaxation"][i] - rows["margin"] * off
        if rows["effort_margins"] is not None:
            bound = bound - np.where(off, rows["effort_margins"][i], 0.0)
        checked = off if rows["truthful_margins"] is not None else np.ones((B, B), dtype=bool)
        excess = np.where(checked, raw - phi_i[:, None] * bound, -np.inf)
        if excess.max() > tol:
            b, p = np.unravel_index(np.argmax(excess), excess.shape)
            problems.append(f"agent {i}'s incentive row (recommended {b}, exerting {p}) is violated by "
                            f"{excess.max():.3g} > {tol:.3g}")
        if rows["truthful_margins"] is not None and S > 1:
            own = f[np.arange(B), np.arange(B)]                                   # (b, s, t)
            slack = np.diagonal(own, axis1=1, axis2=2)[:, :, None] - own
            need = rows["truthful_margins"][i][:, :, None] * phi_i[:, None, None]
            short = np.where(~np.eye(S, dtype=bool)[None], need - slack, -np.inf)
            if short.max() > tol:
                b, s_, t_ = np.unravel_index(np.argmax(short), short.shape)
                problems.append(f"agent {i}'s truthfulness row (recommended {b}, signal {s_} reported as {t_}) "
                                f"is violated by {short.max():.3g} > {tol:.3g}")
    V = _value_of_information(q, u, n)
    paid = np.einsum("i...,...->...", gamma, q).sum(axis=tuple(range(n, 2 * n + 1)))
    value = float((phi * (V - paid)).sum())
    if not abs(value - optimum) <= 1e-8:
        problems.append(f"the recovered mechanism is worth {value:.12g}, not the LP optimum {optimum:.12g}")
    if problems:
        raise SolverError(f"{what}: the solution fails the check of its constraints: " + "; ".join(problems)
                          + f" (in units of {lp.scale:g})", status=status, problems=problems)


def solve_hiring_lp(
    joint,
    cost_differences,
    utility,
    payment_cap: float,
    *,
    margin: float = 0.0,
    relaxation=None,
    profile=None,
    highs_options: dict | None = None,
    effort_margins=None,
    truthful_margins=None,
) -> HiringLPSolution:
    r"""Solve the correlated LP on arbitrary (e.g. estimated) data.

    This is the entry point for learners that only have estimates: pass the estimated joint
    :math:`\hat q_b(s,\theta)` (e.g. empirical frequencies of (reports, state) under each induced
    profile), estimated cost differences, and per-row relaxations sized to the estimation error.

    Parameters
    ----------
    joint : array_like, shape ``(*n_efforts, *n_signals, n_states)``
        :math:`q_b(s,\theta)`, non-negative.
    cost_differences : sequence of ``n_agents`` array_like, ``(n_efforts_i, n_efforts_i)``
        ``C_i[b, b'] = c_i(b) - c_i(b')``.
    utility : array_like, shape ``(n_actions, n_states)``
    payment_cap : float or sequence of ``n_agents`` floats
        The common cap ``M`` or one cap ``M_i`` per agent.
    margin : float, default 0
        Required loss of every effort deviation per unit of recommendation probability.
    relaxation : None, float or sequence of ``(n_efforts_i, n_efforts_i)`` arrays
        Non-negative slack on IC row ``(i, b_i, b'_i)``; see :func:`build_hiring_lp`.
    profile : sequence of int, optional
        Restrict the recommendation to one profile (see :func:`build_hiring_lp`).
    highs_options : dict, optional
        Extra HiGHS options (e.g. ``{"time_limit": 60.0}``).
    effort_margins, truthful_margins : optional
        Per-row effort margins and the per-signal truthfulness form; see :func:`build_hiring_lp`.

    Returns
    -------
    HiringLPSolution
        ``.mechanism`` (valued under ``joint``), ``.value`` (the LP optimum), ``.status``,
        ``.solve_time``, ``.info`` (sizes and times).

    Raises
    ------
    InfeasibleError
        No mechanism satisfies the (margin-tightened, relaxation-loosened) IC rows within the caps.
    SolverError
        HiGHS stopped for another reason (time limit, numerical trouble); carries the status.

    Examples
    --------
    >>> from mechsim.hiring import HiringInstance
    >>> inst = HiringInstance.random(2, 2, 2, 2, 2, correlation=0.5, seed=3)
    >>> sol = solve_hiring_lp(inst.joint, [inst.cost_differences(i) for i in range(2)],
    ...                       inst.utility, inst.payment_cap)
    >>> round(sol.value - sol.mechanism.value, 9)
    0.0
    """
    t0 = time.perf_counter()
    check_highs_options(highs_options)
    lp = build_hiring_lp(
        joint,
        cost_differences,
        utility,
        payment_cap,
        margin=margin,
        relaxation=relaxation,
        profile=profile,
        effort_margins=effort_margins,
        truthful_margins=truthful_margins,
    )
    phi, gamma, result = solve_assembled_lp(lp, highs_options)
    q = np.asarray(joint, dtype=float)
    u = np.asarray(utility, dtype=float)
    n = len(lp.n_efforts)
    decision = _bayes_decision(q, u)
    info_value = np.einsum("...a,...t,at->...", decision, q, u).sum(axis=tuple(range(n, 2 * n)))
    paid = np.einsum("i...,...->...", gamma, q).sum(axis=tuple(range(n, 2 * n + 1)))
    value = float((phi * (info_value - paid)).sum())
    mechanism = Mechanism(phi, gamma, decision, value)
    info = LPInfo(
        n_variables=lp.n_variables,
        n_constraints=lp.n_constraints,
        n_nonzeros=lp.n_nonzeros,
        build_time=lp.build_time,
        solve_time=result.solve_time,
        total_time=time.perf_counter() - t0,
        status=result.status,
        value=-result.value,
        iterations=result.iterations,
        scale=lp.scale,
    )
    return HiringLPSolution(mechanism=mechanism, value=-result.value, info=info)


def optimal_mechanism(
    instance: HiringInstance,
    margin: float = 0.0,
    *,
    return_info: bool = False,
    profile=None,
    highs_options: dict | None = None,
):
    r"""The optimal correlated IC mechanism of ``instance`` (exact LP, HiGHS simplex).

    Parameters
    ----------
    instance : HiringInstance
    margin : float, default 0
        :math:`\epsilon \ge 0`: every effort deviation loses at least ``margin`` per unit of the
        recommendation probability :math:`\phi_i(b_i)` (truthful reporting stays weakly optimal).
    return_info : bool, default False
        Also return the :class:`LPInfo` (sizes, build and solve times).
    profile : sequence of int, optional
        Only recommend this profile: the best correlated mechanism with a deterministic
        recommendation ``profile``.  Comparing ``max_b optimal_mechanism(instance,
        profile=b).value`` with the unrestricted value tells whether randomising the recommendation
        genuinely helps.
    highs_options : dict, optional
        Extra HiGHS options.

    Returns
    -------
    Mechanism or (Mechanism, LPInfo)
        ``value`` equals :func:`~mechsim.hiring.audit.evaluate_mechanism`; the audit passes with
        ``atol=1e-7``.

    Raises
    ------
    InfeasibleError
        ``margin > 0`` cannot be met within the payment caps.
    SolverError
        HiGHS failed, or the recovered mechanism fails a check: the LP's rows (:func:`solve_assembled_lp`),
        the exact incentive audit at ``atol=1e-7`` (per unit of recommendation probability, in the units of
        the LP's scale) with the margin and every agent's payments in ``[0, M_i]``, or its value against the
        LP optimum.
    InvalidInstanceError
        ``instance`` is not a :class:`~mechsim.hiring.HiringInstance`, or another argument is invalid
        (``highs_options`` is checked before anything is solved: :func:`check_highs_options`).

    Examples
    --------
    >>> from mechsim.hiring import HiringInstance, audit_incentives
    >>> inst = HiringInstance.random(2, 2, 2, 2, 2, correlation=0.6, seed=0)
    >>> mech = optimal_mechanism(inst)
    >>> audit_incentives(inst, mech).is_ic
    True
    """
    instance = check_hiring_instance("instance", instance)
    margin = check_nonnegative("margin", margin)
    if profile is not None:
        profile = check_profile("profile", profile, instance.n_efforts)
    highs_options = check_highs_options(highs_options)
    sol = solve_hiring_lp(
        instance.joint,
        [instance.cost_differences(i) for i in range(instance.n_agents)],
        instance.utility,
        instance.payment_caps,
        margin=margin,
        profile=profile,
        highs_options=highs_options,
    )
    mechanism = Mechanism.build(instance, sol.recommendation, sol.payments)
    unit = sol.info.scale  # the audit's tolerance in the units the LP was solved in (1 on most instances)
    audit = audit_incentives(instance, mechanism, atol=1e-7 * unit)
    if not audit.is_ic or not audit.respects_limits or (margin > 0 and audit.effort_margin < margin - 1e-7 * unit):
        raise SolverError(
            f"the recovered mechanism fails the incentive audit: {audit}",
            status=sol.info.status,
            audit=audit,
        )
    if not abs(mechanism.value - sol.value) <= 1e-8 * unit:
        raise SolverError(f"the recovered mechanism is worth {mechanism.value:.12g}, not the LP optimum "
                          f"{sol.value:.12g}", status=sol.info.status)
    if return_info:
        return mechanism, sol.info
    return mechanism


# ------------------------------------------------------------------------------- single-agent LPs
def rule_slacks(q_dev: np.ndarray, g: np.ndarray, C_row: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    r"""How much effort ``k`` with truthful reports beats each alternative under the own-report rule ``g``.

    With :math:`f^e(s, t) = \sum_\theta q^e(s,\theta) g(t,\theta)` and :math:`W^e = \sum_s \max_t f^e(s,t)`:
    ``effort[e] =`` :math:`\sum_s f^k(s,s) - W^e - C(k, e)` (``C_row[e] = c(k) - c(e)``; at ``e = k`` the
    aggregate truthfulness slack) and ``truthful[s, t] =`` :math:`f^k(s,s) - f^k(s,t)` (``+inf`` on the
    diagonal).  ``q_dev[e]`` is the agent's marginal joint at effort ``e``, shape ``(n_efforts, S, T)``.
    """
    f = np.einsum("est,rt->esr", q_dev, g)
    diag = np.arange(f.shape[1])
    obey = f[k, diag, diag].sum()
    effort = obey - f.max(axis=2).sum(axis=1) - C_row
    own = f[k]
    truthful = np.where(np.eye(own.shape[0], dtype=bool), np.inf, own[diag, diag][:, None] - own)
    return effort, truthful


def _single_agent_lp(
    q_dev: np.ndarray, k: int, C_row: np.ndarray, M: float, margin: float, max_margin: bool
):
    """Single-agent scoring-rule LP for recommended effort ``k``; ``(g, value, solve_time)``.

    ``q_dev[k'] (S, T)`` is the agent's marginal joint when it exerts ``k'``.  Variables: ``g``
    (S*T), ``z[k', s]`` for ``k' != k`` (for ``k' = k`` too when not ``max_margin``), and ``iota``
    when ``max_margin``; rows from :mod:`mechsim.hiring.incentive_rows`.  Minimum payment: minimise
    ``q_dev[k] . g``.  Max margin: maximise ``iota`` (``value`` is then ``iota``).
    """
    # solved in units of the largest of the cap, the costs and the margin, as the correlated LP
    unit = _unit(M, float(np.abs(C_row).max(initial=0.0)), abs(margin))
    if unit != 1.0:
        g, value, seconds = _single_agent_lp(q_dev, k, C_row / unit, M / unit, margin / unit, max_margin)
        return g * unit, value * unit, seconds
    B, S, T = q_dev.shape
    G = S * T
    devs = [p for p in range(B) if p != k] if max_margin else list(range(B))
    D = len(devs)
    n_cols = G + D * S + (1 if max_margin else 0)
    iota = G + D * S if max_margin else None
    g_idx = np.arange(G).reshape(S, T)
    z_idx = G + np.arange(D * S).reshape(D, S)
    blocks, lower = [], []
    for p, (effort, misreport) in zip(devs, deviation_rows(q_dev, k, devs, g_idx, z_idx, iota)):
        blocks += [effort, misreport]
        lower += [[C_row[p] + (margin if p != k and not max_margin else 0.0)], np.zeros(S * S)]
    if max_margin and S > 1:
        # every single misreport at effort k loses iota too: (k, truthful) is the unique best response
        blocks.append(truthful_rows(q_dev[k], g_idx, iota))
        lower.append(np.zeros(S * (S - 1)))
    if not blocks:  # a single effort and a single signal: nothing to separate
        blocks.append((np.array([[0]]), np.array([[0.0]])))
        lower.append([-np.inf])
    matrix = (
        csr_from_blocks(blocks, n_cols)
        if any(np.any(v != 0) for _, v in blocks)
        else sp.csr_array((1, n_cols))
    )
    lower = np.concatenate(lower)
    cost = np.zeros(n_cols)
    if max_margin:
        cost[iota] = -1.0
    else:
        cost[:G] = q_dev[k].ravel()
    col_lower = np.zeros(n_cols)
    col_upper = np.concatenate([np.full(G, M), np.full(D * S, np.inf)])
    if max_margin:
        col_lower[iota], col_upper = -np.inf, np.append(col_upper, M)
    result = _solve(cost, matrix, lower, np.full(lower.size, np.inf), col_lower, col_upper)
    x = result.x
    raw = x[:G].reshape(S, T)
    if raw.max(initial=0.0) - M > 1e-6 * max(1.0, M) or raw.min(initial=0.0) < -1e-9 * max(1.0, M):
        raise SolverError("the scoring-rule LP: rule recovered outside [0, M]", status=result.status)
    g = np.clip(raw, 0.0, M)  # removes solver round-off only (checked just above)
    value = x[iota] if max_margin else result.value
    # check the rule against the rows from the data: f computed directly, not through the LP matrix
    effort, truthful = rule_slacks(q_dev, g, C_row, k)
    tol = VERIFY_ATOL * (1 + S)
    others = np.arange(B) != k
    if max_margin:
        achieved = min(float(effort[others].min(initial=np.inf)), float(truthful.min(initial=np.inf)))
        ok = achieved >= min(value, M) - tol
    else:
        ok = (float((effort - np.where(others, margin, 0.0)).min(initial=np.inf)) >= -tol
              and abs(float((q_dev[k] * g).sum()) - value) <= tol)
    if not ok:
        raise SolverError(f"the scoring-rule LP for effort {k}: its rule fails the check of its constraints "
                          f"(effort slacks {effort.tolist()}, smallest misreport slack {truthful.min():.3g}, "
                          f"LP value {value:.6g})", status=result.status)
    return g, value, result.solve_time


def min_payment(instance: HiringInstance, agent: int, profile: Sequence[int], margin: float = 0.0):
    r"""Cheapest scoring rule making ``(profile[agent], truthful)`` a best response of ``agent``.

    The rule is paid within the agent's own cap, :math:`g \in [0, M_{agent}]`.  The others are assumed to
    exert ``profile[-agent]``.  Solves the ``MinPay`` LP of the module
    docstring and checks the rule against its rows (:func:`rule_slacks`) before returning it.

    Parameters
    ----------
    instance : HiringInstance
    agent : int
        ``0 <= agent < n_agents``.
    profile : sequence of int
        One effort per agent, ``0 <= profile[i] < n_efforts[i]`` (negative entries are refused, not wrapped).
    margin : float, default 0
        ``>= 0``: every effort deviation must lose at least this much.

    Returns
    -------
    (float, ndarray)
        The minimum expected payment and the rule ``g``, shape ``(n_signals[agent], n_states)``.

    Raises
    ------
    InfeasibleError
        The effort cannot be induced within the agent's payment cap (and margin).
    """
    instance = check_hiring_instance("instance", instance)
    agent = instance._agent(agent, "agent")
    profile = check_profile("profile", profile, instance.n_efforts)
    margin = check_nonnegative("margin", margin)
    value, g, _ = _min_payment(instance, agent, profile, margin)
    return value, g


def _min_payment(instance: HiringInstance, i: int, b: tuple, margin: float):
    marg = np.moveaxis(instance.marginal(i), i, 0)  # (b_i, *b_-i, s_i, theta)
    rest = tuple(v for j, v in enumerate(b) if j != i)
    q_dev = marg[(slice(None), *rest)] * instance.prior
    g, value, solve_time = _single_agent_lp(
        q_dev,
        b[i],
        instance.cost_differences(i)[b[i]],
        float(instance.payment_caps[i]),
        float(margin),
        max_margin=False,
    )
    return float(value), g, solve_time


@dataclass(frozen=True)
class UncorrelatedSolution:
    """Details of :func:`optimal_uncorrelated_mechanism`.

    Attributes
    ----------
    profile : tuple of int
        The recommended profile.
    scoring_rules : tuple of ndarray
        ``scoring_rules[i]`` of shape ``(n_signals[i], n_states)``.
    min_payments : ndarray, shape ``(n_agents, *n_efforts)``
        ``MinPay_i(b)``; ``inf`` where agent *i*'s effort ``b_i`` cannot be induced.
    profile_values : ndarray, shape ``(*n_efforts,)``
        ``V(b) - sum_i MinPay_i(b)`` (``-inf`` where some effort cannot be induced).
    value : float
        The optimum ``profile_values[profile]`` (the mechanism's own ``value`` is the same number,
        evaluated from the recovered rules).
    status : str
        ``"Optimal"``: every single-agent LP was solved (or found infeasible, which gives ``inf``).
    solve_time : float
        Seconds inside HiGHS over all the single-agent LPs.
    """

    profile: tuple
    scoring_rules: tuple
    min_payments: np.ndarray
    profile_values: np.ndarray
    value: float = float("nan")
    status: str = "Optimal"
    solve_time: float = 0.0


def optimal_uncorrelated_mechanism(
    instance: HiringInstance, margin: float = 0.0, *, return_info: bool = False
):
    r"""The best uncorrelated mechanism: :math:`\max_b V(b) - \sum_i \mathrm{MinPay}_i(b)`.

    One small LP per agent and effort (per profile when an agent's marginal depends on the others'
    efforts).  Ties between profiles go to the first in C order.

    Returns
    -------
    Mechanism or (Mechanism, UncorrelatedSolution)

    Raises
    ------
    InfeasibleError
        No profile can be induced (only possible with ``margin > 0``).
    SolverError
        A single-agent LP's rule fails its check (:func:`rule_slacks`), or the mechanism fails the exact
        incentive audit (``atol=1e-7``, with the margin and the caps) or its value is not the best profile's.
    """
    instance = check_hiring_instance("instance", instance)
    margin = check_nonnegative("margin", margin)
    n, E = instance.n_agents, instance.n_efforts
    own = instance.has_own_effort_marginals
    min_pay = np.full((n, *E), np.inf)
    rules: dict = {}
    profiles = list(np.ndindex(*E))
    solve_time = 0.0
    for i in range(n):
        solved: dict = {}
        for b in profiles:
            key = (b[i],) if own else b
            if key not in solved:
                try:
                    value, g, seconds = _min_payment(instance, i, b, margin)
                    solved[key] = (value, g)
                    solve_time += seconds
                except InfeasibleError:
                    solved[key] = (np.inf, None)
            min_pay[(i, *b)] = solved[key][0]
            rules[(i, b)] = solved[key][1]
    values = instance.value_of_information - min_pay.sum(axis=0)
    if not np.isfinite(values).any():
        raise InfeasibleError(
            "no effort profile can be induced by uncorrelated scoring rules within the "
            "payment caps and margin",
            status="infeasible",
        )
    best = tuple(int(v) for v in np.unravel_index(np.argmax(values), E))
    scoring = tuple(rules[(i, best)] for i in range(n))
    mechanism = Mechanism.uncorrelated(instance, best, scoring)
    audit = audit_incentives(instance, mechanism, atol=1e-7)
    if not audit.is_ic or not audit.respects_limits or (margin > 0 and audit.effort_margin < margin - 1e-7):
        raise SolverError(f"the best uncorrelated mechanism fails the incentive audit: {audit}", status="Optimal",
                          audit=audit)
    if not abs(mechanism.value - values[best]) <= 1e-8 * max(1.0, abs(values[best])):
        raise SolverError(f"the best uncorrelated mechanism is worth {mechanism.value:.12g}, not the "
                          f"{values[best]:.12g} of its profile", status="Optimal")
    if return_info:
        return mechanism, UncorrelatedSolution(
            profile=best, scoring_rules=scoring, min_payments=min_pay, profile_values=values,
            value=float(values[best]), solve_time=solve_time,
        )
    return mechanism


# --------------------------------------------------------------------------- inducing scoring rules
@dataclass(frozen=True)
class InducingRules:
    r"""Scoring rules that induce every effort level (the online learner's Assumption 1).

    Attributes
    ----------
    rules : tuple of ndarray
        ``rules[i]`` has shape ``(n_efforts_i, n_signals_i, n_states)``; ``rules[i][k]`` is
        :math:`\bar g_i^k(s_i, \theta) \in [0, M_i]`, paid on agent *i*'s own report and the state.
        Under it, exerting ``k`` and reporting truthfully beats every other (effort, reporting map)
        pair by at least ``margins[i][k] >= iota``.
    margins : tuple of ndarray
        ``margins[i]`` of shape ``(n_efforts_i,)``: the margin achieved for each ``(i, k)``.
    iota : float
        ``min_{i,k} margins[i][k] > 0``.
    """

    rules: tuple
    margins: tuple
    iota: float

    def scoring_rules(self, profile: Sequence[int]) -> list[np.ndarray]:
        """``[rules[i][profile[i]] for each i]``: they induce ``profile`` in dominant strategies."""
        profile = check_profile("profile", profile, tuple(r.shape[0] for r in self.rules))
        return [self.rules[i][k] for i, k in enumerate(profile)]

    def mechanism(self, instance: HiringInstance, profile: Sequence[int]) -> Mechanism:
        """The uncorrelated mechanism recommending ``profile`` and paying the inducing rules."""
        instance = check_hiring_instance("instance", instance)
        return Mechanism.uncorrelated(instance, profile, self.scoring_rules(profile))


def inducing_scoring_rules(instance: HiringInstance) -> InducingRules:
    r"""Max-margin scoring rules :math:`\bar g_i^k` for every agent and effort.

    These are the inducing rules that Assumption 1 of Cacciamani, Castiglioni and Gatti (ICLR 2024) hands
    to the online learner (:mod:`mechsim.learners.hiring_online`).

    For each agent *i* and effort *k* solves

    .. math::

        \max_{g \in [0,M_i]^{S_i\times\Theta},\, z,\, \iota} \iota \quad\text{s.t.}\quad
        & \sum_{s_i,\theta} q_i^k g - \sum_{s_i} z[k', s_i] - \iota \ge c_i(k) - c_i(k')
            \;\; (k' \ne k), \\
        & z[k', s_i] \ge \sum_\theta q_i^{k'}(s_i,\theta) g(s'_i,\theta), \\
        & f^k(s_i, s_i) - f^k(s_i, t) \ge \iota \;\; (t \ne s_i),

    with :math:`q_i^k(s_i,\theta) = \mu(\theta) P_i(s_i \mid k, \theta)` and :math:`f^k(s, t) =
    \sum_\theta q_i^k(s,\theta) g(t,\theta)`, so that :math:`(k, \text{truthful})` is the agent's
    unique best response by margin :math:`\iota` whatever the others do (payments depend on the
    agent's own report only).  Agent *i*'s margins are capped at its cap ``M_i`` (reached only by an agent
    with a single effort and a single signal).

    Returns
    -------
    InducingRules
        ``rules[i]`` of shape ``(n_efforts_i, n_signals_i, n_states)``, per-``(i, k)`` ``margins``
        and ``iota = min margins``.

    Raises
    ------
    InvalidInstanceError
        Some agent's marginal depends on the others' efforts (the online model needs
        :math:`P_i(s_i \mid b_i, \theta)`).
    InfeasibleError
        Some effort cannot be induced with a positive margin under its agent's cap (``details`` has the
        margins).
    SolverError
        A rule fails its check: every rule is in ``[0, M_i]`` and achieves its margin against every other effort
        (with its best reporting map) and every single misreport, recomputed from the data
        (:func:`rule_slacks`).
    """
    instance = check_hiring_instance("instance", instance)
    rules, margins = [], []
    for i in range(instance.n_agents):
        q_i = instance.own_marginal(i) * instance.prior  # (B_i, S_i, T)
        C = instance.cost_differences(i)
        agent_rules, agent_margins = [], []
        cap = float(instance.payment_caps[i])
        for k in range(instance.n_efforts[i]):
            g, iota, _ = _single_agent_lp(q_i, k, C[k], cap, 0.0, max_margin=True)
            agent_rules.append(g)
            agent_margins.append(min(float(iota), cap))
        rules.append(np.array(agent_rules))
        margins.append(np.array(agent_margins))
    iota = float(min(m.min() for m in margins))
    if not iota > 0:
        worst = min(range(len(margins)), key=lambda j: margins[j].min())
        raise InfeasibleError(
            f"effort {int(np.argmin(margins[worst]))} of agent {worst} cannot be made the "
            "unique best "
            f"response under its payment cap {instance.payment_caps[worst]:g} (best margin {iota:.3g})",
            status="margin <= 0",
            margins=tuple(margins),
        )
    return InducingRules(rules=tuple(rules), margins=tuple(margins), iota=iota)
