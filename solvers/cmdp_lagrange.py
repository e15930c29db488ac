r"""Exact solution of a finite CMDP with few constraints by its Lagrangian dual (``solve_cmdp(method="lagrange")``).

For a :class:`~mechsim.cmdp.FiniteCMDP` (``S`` states, ``A`` actions, ``K`` costs with limits ``d``, discount
``gamma``; values are discounted sums) the optimum ``OPT = max {V_r(pi) : J(pi) <= d}`` equals the minimum of
the Lagrangian dual function

.. math::

    g(\lambda) = \max_\pi \big[V_r(\pi) - \lambda \cdot (J(\pi) - d)\big]
               = \max_{j \in \mathcal D} \big[v_j - \lambda \cdot (c_j - d)\big], \qquad \lambda \ge 0,

where ``D`` is the finite set of deterministic stationary policies and ``(v_j, c_j)`` their exact reward and
cost values (strong duality of the occupancy LP: ``OPT = min_{lambda >= 0} g``, and the minimisers are the LP's
multipliers).  ``g`` is convex and piecewise linear; each evaluation of ``g(lambda)`` is an unconstrained MDP
with reward ``r - lambda.c``, solved exactly by Howard's policy iteration with the stopping rule of
:func:`mechsim.cmdp.planning.optimal_policy` (no switch improves ``Q`` by more than ``1e-10 (1 + |Q|)`` under
exact values).  The iteration is specialised to this use (:class:`_Chains`): the chain of a deterministic
policy is a row selection of the transitions; each evaluation ``(I - gamma P_pi) V = r_pi`` is a dense LU
(:func:`mechsim.tabular_mdp.solve_bellman`) up to 300 states and BiCGSTAB above (matrix-free, on the row
selection of the transitions and its transpose read as CSC, so that ``I - gamma P_pi`` is never formed),
warm-started from the previous solution, loose (``1e-6``) while many actions still switch and exact
(``1e-13``, residual checked, ``solve_bellman`` as fall-back) for the last steps; the first policy at a new
``lambda`` is greedy for ``r - lambda.c`` with the previous optimal values as continuation.  Measured on
``10^4``-state models over a sequence of multipliers: the same policies as
:func:`mechsim.tabular_mdp.policy_iteration` warm-started from the previous optimum, in less than half the
time.  The exact values of each policy met come from one occupancy solve ``(I - gamma P_pi^T) d = mu0``,
and it adds the line (cut) ``v_j - lambda.(c_j - d) <= g(lambda)``.

- **K = 1**: exact breakpoint search.  ``A`` is a best response that violates the limit (``c_A > d``, first
  at ``lambda = 0``), ``B`` one that meets it (first the least-cost policy).  Their lines cross at
  ``lambda = (v_A - v_B) / (c_A - c_B)``; the best response ``X`` there either lies on both lines (then this
  ``lambda`` minimises ``g``: stop) or lies strictly above them and replaces ``A`` or ``B`` by the sign of
  ``c_X - d``.  Each step discards a line for good, so the search ends after finitely many steps (a
  Newton/Dinkelbach iteration on a piecewise-linear function).
- **K > 1**: Kelley's cutting planes.  The master LP ``min_{t, lambda >= 0} t`` s.t. ``t >= v_j -
  lambda.(c_j - d)`` over the collected policies (HiGHS; ``K + 1`` columns) gives a lower bound on ``min g``;
  its duals are weights ``w_j >= 0`` of a mixture of the collected policies that meets every limit (the
  restricted primal, whose value is that lower bound).  The model's minimiser within a box around the best
  multipliers so far (a trust region, doubled after a step that the model predicted well and that reached
  the box, halved after a step that did not improve; measured: half the evaluations of plain Kelley at
  ``K = 5``) is pulled half-way back towards those best multipliers (Wentges smoothing, the classic cure for
  Kelley's zig-zag: the cuts then come from near the best point), unless the previous step was mispriced
  (its cut did not separate the master's minimiser), when the pure step is taken; every smoothed step
  either adds a new cut or is followed by a pure Kelley step, so the search stays finite.
  The search stops when the best ``g`` found meets the master's value (by
  default to round-off, so that the minimiser of ``g`` is exact; ``gap_rtol`` trades that for speed).  While
  the collected policies admit no feasible mixture, a phase-one master ``max_{u in simplex} min_j u.(c_j -
  d)`` chooses the next policy (the minimiser of ``u.c``); if ``min_pi u.(J(pi) - d) > FEASIBILITY_RTOL`` for
  that ``u``, no policy meets every limit.

**Primal recovery.**  The optimum is a mixture of at most ``K + 1`` deterministic policies -- a mixture of
their *occupancy measures* ``x = sum_j w_j x_j``, not of their action choices state by state.  Each state
occupancy ``d_j`` solves ``(I - gamma P_j^T) d_j = mu0``; the mixed occupancy gives the stationary randomised
policy ``pi(a|s) = x(s, a) / sum_b x(s, b)`` (uniform where ``x`` vanishes), whose values are exactly
``sum_j w_j (v_j, c_j)``.  That policy is then evaluated exactly and certified
(:func:`mechsim.solvers._cmdp_common._verify`, the rule of :func:`~mechsim.solvers.cmdp_lp.solve_cmdp`):
every limit within ``FEASIBILITY_RTOL`` of its scale, and value within ``OPTIMALITY_RTOL`` of the dual bound
``g(lambda*)`` recomputed by policy iteration; otherwise the search is repeated with the limits moved inwards
by a few tolerances, and :class:`~mechsim.errors.SolverError` is raised if that fails too.

**Units.**  The search runs on the reward divided by ``max|r| / (1 - gamma)`` and each cost and limit divided
by its constraint's scale ``max(|d_k|, max|c_k| / (1 - gamma))``, so that every value lies in ``[-1, 1]`` and
nothing depends on the units of rewards, costs and limits; multipliers are converted back at the end.

**Infeasible limits** raise :class:`~mechsim.errors.InfeasibleError` with the details of the LP path: the first
constraint ``k`` that cannot be met while constraints ``0..k-1`` hold, and its smallest achievable cost under
them -- an unconstrained MDP for ``k = 0``, and for ``k > 0`` a CMDP with reward ``-c_k`` and the ``k`` earlier
constraints, solved by this same method.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from mechsim import tabular_mdp
from mechsim.cmdp.model import FiniteCMDP, _chain_transitions, _check_cmdp, occupancy_measure
from mechsim.errors import SolverError
from mechsim.solvers._cmdp_common import (
    FEASIBILITY_RTOL,
    OPTIMALITY_RTOL,
    CMDPSolution,
    _infeasible_error,
    _policy_from_occupancy,
    _unit_scale,
    _verify,
)
from mechsim.solvers._highs import HighsModel
from mechsim.validation import _fail, check_integer, check_nonnegative

__all__ = ["GAP_RTOL", "MAX_EVALUATIONS", "solve_cmdp_lagrange"]

#: Default ``gap_rtol``: the dual search stops when the best dual value found and the value of the best
#: feasible mixture of the collected policies differ by at most ``(gap_rtol + 1e-12) * (1 + sum_k lambda_k)``
#: in scaled units (every value in [-1, 1]).  Zero runs the search to the exact minimiser of ``g`` (up to
#: round-off), so that the multipliers are the LP's; ``1e-8`` (a tenth of ``OPTIMALITY_RTOL``) saves 10-30% of
#: the evaluations on ``10^4``-state models, with multipliers within about ``1e-4`` relative.
GAP_RTOL = 0.0
#: Round-off floor of the stopping rule (scaled units): values are sums of ``S`` terms from solves whose
#: residuals are checked to ``1e-10``, typically ``1e-13``.
_ROUNDOFF = 1e-12
#: Default cap on evaluations of the dual function (MDP solves) per search.
MAX_EVALUATIONS = 500
#: HiGHS tolerances for the master LPs (K + 1 columns, one row per collected policy, coefficients O(1)).
_MASTER_TOLERANCE = 1e-10
#: Policy iteration switches an action only on an improvement above ``1e-10 (1 + |Q|)`` (signal in units of
#: its peak), as :func:`mechsim.cmdp.planning.optimal_policy` does.
_PI_TOLERANCE = 1e-10
#: Relative residual of the loose (intermediate) policy evaluations of a policy iteration; the last ones are
#: exact.  Measured on banded CMDPs: half the BiCGSTAB iterations of an exact solve.
_LOOSE_RTOL = 1e-6
#: Improvement steps with loose evaluations before every evaluation is exact (guards against cycling).
_LOOSE_STEPS = 30
_MAX_IMPROVEMENTS = 10_000
#: An improvement step that switches at most this fraction of the states is followed by an exact evaluation
#: (the next policy is probably optimal; measured: a fifth fewer solves than one more loose evaluation).
_EXACT_SWITCHES = 0.01
#: Up to this many states every solve is a dense LU (:func:`mechsim.tabular_mdp.solve_bellman`); above,
#: BiCGSTAB.  Measured with one deterministic policy (``gamma = 0.95``): at 400 states BiCGSTAB is 1.5x
#: (banded chain) to 2.6x (well-mixing chain) faster than the dense LU, at 1500 states 20x to 70x.
_DIRECT_MAX_STATES = 300
#: Iteration cap of BiCGSTAB (it converges in tens of iterations on the chains it suits; where it breaks
#: down it does so early or never converges, and a sparse LU takes over).
_KRYLOV_MAXITER = tabular_mdp.KRYLOV_MAXITER
#: Occupancies kept to warm-start the next occupancy solve (from the policy that agrees in most states).
_OCCUPANCY_MEMORY = 8
#: Initial half-width of the trust region of Kelley's method (scaled multipliers, typically O(1)).  With the
#: smoothing below, a wide box (1.0) measured best: 0.3 held the first steps near the phase-one corner.
_TRUST_RADIUS = 1.0
#: Wentges smoothing of Kelley's steps: the next multipliers are ``best + _SMOOTHING (master - best)``, except
#: after a mispriced step (one whose cut does not separate the master's minimiser), which the pure Kelley
#: step follows.  Measured on banded and random CMDPs (10^3 - 10^4 states, K = 2, 3, 5, seeds 0-2): 10-20%
#: fewer evaluations of the dual function than Kelley with the 0.3 trust region alone.
_SMOOTHING = 0.5


# ---------------------------------------------------------------------- the scaled problem
@dataclass(frozen=True)
class _Problem:
    """A CMDP in scaled units: reward over ``max|r| / (1 - gamma)``, cost ``k`` and limit ``k`` over the
    constraint's scale, so that every discounted value lies in ``[-1, 1]``."""

    transitions: object
    reward: np.ndarray          # (S, A)
    costs: np.ndarray           # (K, S, A)
    limits: np.ndarray          # (K,)
    initial: np.ndarray
    gamma: float
    reward_scale: float         # original reward = reward_scale * reward
    cost_scales: np.ndarray     # original cost k = cost_scales[k] * costs[k]

    @property
    def shape(self) -> tuple[int, int, int]:
        return self.reward.shape[0], self.reward.shape[1], self.costs.shape[0]


def _problem(transitions, reward, costs, limits, initial, gamma) -> _Problem:
    horizon = 1.0 / (1.0 - gamma)
    reward_scale = _unit_scale(reward) * horizon
    K = costs.shape[0]
    if K:
        peak = np.abs(costs).reshape(K, -1).max(axis=1)
        scales = np.maximum(np.abs(limits), peak * horizon)
        scales = np.where(scales > 0, scales, 1.0)
    else:
        scales = np.zeros(0)
    return _Problem(transitions, reward / reward_scale, costs / scales[:, None, None] if K else costs,
                    limits / scales if K else limits, initial, gamma, reward_scale, scales)


@dataclass(frozen=True)
class _Piece:
    """A deterministic policy and its exact scaled values: the line ``value - lambda.(costs - d)`` of ``g``."""

    actions: np.ndarray
    value: float
    costs: np.ndarray


@dataclass
class _Counters:
    evaluations: int = 0
    improvement_steps: int = 0
    linear_solves: int = 0
    krylov_iterations: int = 0


def _bicgstab(apply, b: np.ndarray, gamma: float, *, x0=None, rtol: float, maxiter: int, counter=None):
    """BiCGSTAB (van der Vorst's unpreconditioned form) on ``apply(x) = b`` for ``apply = I - gamma P`` (or its
    transpose), stopped when the recursively updated residual is at most ``rtol |b|_2``.

    The same iteration as :func:`scipy.sparse.linalg.bicgstab` without its per-call wrappers (the operator
    is a closure, not a ``LinearOperator``).  Returns ``(x, 0)`` on convergence and ``(None, info != 0)`` on a
    breakdown (a vanishing ``rho``, ``rhat.v`` or ``omega``), after ``maxiter`` iterations, or as soon as an
    iterate leaves ``1e3`` times the a-priori bound ``|x| <= |b|_1 / (1 - gamma)`` of the values and
    occupancies of a sub-stochastic chain (the divergence watch of :func:`mechsim.tabular_mdp._bicgstab`).
    """
    bound = 1e3 * float(np.abs(b).sum()) / (1.0 - gamma) if gamma < 1.0 else np.inf
    tol = rtol * math.sqrt(float(b @ b))
    x = np.array(b if x0 is None else x0, dtype=float)
    r = b - apply(x)
    if math.sqrt(float(r @ r)) <= tol:
        return x, 0
    rhat = r.copy()
    p = v = None
    rho_prev = alpha = omega = 1.0
    with np.errstate(all="ignore"):   # a diverging iteration overflows before it reports failure
        for _ in range(maxiter):
            if counter is not None:
                counter(1)
            rho = float(rhat @ r)
            if rho == 0.0 or not np.isfinite(rho):
                return None, -10
            if p is None:
                p = r.copy()
            else:
                p = r + (rho / rho_prev) * (alpha / omega) * (p - omega * v)
            v = apply(p)
            rv = float(rhat @ v)
            if rv == 0.0 or not np.isfinite(rv):
                return None, -11
            alpha = rho / rv
            s = r - alpha * v
            if math.sqrt(float(s @ s)) <= tol:
                x += alpha * p
                return (x, 0) if np.abs(x).max() <= bound else (None, -1)
            t = apply(s)
            tt = float(t @ t)
            omega = float(t @ s) / tt if tt > 0 else 0.0
            if omega == 0.0 or not np.isfinite(omega):
                return None, -12
            x += alpha * p + omega * s
            r = s - omega * t
            if not np.abs(x).max() <= bound:
                return None, -1
            if math.sqrt(float(r @ r)) <= tol:
                return x, 0
            rho_prev = rho
    return None, maxiter


class _Chains:
    """Exact linear solves with the chains of deterministic policies, warm-started across a search.

    The chain of a deterministic policy is a row selection of the ``(S*A, S)`` transitions (20x faster than
    the general product with a policy selector that :mod:`mechsim.tabular_mdp` forms for randomised
    policies).  Up to ``_DIRECT_MAX_STATES`` states every solve is :func:`mechsim.tabular_mdp.solve_bellman`
    (dense LU).  Above, BiCGSTAB starts from the previous solution of the same kind of system (consecutive
    policies of a policy iteration, and of a search, differ in few states, so the start is close), to
    ``rtol`` relative to the right-hand side; an exact solve (``rtol = ITERATIVE_RTOL``) whose residual
    ``max|(I - gamma P) x - b|`` exceeds ``1e-10 max|b|`` falls back to ``solve_bellman`` (BiCGSTAB from scratch,
    then a sparse LU).
    """

    def __init__(self, problem: _Problem, counters: _Counters):
        S, A, _ = problem.shape
        self.S, self.A, self.gamma = S, A, problem.gamma
        self.dense = not sp.issparse(problem.transitions)
        self.transitions = problem.transitions
        self.flat = (problem.transitions.reshape(S * A, S) if self.dense else problem.transitions)
        self.direct = S <= _DIRECT_MAX_STATES
        # Every transition to a state of at least the same index (an acyclic model in topological order, such
        # as the fine-grained recommender twin): every chain is upper triangular, solved by substitution.
        self.triangular = (not self.dense and not self.direct
                           and bool(np.all(self.flat.indices >= np.repeat(np.arange(S * A) // A,
                                                                          np.diff(self.flat.indptr)))))
        self.factorise = False   # set when BiCGSTAB fails on one of this model's chains
        self.rows = np.arange(S)
        self.counters = counters
        self.memory = []
        self.last_values = self.last_actions = None
        self.last_chain = None

    def chain(self, actions: np.ndarray):
        # The occupancy solve follows the last evaluation of the same policy: keep its chain.
        key = actions.tobytes() + bytes([actions.dtype.itemsize])
        if self.last_chain is not None and self.last_chain[0] == key:
            return self.last_chain[1]
        if self.dense:
            p_pi = self.transitions[self.rows, actions]
        else:
            p_pi = self.flat[self.rows * self.A + actions]
        self.last_chain = (key, p_pi)
        return p_pi

    def solve(self, actions, rhs, *, transpose=False, x0=None, exact=True) -> np.ndarray:
        """``(I - gamma P_pi) x = rhs`` (or its transpose) for the deterministic policy ``actions``."""
        self.counters.linear_solves += 1
        p_pi = self.chain(actions)
        if self.direct or self.gamma == 0.0:
            return tabular_mdp.solve_bellman(p_pi, rhs, self.gamma, transpose=transpose)
        if self.triangular:
            system = self._system(p_pi, transpose)
            return tabular_mdp._solve_triangular(system, rhs, "lower" if transpose else "upper")
        scale = float(np.abs(rhs).max())
        if scale == 0.0:
            return np.zeros(self.S)
        if self.factorise:
            return self._factorised(self._system(p_pi, transpose), p_pi, rhs, transpose)
        # The operator is applied matrix-free: a CSR row selection read as CSC is its transpose, so neither
        # ``I - gamma P`` nor a transposed copy is formed (measured: a third less time per iteration).
        if self.dense:
            chain = p_pi.T if transpose else p_pi
        else:
            chain = (sp.csc_array((p_pi.data, p_pi.indices, p_pi.indptr), shape=p_pi.shape) if transpose
                     else p_pi)
        gamma = self.gamma

        def apply(x):
            return x - gamma * (chain @ x)

        x, info = _bicgstab(apply, rhs, self.gamma, x0=x0,
                            rtol=tabular_mdp.ITERATIVE_RTOL if exact else _LOOSE_RTOL,
                            maxiter=_KRYLOV_MAXITER, counter=self._count)
        if info != 0:
            # BiCGSTAB broke down or stalled: this model's chains defeat it (measured on the recommender twin's
            # nearly triangular, slowly leaking chains), so every later solve is a factorisation.
            self.factorise = True
            return self._factorised(self._system(p_pi, transpose), p_pi, rhs, transpose)
        if exact and np.abs(apply(x) - rhs).max() > 1e-10 * scale:
            return self._factorised(self._system(p_pi, transpose), p_pi, rhs, transpose)
        return x

    def _system(self, p_pi, transpose: bool):
        """``I - gamma P_pi`` (or its transpose) as a matrix, for the direct solvers."""
        if self.dense:
            system = p_pi * -self.gamma
            system[self.rows, self.rows] += 1.0
            return system.T if transpose else system
        system = sp.identity(self.S, format="csr") - self.gamma * p_pi
        return system.T.tocsr() if transpose else system

    def _count(self, n: int) -> None:
        self.counters.krylov_iterations += n

    def _factorised(self, system, p_pi, rhs, transpose) -> np.ndarray:
        """An exact solve by a sparse LU (little fill-in on the chains where BiCGSTAB fails), residual checked;
        :func:`mechsim.tabular_mdp.solve_bellman` for dense models and if the LU fails."""
        if not self.dense:
            try:
                x = spla.splu(sp.csc_array(system)).solve(rhs)
            except RuntimeError:   # "Factor is exactly singular"
                x = None
            if x is not None and np.all(np.isfinite(x)) and \
                    np.abs(system @ x - rhs).max() <= 1e-10 * float(np.abs(rhs).max()):
                return x
        return tabular_mdp.solve_bellman(p_pi, rhs, self.gamma, transpose=transpose)

    def occupancy(self, actions: np.ndarray, initial: np.ndarray) -> np.ndarray:
        """State occupancy ``d`` of a deterministic policy: ``(I - gamma P_pi^T) d = mu0``."""
        x0 = None
        if self.memory:
            # Start from the occupancy of the policy met so far that agrees with this one in most states.
            agree = [np.count_nonzero(a == actions) for a, _ in self.memory]
            x0 = self.memory[int(np.argmax(agree))][1]
        d = self.solve(actions, initial, transpose=True, x0=x0)
        self.memory.append((np.asarray(actions, dtype=np.int8 if self.A <= 127 else np.int32), d))
        del self.memory[:-_OCCUPANCY_MEMORY]
        return d

    def best_response(self, signal: np.ndarray) -> np.ndarray:
        """An optimal deterministic policy of the MDP with reward ``signal`` by Howard's policy iteration.

        The first policy is greedy for ``signal`` with the optimal values of the previous call as continuation
        (one backup; measured: fewer solves than starting from the stored policy best at this ``lambda``), or
        for ``signal`` alone on the first call.  Evaluations are loose (``_LOOSE_RTOL``) until no action
        improves (or few switch), then exact; from then on every evaluation is exact, so the iteration ends, as
        exact policy iteration does, on a policy that no switch improves by more than ``1e-10 (1 + |Q|)``
        under exact values (the rule of :func:`mechsim.cmdp.planning.optimal_policy`).
        """
        rows = self.rows
        unit = _unit_scale(signal)
        signal = signal / unit
        values = None
        exact = self.direct
        if self.last_values is not None:
            values = self.last_values / unit
            actions = np.argmax(signal + self.gamma * (self.flat @ values).reshape(self.S, self.A), axis=1)
            # Close to the previous optimum (the search's late steps): evaluate exactly at once.
            exact = exact or np.count_nonzero(actions != self.last_actions) <= _EXACT_SWITCHES * self.S
        else:
            actions = np.argmax(signal, axis=1)
        for step in range(1, _MAX_IMPROVEMENTS + 1):
            values = self.solve(actions, signal[rows, actions], x0=values, exact=exact or step > _LOOSE_STEPS)
            exact = exact or step > _LOOSE_STEPS
            q = signal + self.gamma * (self.flat @ values).reshape(self.S, self.A)
            best = np.argmax(q, axis=1)
            current = q[rows, actions]
            improve = q[rows, best] > current + _PI_TOLERANCE * (1.0 + np.abs(current))
            self.counters.improvement_steps += 1
            if improve.any():
                actions = np.where(improve, best, actions)
                switched = int(improve.sum())
                # Few switches: the next policy is probably optimal, so evaluate it exactly at once.
                exact = exact or switched <= _EXACT_SWITCHES * self.S
            elif exact:
                self.last_values, self.last_actions = values * unit, actions
                return actions
            else:
                exact = True
        raise SolverError(f"policy iteration did not terminate in {_MAX_IMPROVEMENTS} improvement steps on the "
                          "Lagrangian MDP", status="max_iter")


def _piece(problem: _Problem, chains: _Chains, actions: np.ndarray) -> _Piece:
    """Exact reward and cost values of a deterministic policy from one occupancy solve."""
    d = chains.occupancy(actions, problem.initial)
    rows = chains.rows
    value = float(d @ problem.reward[rows, actions])
    costs = problem.costs[:, rows, actions] @ d
    small = np.int8 if problem.shape[1] <= 127 else np.int32   # 1 byte per state: keep many policies cheaply
    return _Piece(actions.astype(small), value, np.asarray(costs, dtype=float))


def _best_response(problem: _Problem, chains: _Chains, signal: np.ndarray) -> _Piece:
    """An optimal deterministic policy of the MDP with reward ``signal``, and its exact values."""
    chains.counters.evaluations += 1
    return _piece(problem, chains, chains.best_response(signal))


def _lagrangian(problem: _Problem, lam: np.ndarray) -> np.ndarray:
    if not problem.costs.shape[0]:
        return problem.reward
    return problem.reward - np.tensordot(lam, problem.costs, axes=1)


def _line(piece: _Piece, lam: np.ndarray, limits: np.ndarray) -> float:
    return piece.value - float(lam @ (piece.costs - limits))


# ---------------------------------------------------------------------- the searches
class _Infeasible(Exception):
    """``min_pi u.(J(pi) - d) > 0`` for the weights ``u``: no policy meets every limit."""


@dataclass(frozen=True)
class _Dual:
    """Outcome of a search in scaled units: a mixture of collected policies and the best multipliers."""

    pieces: tuple            # the mixture's policies
    weights: np.ndarray      # their weights (sum 1)
    multipliers: np.ndarray  # lambda (scaled units) with the smallest g found
    bound: float             # g(multipliers)
    value: float             # sum_j w_j v_j
    best: np.ndarray         # actions of a best response at `multipliers` (warm start of the certificate)


def _search_one(problem: _Problem, chains: _Chains, limits: np.ndarray, max_evaluations: int,
                gap_rtol: float) -> _Dual:
    """K = 1: the exact breakpoint search of the module docstring."""
    d = float(limits[0])
    zero = np.zeros(1)
    a = _best_response(problem, chains, problem.reward)
    if a.costs[0] <= d:
        return _Dual((a,), np.ones(1), zero, a.value, a.value, a.actions)
    b = _best_response(problem, chains, -problem.costs[0])
    if b.costs[0] > d + FEASIBILITY_RTOL:
        raise _Infeasible
    # A least-cost policy within the tolerance above the limit: search with the limit it meets.
    d = max(d, float(b.costs[0]))
    if a.costs[0] <= d:
        return _Dual((a,), np.ones(1), zero, a.value, a.value, a.actions)
    while True:
        lam = np.array([max((a.value - b.value) / (a.costs[0] - b.costs[0]), 0.0)])
        if chains.counters.evaluations >= max_evaluations:
            raise SolverError(f"the Lagrangian breakpoint search did not close its gap in {max_evaluations} "
                              "evaluations of the dual function (max_evaluations)", status="max_iter")
        x = _best_response(problem, chains, _lagrangian(problem, lam))
        bound = _line(x, lam, np.array([d]))
        model = max(_line(a, lam, np.array([d])), _line(b, lam, np.array([d])))
        repeated = np.array_equal(x.actions, a.actions) or np.array_equal(x.actions, b.actions)
        if bound - model <= (gap_rtol + _ROUNDOFF) * (1.0 + lam[0]) or repeated:
            w = (d - b.costs[0]) / (a.costs[0] - b.costs[0])
            weights = np.array([w, 1.0 - w])
            return _Dual((a, b), weights, lam, max(bound, model), w * a.value + (1 - w) * b.value, x.actions)
        if x.costs[0] > d:
            a = x
        else:
            b = x


def _master(pieces: list[_Piece], limits: np.ndarray, phase_one: bool, box=None):
    """The cutting-plane master LP over the collected policies; returns (objective, lambda or u, weights).

    Phase two: ``min t`` over ``(t, lambda >= 0)`` s.t. ``t + lambda.(c_j - d) >= v_j``.  Phase one:
    ``max s`` over ``(s, u in simplex)`` s.t. ``u.(c_j - d) - s >= 0``.  The row duals are the weights of the
    restricted primal's mixture (non-negative, summing to one).
    """
    K = limits.size
    n = len(pieces)
    rel = np.array([p.costs - limits for p in pieces])            # (n, K)
    ones = np.ones((n, 1))
    if phase_one:
        rows = sp.csc_array(np.vstack([np.hstack([-ones, rel]), np.hstack([[[0.0]], np.ones((1, K))])]))
        lower = np.concatenate([np.zeros(n), [1.0]])
        upper = np.concatenate([np.full(n, np.inf), [1.0]])
        cost = np.concatenate([[-1.0], np.zeros(K)])
    else:
        rows = sp.csc_array(np.hstack([ones, rel]))
        lower = np.array([p.value for p in pieces])
        upper = np.full(n, np.inf)
        cost = np.concatenate([[1.0], np.zeros(K)])
    col_lower = np.concatenate([[-np.inf], np.zeros(K)])
    col_upper = np.full(K + 1, np.inf)
    if box is not None:
        center, radius = box
        col_lower[1:] = np.maximum(center - radius, 0.0)
        col_upper[1:] = center + radius
    model = HighsModel(cost, rows, lower, upper, col_lower, col_upper,
                       options={"primal_feasibility_tolerance": _MASTER_TOLERANCE,
                                "dual_feasibility_tolerance": _MASTER_TOLERANCE},
                       what="the Lagrangian master LP")
    res = model.run()
    if not res.optimal:
        raise SolverError("HiGHS failed on the Lagrangian master LP", status=res.status)
    weights = np.maximum(res.row_duals[:n], 0.0)
    total = weights.sum()
    if not total > 0:
        raise SolverError("the Lagrangian master LP returned no mixture weights", status="dual error")
    return float(res.x[0]), np.maximum(res.x[1:], 0.0), weights / total


def _polished(pieces: list[_Piece], weights: np.ndarray, limits: np.ndarray, lam: np.ndarray) -> np.ndarray:
    """The mixture weights re-solved from the binding rows (``sum_j w_j (c_jk - d_k) = 0`` where ``lambda_k >
    0``, and ``sum_j w_j = 1``) on the master's support, so that binding limits hold to round-off rather than
    to the LP's tolerance; the master's weights if that system does not give a valid mixture."""
    support = np.flatnonzero(weights > 1e-12)
    rel = np.array([pieces[j].costs - limits for j in support])     # (m, K)
    binding = np.flatnonzero(lam > 0)
    system = np.vstack([rel[:, binding].T, np.ones((1, support.size))])
    rhs = np.concatenate([np.zeros(binding.size), [1.0]])
    w, *_ = np.linalg.lstsq(system, rhs, rcond=None)
    if np.all(w >= 0) and np.all(w @ rel <= 1e-15) and abs(w.sum() - 1.0) < 1e-12:
        out = np.zeros_like(weights)
        out[support] = w / w.sum()
        return out
    return weights


def _search_kelley(problem: _Problem, chains: _Chains, limits: np.ndarray, max_evaluations: int,
                   gap_rtol: float) -> _Dual:
    """K >= 1: Kelley's cutting planes (phase one until a feasible mixture exists, then phase two)."""
    K = limits.size
    first = _best_response(problem, chains, problem.reward)
    if np.all(first.costs <= limits):
        return _Dual((first,), np.ones(1), np.zeros(K), first.value, first.value, first.actions)
    pieces = [first]
    seen = {first.actions.tobytes()}

    def budget():
        if chains.counters.evaluations >= max_evaluations:
            raise SolverError(f"Kelley's cutting planes did not close the duality gap in {max_evaluations} "
                              "evaluations of the dual function (max_evaluations)", status="max_iter")

    # Phase one: find collected policies with a mixture that meets every limit, or prove there is none.
    while True:
        violation, u, _ = _master(pieces, limits, phase_one=True)
        if violation <= 0:
            break
        budget()
        x = _best_response(problem, chains, -np.tensordot(u, problem.costs, axes=1))
        least = float(u @ (x.costs - limits))
        if least > FEASIBILITY_RTOL:
            raise _Infeasible
        if x.actions.tobytes() in seen or least >= violation:
            # No better cut: the limits are feasible only within the tolerance; search with limits relaxed
            # by the remaining violation (at most FEASIBILITY_RTOL, which the certificate allows).
            limits = limits + max(violation, 0.0)
            break
        pieces.append(x)
        seen.add(x.actions.tobytes())
    # Phase two: Kelley's method, each step taken inside a box around the best multipliers so far (a trust
    # region: without it the master's minimiser jumps between far corners of the model, measured at twice
    # the evaluations for K = 5) and smoothed towards them.  The unrestricted master still gives the lower
    # bound and the weights; the boxed one is solved only when its box binds.
    best_bound, best_lam, best_actions = np.inf, None, None
    radius = _TRUST_RADIUS
    previous = None
    misprice = False
    while True:
        lower, lam, weights = _master(pieces, limits, phase_one=False)
        if best_lam is not None and best_bound - lower <= (gap_rtol + _ROUNDOFF) * (1.0 + best_lam.sum()):
            break
        step, predicted = lam, lower
        if best_lam is not None and np.abs(lam - best_lam).max() > radius:
            predicted, step, _ = _master(pieces, limits, phase_one=False, box=(best_lam, radius))
        if best_lam is not None and not misprice and _SMOOTHING < 1.0:
            step = best_lam + _SMOOTHING * (step - best_lam)
            predicted = max(_line(p, step, limits) for p in pieces)
        if previous is not None and np.array_equal(step, previous):
            break   # round-off stall: the model cannot move; the certificate decides
        previous = step
        budget()
        x = _best_response(problem, chains, _lagrangian(problem, step))
        bound = _line(x, step, limits)
        if best_lam is None or bound < best_bound:
            # A serious step: grow the box if it bound the step and the decrease matched the model's.
            if best_lam is not None and (best_bound - bound >= 0.5 * (best_bound - predicted)
                                         and np.abs(step - best_lam).max() >= 0.99 * radius):
                radius *= 2.0
            best_bound, best_lam, best_actions = bound, step, x.actions
        else:
            radius *= 0.5   # a null step: the model was too optimistic this far out
        misprice = _line(x, lam, limits) <= lower + (gap_rtol + _ROUNDOFF) * (1.0 + lam.sum())
        if x.actions.tobytes() not in seen:
            pieces.append(x)
            seen.add(x.actions.tobytes())
    weights = _polished(pieces, weights, limits, lam)
    support = np.flatnonzero(weights > 0)
    chosen = tuple(pieces[j] for j in support)
    w = weights[support]
    return _Dual(chosen, w, best_lam, best_bound, float(w @ [p.value for p in chosen]), best_actions)


def _search(problem: _Problem, chains: _Chains, limits: np.ndarray, max_evaluations: int,
            gap_rtol: float = None, kelley: bool = False) -> _Dual:
    gap_rtol = GAP_RTOL if gap_rtol is None else gap_rtol
    K = limits.size
    if K == 0:
        first = _best_response(problem, chains, problem.reward)
        return _Dual((first,), np.ones(1), np.zeros(0), first.value, first.value, first.actions)
    if K == 1 and not kelley:
        return _search_one(problem, chains, limits, max_evaluations, gap_rtol)
    return _search_kelley(problem, chains, limits, max_evaluations, gap_rtol)


# ---------------------------------------------------------------------- recovery and diagnosis
def _mixed_policy(problem: _Problem, chains: _Chains, dual: _Dual) -> np.ndarray:
    """The stationary policy of the mixed occupancy ``x = sum_j w_j d_j(s) 1[a = pi_j(s)]``."""
    S, A, _ = problem.shape
    x = np.zeros((S, A))
    for piece, w in zip(dual.pieces, dual.weights):
        if w > 0:
            d = np.maximum(chains.occupancy(piece.actions, problem.initial), 0.0)
            np.add.at(x, (chains.rows, piece.actions), w * d)
    return _policy_from_occupancy(x, tol=0.0)


def _least_cost(problem: _Problem, k: int, chains: _Chains, max_evaluations: int) -> tuple[float, bool]:
    """Smallest scaled cost of constraint ``k`` while constraints ``0..k-1`` hold (``False`` if they do not)."""
    sub = _problem(problem.transitions, -problem.costs[k], problem.costs[:k], problem.limits[:k], problem.initial,
                   problem.gamma)
    try:
        dual = _search(sub, _Chains(sub, chains.counters), sub.limits, max_evaluations)
    except _Infeasible:
        return np.nan, False
    return -dual.value * sub.reward_scale, True


def _diagnose(cmdp: FiniteCMDP, problem: _Problem, chains: _Chains, max_evaluations: int):
    """The InfeasibleError of the LP path: first constraint that cannot be met given the earlier ones."""
    K = problem.shape[2]
    best = np.full(K, np.nan)
    worst_gap, worst_k = -np.inf, 0
    for k in range(K):
        best[k], ok = _least_cost(problem, k, chains, max_evaluations)
        if not ok:  # constraints 0..k-1 were feasible together at step k-1 (within the tolerance)
            break
        gap = best[k] - problem.limits[k]
        if gap > worst_gap:
            worst_gap, worst_k = gap, k
        if gap > FEASIBILITY_RTOL:
            worst_k = k
            break
    return _infeasible_error(cmdp, worst_k, best[worst_k] * problem.cost_scales[worst_k], "infeasible")


# ---------------------------------------------------------------------- entry point
def solve_cmdp_lagrange(cmdp: FiniteCMDP, *, gap_rtol: float = GAP_RTOL,
                        max_evaluations: int = MAX_EVALUATIONS) -> CMDPSolution:
    """Solve a finite CMDP exactly by minimising its Lagrangian dual (see the module docstring).

    Also reached as ``solve_cmdp(cmdp, method="lagrange")``, and by ``method="auto"`` on large models with
    few constraints.  Suited to ``K <= 5`` constraints and many states: the work is a few dozen MDP solves
    by warm-started policy iteration, with memory linear in the size of the transitions.

    Parameters
    ----------
    cmdp : FiniteCMDP
        Dense or sparse transitions; values are discounted sums.
    gap_rtol : float
        The search stops when the best dual value and the best feasible mixture differ by at most
        ``gap_rtol * (1 + sum_k lambda_k)`` in scaled units (``GAP_RTOL = 1e-8`` by default; at most
        ``OPTIMALITY_RTOL / 10`` so that the certificate can pass).  ``0`` runs the search until the dual
        function's minimiser is found exactly (up to round-off): on models of a few thousand states that
        costs nothing more, at ``10^4`` states about 15% more evaluations; the multipliers are then those of
        the LP wherever the LP's are unique, instead of within about ``1e-5`` relative.
    max_evaluations : int
        Cap on evaluations of the dual function (each an MDP solved by policy iteration), in total.

    Returns
    -------
    CMDPSolution
        ``policy`` the stationary randomised policy of the optimal mixed occupancy, ``value`` and
        ``cost_values`` its exact evaluation, ``multipliers`` the minimiser of ``g`` found, ``dual_bound =
        g(multipliers)`` recomputed by policy iteration, ``gap = dual_bound - value``, ``backend =
        "policy-iteration"``, ``method = "lagrange"`` and ``iterations`` the number of dual evaluations.

    Raises
    ------
    InfeasibleError
        If no policy meets every limit; ``err.details`` as for :func:`~mechsim.solvers.cmdp_lp.solve_cmdp`
        (``constraint``, ``constraint_name``, ``limit``, ``best_achievable``).
    SolverError
        If the search exceeds ``max_evaluations`` or no recovered policy passes verification.

    Examples
    --------
    >>> import numpy as np
    >>> from mechsim.cmdp import FiniteCMDP
    >>> m = FiniteCMDP(np.ones((1, 2, 1)), [[1.0, 0.0]], [[[1.0, 0.0]]], [5.0], [1.0], 0.9)
    >>> sol = solve_cmdp_lagrange(m)
    >>> round(sol.value, 9), sol.policy.round(9).tolist(), round(float(sol.multipliers[0]), 9)
    (5.0, [[0.5, 0.5]], 1.0)
    """
    _check_cmdp(cmdp)
    gap_rtol = check_nonnegative("gap_rtol", gap_rtol)
    if gap_rtol > OPTIMALITY_RTOL / 10:
        raise _fail("gap_rtol", f"a number in [0, OPTIMALITY_RTOL / 10 = {OPTIMALITY_RTOL / 10:g}] (a larger gap "
                    "could not be certified)", repr(gap_rtol))
    max_evaluations = check_integer("max_evaluations", max_evaluations, minimum=1)
    start = time.perf_counter()
    problem = _problem(_chain_transitions(cmdp), cmdp.reward, cmdp.costs, cmdp.limits, cmdp.initial, cmdp.discount)
    build = time.perf_counter() - start
    chains = _Chains(problem, _Counters())
    failures, seconds = [], 0.0
    for tighten in (0.0, 4 * FEASIBILITY_RTOL, 16 * FEASIBILITY_RTOL):
        t0 = time.perf_counter()
        try:
            dual = _search(problem, chains, problem.limits - tighten, max_evaluations, gap_rtol)
        except _Infeasible:
            if tighten == 0.0:
                raise _diagnose(cmdp, problem, chains, max_evaluations) from None
            failures.append(f"limits tightened by {tighten:g}: infeasible")
            continue
        policy = _mixed_policy(problem, chains, dual)
        multipliers = dual.multipliers * problem.reward_scale / np.where(problem.cost_scales > 0,
                                                                           problem.cost_scales, 1.0)
        seconds += time.perf_counter() - t0
        check = _verify(cmdp, policy, multipliers, warm_start=dual.best)
        if not check.ok:
            failures.append(f"{'limits tightened by ' + format(tighten, 'g') if tighten else 'search'}: "
                            f"{check.reason}")
            continue
        ev = check.evaluation
        return CMDPSolution(
            policy=policy, value=float(ev.value), cost_values=ev.cost_values, multipliers=multipliers,
            occupancy=occupancy_measure(cmdp, policy), lagrangian_values=check.lagrangian_values,
            status="optimal", backend="policy-iteration", build_time=build, solve_time=seconds,
            iterations=chains.counters.evaluations, dual_bound=check.bound, gap=check.bound - float(ev.value),
            method="lagrange")
    raise SolverError("no policy recovered by the Lagrangian method passed verification (exact evaluation "
                      "against every limit, and the dual bound of its multipliers): " + "; ".join(failures),
                      status="verification failed", attempts=tuple(failures))
