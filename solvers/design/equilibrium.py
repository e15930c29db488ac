r"""Correlated and coarse correlated equilibria of n-player normal-form games as programs.

For a game with payoffs :math:`u_i(a)` (array ``payoffs`` of shape ``(n, A_1, ..., A_n)``) the program optimises
a linear objective :math:`c^\top x` over distributions :math:`x` on the action profiles,

.. math::

    \max_x \ (\text{or} \min_x) \;\; \sum_a c(a)\, x(a) \quad\text{s.t.}\quad x \ge 0, \quad \sum_a x(a) = 1,

and, for a **correlated** equilibrium (``kind="correlated"``), no player gains by any swap of a recommendation,

.. math::

    G_i(a_i, a'_i) = \sum_{a_{-i}} x(a_i, a_{-i}) \big(u_i(a'_i, a_{-i}) - u_i(a_i, a_{-i})\big) \le 0
    \qquad \forall i,\ a_i \ne a'_i \qquad (\textstyle\sum_i A_i (A_i - 1) \text{ rows}),

or, for a **coarse** correlated equilibrium (``kind="coarse"``), no player gains by committing to a fixed action,

.. math::

    \sum_a x(a) \big(u_i(a'_i, a_{-i}) - u_i(a)\big) \le 0 \qquad \forall i,\ a'_i \qquad
    (\textstyle\sum_i A_i \text{ rows}).

Both families have :math:`\sum_i (A_i - 1) \prod_j A_j` nonzeros and are built as **one** sparse matrix
(``scipy.sparse``, vectorised with numpy index arrays).  ``benchmarks/bench_equilibria.py`` measures 0.4-0.5 s
for 10^4 profiles (4 players x 10 actions) and 10-14 s for 10^5 (5 x 10: 4.5 million nonzeros; cvxpy's
compilation 3-4 s, HiGHS's dual simplex 6-10 s), as fast as or faster than the same LP built directly for
scipy's ``linprog``; 3 players x 47 actions (14 million nonzeros) take about 40 s, mostly compilation.

Units.  Every incentive row of player *i* is divided by the player's payoff range :math:`R_i = \max u_i - \min u_i`
(1 for a player whose payoffs are constant), and the solver receives the objective multiplied by the power of two
:math:`2^e` that brings the range of its coefficients nearest to 1 (an exact scaling, undone on return).  HiGHS's
tolerances are absolute (and it takes costs above 1e20 for infinite), so this makes the solve the same for payoffs
in any unit.  Objective values, the solution's payoffs and gaps, and the duals of every group, users' own groups
included (``ProgramResult.duals["incentives"]`` has one per row, in the layout of
:attr:`EquilibriumProgram.incentive_rows`), are in the caller's units.

Cleaning and audit.  The solver's distribution is cleaned of round-off: negative entries no smaller than
:data:`ROUNDOFF_TOL` become 0 and a total within :data:`ROUNDOFF_TOL` of 1 is renormalised; anything beyond
raises :class:`~mechsim.errors.SolverError` (never clipped silently).  Interior-point answers (solvers outside
:data:`~mechsim.solvers.design.program.VERTEX_SOLVERS`) additionally drop probabilities below ``clean_tol``
(default ``1e-7``) and renormalise.  The audit is :func:`mechsim.equilibria.ce_gap` (or
:func:`~mechsim.equilibria.cce_gap`) of the cleaned distribution on the game with every player's payoffs divided
by :math:`R_i`: the solution is returned only if that gap is at most ``atol`` (default ``1e-7``), i.e. no player
gains more than ``atol`` times its payoff range.  ``ProgramResult.value`` is the objective evaluated at the
returned (audited) distribution.

Example
-------
>>> from mechsim.equilibria import chicken
>>> from mechsim.solvers.design import equilibrium_program
>>> res = equilibrium_program(chicken(), kind="correlated", objective="welfare").solve()
>>> round(res.value, 9)
10.5
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

import cvxpy as cp
import numpy as np
import scipy.sparse as sp

from mechsim.equilibria import cce_gap, ce_gap, check_payoffs, expected_payoffs
from mechsim.errors import InvalidInstanceError, SolverError
from mechsim.solvers.design.program import AuditOutcome, MechanismProgram, ProgramResult
from mechsim.validation import check_allocation, check_array, check_choice, check_integer

__all__ = ["equilibrium_program", "EquilibriumProgram", "EquilibriumSolution", "KINDS", "ROUNDOFF_TOL",
           "HIGHS_OPTIONS"]

#: The two equilibrium notions.
KINDS = ("correlated", "coarse")

#: Round-off the cleaning step removes from a solver's distribution (HiGHS's primal feasibility tolerance):
#: negative probabilities down to ``-ROUNDOFF_TOL`` and totals within ``ROUNDOFF_TOL`` of 1.
ROUNDOFF_TOL = 1e-7

#: HiGHS options of the program: HiGHS's feasibility tolerance applies to its internally scaled rows, and at the
#: default 1e-7 the normalisation row of a 10^5-profile game came back off by 1.4e-7; at 1e-9 it holds to 1e-15.
HIGHS_OPTIONS = {"primal_feasibility_tolerance": 1e-9}

#: Bytes per nonzero of the incentive matrix while it is built, compiled and solved (numpy temporaries, scipy's,
#: cvxpy's and HiGHS's copies), for the memory guard: measured peak 0.94 GB for 4.5 million nonzeros (5 x 10 CE).
_BYTES_PER_NONZERO = 200


@dataclass(frozen=True, eq=False)
class EquilibriumSolution:
    """An audited solution of :func:`equilibrium_program`.

    Attributes
    ----------
    kind : {"correlated", "coarse"}
    distribution : ndarray of shape (A_1, ..., A_n)
        The distribution over action profiles (non-negative, summing to 1).
    payoffs : ndarray of shape (n,)
        Every player's expected payoff under ``distribution``.
    welfare : float
        Their sum.
    ce_gap, cce_gap : float
        :func:`mechsim.equilibria.ce_gap` and :func:`~mechsim.equilibria.cce_gap` of ``distribution`` (payoff
        units; the one of ``kind`` is within the audit's tolerance of 0).
    """

    kind: str
    distribution: np.ndarray
    payoffs: np.ndarray
    welfare: float
    ce_gap: float
    cce_gap: float


@dataclass(eq=False)
class EquilibriumProgram(MechanismProgram):
    """A :class:`~mechsim.solvers.design.program.MechanismProgram` over distributions on action profiles.

    Besides the program's attributes it keeps the game and the layout of its incentive rows:

    Attributes
    ----------
    game : ndarray of shape (n, A_1, ..., A_n)
        The validated payoffs.
    kind : {"correlated", "coarse"}
    incentive_rows : ndarray of int
        One row per incentive constraint, in the order of ``constraints["incentives"]`` and of
        ``ProgramResult.duals["incentives"]``: ``(player, recommended, deviation)`` for correlated equilibria,
        ``(player, deviation)`` for coarse ones (players with one action have none).
    objective_exponent : int
        The solver minimises or maximises ``2**objective_exponent * objective`` (module docstring, "Units").

    :meth:`solve` returns ``value`` evaluated at the audited distribution, and :meth:`with_objective` keeps
    this class (and scales the new objective for HiGHS as the module docstring says).
    """

    game: np.ndarray | None = None
    kind: str = "correlated"
    incentive_rows: np.ndarray | None = None
    objective_exponent: int = 0

    def with_objective(self, expr, sense: str = "max") -> EquilibriumProgram:
        """A new program with objective ``expr`` (any scalar cvxpy expression of this program's variables)."""
        base = MechanismProgram.with_objective(self, expr, sense)
        state = {f.name: getattr(base, f.name) for f in fields(MechanismProgram)}
        return EquilibriumProgram(**state, game=self.game, kind=self.kind, incentive_rows=self.incentive_rows,
                                  objective_exponent=_expression_scale_exponent(expr, self.variables["x"]))

    def solve(self, solver: str | None = None, *, atol: float = 1e-7, clean_tol: float | None = None,
              **options) -> ProgramResult:
        """Solve, clean, audit (see the module docstring); ``atol`` is in units of each player's payoff range.

        Parameters and errors as :meth:`MechanismProgram.solve`.
        """
        factor = 2.0 ** self.objective_exponent
        # The same constraint objects with the objective scaled exactly: duals come back scaled by the factor.
        inner = MechanismProgram.with_objective(self, factor * self.objective, self.sense) if factor != 1 else self
        result = MechanismProgram.solve(inner, solver, atol=atol, clean_tol=clean_tol, **options)
        duals = {group: d / factor for group, d in result.duals.items()}
        x = self.variables["x"]
        solver_value = x.value
        try:
            x.value = result.solution.distribution.reshape(-1)
            value = float(self.objective.value)
        finally:
            x.value = solver_value
        return replace(result, value=value, duals=duals)


def _scale_exponent(coefficients: np.ndarray) -> int:
    """The exponent e with 2**e times the coefficients' range near 1 (0 for a constant objective)."""
    c = np.asarray(coefficients, dtype=float).ravel()
    if c.size == 0:
        return 0
    with np.errstate(over="ignore"):
        spread = float(np.max(c) - np.min(c))
    if not np.isfinite(spread):                  # the range overflows: scale by the largest magnitude instead
        spread = float(np.max(np.abs(c)))
    if spread <= 0.0:
        return 0
    return -int(np.round(np.log2(spread)))


def _expression_scale_exponent(expr, x) -> int:
    """The objective scale of a user's expression, from its gradient in ``x`` (0 if it has none)."""
    saved = x.value
    try:
        x.value = np.zeros(x.shape)
        grad = expr.grad.get(x) if expr.grad is not None else None
    except (ValueError, TypeError, AttributeError):   # an expression cvxpy cannot differentiate: no scaling
        grad = None
    finally:
        x.value = saved
    if grad is None:
        return 0
    return _scale_exponent(grad.toarray() if sp.issparse(grad) else np.asarray(grad))


def _payoff_ranges(u: np.ndarray) -> np.ndarray:
    """Every player's payoff range ``max u_i - min u_i`` (1 where the payoffs are constant)."""
    n = u.shape[0]
    flat = u.reshape(n, -1)
    with np.errstate(over="ignore"):         # an overflowing range is reported below
        ranges = flat.max(axis=1) - flat.min(axis=1)
    if not np.all(np.isfinite(ranges)):
        i = int(np.flatnonzero(~np.isfinite(ranges))[0])
        raise InvalidInstanceError(f"payoffs: expected payoff differences representable as finite floats, found "
                                   f"player {i}'s payoffs spanning [{flat[i].min():.3g}, {flat[i].max():.3g}]",
                                   argument="payoffs")
    return np.where(ranges > 0, ranges, 1.0)


def _deviation_table(A: int) -> np.ndarray:
    """``(A, A - 1)`` table of the actions other than each action, in increasing order."""
    j = np.arange(A - 1)
    return j[None, :] + (j[None, :] >= np.arange(A)[:, None])


def _incentive_matrix(u: np.ndarray, ranges: np.ndarray, kind: str) -> tuple[sp.csr_array, np.ndarray, np.ndarray]:
    """The incentive rows (divided by the players' ranges), their index table and each row's range."""
    n, shape = u.shape[0], u.shape[1:]
    P = int(np.prod(shape))
    profile_index = np.arange(P).reshape(shape)
    blocks, tables, row_ranges = [], [], []
    index_dtype = np.int32 if float(sum(a - 1 for a in shape)) * P < 2**31 else np.int64
    for i in range(n):
        A = shape[i]
        if A == 1:
            continue
        rest = P // A
        ui = np.moveaxis(u[i], i, 0).reshape(A, rest)
        cols = np.moveaxis(profile_index, i, 0).reshape(A, rest)      # flat profile of (a_i, a_-i)
        dev = _deviation_table(A)
        if kind == "correlated":
            # Row (a, a'): sum over a_-i of x(a, a_-i) (u_i(a', a_-i) - u_i(a, a_-i)); R entries each.
            data = (ui[dev] - ui[:, None, :]) / ranges[i]                 # (A, A - 1, rest)
            indices = np.broadcast_to(cols[:, None, :], data.shape)
            n_rows = A * (A - 1)
            table = np.column_stack([np.full(n_rows, i), np.repeat(np.arange(A), A - 1), dev.ravel()])
        else:
            # Row a': sum over a with a_i != a' of x(a) (u_i(a', a_-i) - u_i(a)); (A - 1) R entries each.
            data = (ui[:, None, :] - ui[dev]) / ranges[i]                 # [a', j, r]: a_i = dev[a', j]
            indices = cols[dev]
            n_rows = A
            table = np.column_stack([np.full(n_rows, i), np.arange(A)])
        indptr = np.arange(n_rows + 1, dtype=index_dtype) * (data.size // n_rows)
        block = sp.csr_array((data.reshape(-1), np.array(indices, dtype=index_dtype).reshape(-1), indptr),
                             shape=(n_rows, P))
        block.eliminate_zeros()          # ties (integer games) give exact zeros: keep HiGHS's matrix lean
        blocks.append(block)
        tables.append(table)
        row_ranges.append(np.full(n_rows, ranges[i]))
    width = 3 if kind == "correlated" else 2
    if not blocks:
        return sp.csr_array((0, P)), np.zeros((0, width), dtype=int), np.zeros(0)
    return sp.vstack(blocks, format="csr"), np.vstack(tables).astype(int), np.concatenate(row_ranges)


def _objective_coefficients(objective, u: np.ndarray) -> np.ndarray:
    """The objective's coefficients ``c(a)``, shape ``(A_1, ..., A_n)``, from the ``objective`` argument."""
    n, shape = u.shape[0], u.shape[1:]
    if isinstance(objective, str):
        check_choice("objective", objective, ("welfare",))
        return u.sum(axis=0)
    if isinstance(objective, tuple) and len(objective) == 2 and isinstance(objective[0], str):
        what, which = objective
        check_choice("objective[0]", what, ("player", "profile"))
        if what == "player":
            i = check_integer("objective[1]", which, minimum=0, maximum=n - 1)
            return u[i].copy()
        if not isinstance(which, (tuple, list, np.ndarray)) or len(which) != n:
            raise InvalidInstanceError(f"objective[1]: expected a profile of {n} actions (one per player), found "
                                       f"{which!r}"[:300], argument="objective")
        profile = tuple(check_integer(f"objective[1][{i}]", a, minimum=0, maximum=shape[i] - 1)
                        for i, a in enumerate(which))
        c = np.zeros(shape)
        c[profile] = 1.0
        return c
    if isinstance(objective, cp.Expression):
        raise InvalidInstanceError("objective: a cvxpy expression refers to the program's variables, which do not "
                                   "exist yet: build the program, then call program.with_objective(expr, sense)",
                                   argument="objective")
    if objective is None or isinstance(objective, (bool, int, float, dict, set)):
        raise InvalidInstanceError(f"objective: expected 'welfare', ('player', i), ('profile', a) or an array of "
                                   f"shape {shape} of objective coefficients, found {objective!r}"[:300],
                                   argument="objective")
    return check_array("objective", objective, shape=shape)


def equilibrium_program(payoffs, kind: str = "correlated", objective="welfare", sense: str = "max"
                        ) -> EquilibriumProgram:
    """The best (or worst) correlated or coarse correlated equilibrium of a normal-form game, as a program.

    Parameters
    ----------
    payoffs : array_like of shape (n, A_1, ..., A_n)
        ``payoffs[i][a]`` is player *i*'s payoff at profile *a* (finite).
    kind : {"correlated", "coarse"}
        Correlated equilibria (swap constraints) or coarse correlated equilibria (fixed-deviation constraints).
    objective : "welfare", ("player", i), ("profile", a) or array_like of shape (A_1, ..., A_n)
        The linear objective :math:`\\sum_a c(a) x(a)`: the sum of the players' expected payoffs, player *i*'s
        expected payoff, the probability of profile ``a`` (a tuple of actions), or any coefficients ``c``.  Any
        other cvxpy expression of ``variables["x"]`` / ``variables["distribution"]`` through
        :meth:`EquilibriumProgram.with_objective`.
    sense : {"max", "min"}

    Returns
    -------
    EquilibriumProgram
        ``variables``: ``"x"`` (the flat distribution, profiles in C order, declared non-negative) and its view
        ``"distribution"`` (shape ``(A_1, ..., A_n)``); ``constraints``: ``"normalisation"`` and
        ``"incentives"`` (one sparse matrix row per constraint, see ``incentive_rows``); ``expressions``:
        ``"welfare"`` and ``"payoffs"`` (shape ``(n,)``).  ``solve().solution`` is an
        :class:`EquilibriumSolution` audited with :func:`mechsim.equilibria.ce_gap` /
        :func:`~mechsim.equilibria.cce_gap`; ``solve().value`` is the objective at its distribution.

    Raises
    ------
    InvalidInstanceError
        Bad input (the message names the argument), or an incentive matrix too large for the memory limit.
    """
    u = check_payoffs(payoffs)
    check_choice("kind", kind, KINDS)
    check_choice("sense", sense, ("max", "min"))
    n, shape = u.shape[0], u.shape[1:]
    P = int(np.prod(shape))
    ranges = _payoff_ranges(u)
    coefficients = _objective_coefficients(objective, u)
    nonzeros = float(sum(a - 1 for a in shape)) * P
    check_allocation("payoffs", _BYTES_PER_NONZERO * nonzeros,
                     f"the {kind} incentive matrix of a game of shape {shape} ({nonzeros:.3g} nonzeros)")
    matrix, table, row_ranges = _incentive_matrix(u, ranges, kind)
    x = cp.Variable(P, name="x", nonneg=True)
    distribution = cp.reshape(x, shape, order="C") if n > 1 else x
    flat_payoffs = u.reshape(n, P)
    welfare_coefficients = flat_payoffs.sum(axis=0)
    expressions = {"welfare": welfare_coefficients @ x, "payoffs": flat_payoffs @ x}
    goal = expressions["welfare"] if isinstance(objective, str) else coefficients.reshape(-1) @ x
    constraints = {"normalisation": [cp.sum(x) == 1],
                   "incentives": [matrix @ x <= 0] if matrix.shape[0] else []}
    unit_game = u / ranges.reshape((n,) + (1,) * n)

    def decode(values, clean_tol):
        raw = values["x"]
        if raw is None:
            raise SolverError("the solver returned no distribution for the equilibrium program", status="no values")
        dist = _cleaned(np.asarray(raw, dtype=float), clean_tol).reshape(shape)
        expected = expected_payoffs(u, dist)
        return EquilibriumSolution(kind, dist, expected, float(np.sum(expected)), ce_gap(u, dist), cce_gap(u, dist))

    def audit(solution, atol):
        gap = (ce_gap if kind == "correlated" else cce_gap)(unit_game, solution.distribution)
        if gap <= atol:
            return AuditOutcome(True, "", gap)
        return AuditOutcome(False, f"the distribution's {kind} equilibrium gap is {gap:.3g} times a player's payoff "
                                   f"range, above atol", gap)

    return EquilibriumProgram(goal, sense, {"x": x, "distribution": distribution}, constraints, expressions, decode,
                              audit, f"the {kind} equilibrium program",
                              dual_scales={"incentives": 1.0 / row_ranges} if row_ranges.size else {},
                              highs_options=dict(HIGHS_OPTIONS), game=u, kind=kind, incentive_rows=table,
                              objective_exponent=_scale_exponent(coefficients))


def _cleaned(raw: np.ndarray, clean_tol: float | None) -> np.ndarray:
    """The solver's distribution without round-off (module docstring); SolverError beyond ``ROUNDOFF_TOL``."""
    lowest = float(np.min(raw))
    if lowest < -ROUNDOFF_TOL:
        raise SolverError(f"the solver's distribution has a probability of {lowest:.3g} (at flat profile "
                          f"{int(np.argmin(raw))}), beyond the round-off tolerance {ROUNDOFF_TOL:g}",
                          status="infeasible answer")
    dist = np.maximum(raw, 0.0)
    total = float(dist.sum())
    if abs(total - 1.0) > ROUNDOFF_TOL:
        raise SolverError(f"the solver's distribution sums to {total:.12g}, beyond the round-off tolerance "
                          f"{ROUNDOFF_TOL:g} of 1", status="infeasible answer")
    if clean_tol is not None:
        dist[dist < clean_tol] = 0.0
        total = float(dist.sum())
        if total <= 0:
            raise SolverError(f"every probability of the solver's distribution is below clean_tol={clean_tol:g}",
                              status="infeasible answer")
    return dist / total
