r"""``MechanismProgram``: an optimal-mechanism problem as a cvxpy program users can read and extend.

A program is a linear objective over named cvxpy variables, subject to named *groups* of constraints
("obedience", "truthfulness", "participation", "cap", ...), together with named expressions users constrain
or optimise ("revenue", "expected_payment", ...), a *decoder* that turns variable values into the domain's
object (an auction, a hiring mechanism, a signalling scheme, a policy), and an *audit* that checks that
object exactly.  :meth:`MechanismProgram.solve` never returns a solution that fails its audit:

1. solve with the chosen cvxpy solver (HiGHS by default: simplex answers are vertices, which keeps the exact
   structure of optimal mechanisms);
2. decode the values; answers of interior-point solvers (Clarabel, SCS, ...) lie inside optimal faces with
   constraint violations of 1e-9..1e-6, so they are *cleaned* first: the program's structural variables
   (allocations, outcome and signal probabilities) are rounded with ``clean_tol`` (probabilities below it
   dropped and renormalised) and pinned, and the remaining variables (payments) are recovered by re-solving
   the same program with HiGHS, which gives them at a vertex; every constraint group still holds;
3. audit the decoded object at ``atol``; if it fails, raise :class:`~mechsim.errors.SolverError` saying why.

Infeasible programs raise :class:`~mechsim.errors.InfeasibleError` and unbounded or failed solves
:class:`~mechsim.errors.SolverError`, each with cvxpy's status.  Shadow prices are reported per group
(``ProgramResult.duals[name]``): the dual of a budget row is the marginal value of the budget.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import cvxpy as cp
import numpy as np

from mechsim.errors import InfeasibleError, InvalidInstanceError, SolverError
from mechsim.solvers._highs import HighsModel, quiet_highs
from mechsim.validation import check_choice, check_nonnegative

__all__ = ["MechanismProgram", "ProgramResult", "AuditOutcome", "VERTEX_SOLVERS"]

#: Solvers whose LP answers are basic (vertex) solutions: no cleaning is needed before the audit.
VERTEX_SOLVERS = ("HIGHS", "SCIPY", "GLPK", "GLPK_MI", "CBC", "GUROBI", "CPLEX", "MOSEK", "XPRESS", "COPT")


def _solve_with_highs(problem: cp.Problem, options: dict) -> float:
    """Solve ``problem`` with HiGHS through mechsim's adapter; return the compilation seconds.

    cvxpy compiles the problem (``get_problem_data``) and maps the answer back (``unpack_results``); in
    between, :class:`~mechsim.solvers._highs.HighsModel` hands HiGHS the compiled arrays in one ``passModel``
    call, quietly, with the program's options: measured 3x faster than cvxpy's own HiGHS call on the hiring
    LP, which cannot switch presolve off without losing two orders of magnitude.
    """
    start = time.perf_counter()
    data, chain, inverse = problem.get_problem_data(cp.HIGHS)
    compile_time = time.perf_counter() - start
    A = data["A"].tocsc()
    b = np.asarray(data["b"], dtype=float)
    n_eq = int(data["dims"].zero)
    lower = np.concatenate([b[:n_eq], np.full(A.shape[0] - n_eq, -np.inf)])
    col_lower = data.get("lower_bounds")
    col_upper = data.get("upper_bounds")
    n = A.shape[1]
    model = HighsModel(data["c"], A, lower, b, np.full(n, -np.inf) if col_lower is None else col_lower,
                       np.full(n, np.inf) if col_upper is None else col_upper, what="the program")
    try:
        model.set_options(options)
    except SolverError as exc:
        raise InvalidInstanceError(f"options: HiGHS rejected {sorted(options)} ({exc})", "options") from None
    h = model.h
    h.run()
    results = {"solution": h.getSolution(), "basis": h.getBasis(), "info": h.getInfo(),
               "model_status": h.getModelStatus().name, "run_time": h.getRunTime()}
    if results["model_status"] == "kInfeasible":
        results["dual_ray"] = h.getDualRay()
    problem.unpack_results(results, chain, inverse)
    return compile_time


@dataclass(frozen=True)
class AuditOutcome:
    """What a domain audit said about a decoded solution: ``ok`` and a one-line ``reason`` if not."""

    ok: bool
    reason: str = ""
    report: Any = None


@dataclass(frozen=True)
class ProgramResult:
    """The solution of a :class:`MechanismProgram`.

    Attributes
    ----------
    status : str
        cvxpy's status (``"optimal"``, or ``"optimal_inaccurate"`` for answers that still passed the audit).
    value : float
        Optimal objective value.
    solution : object
        The domain object (e.g. :class:`~mechsim.auctions.AuctionMechanism`), audited.
    duals : dict
        Group name -> shadow prices of its constraints (one flat array per group).
    values : dict
        Variable name -> optimal value (as cvxpy returned it, before cleaning).
    audit : object
        The domain audit's report.
    solver : str
    compile_time, solve_time : float
        cvxpy's compilation time and the solver's own time (seconds).
    """

    status: str
    value: float
    solution: Any
    duals: dict
    values: dict
    audit: Any
    solver: str
    compile_time: float
    solve_time: float


def _as_list(constraint) -> list:
    if isinstance(constraint, cp.constraints.constraint.Constraint):
        return [constraint]
    if isinstance(constraint, (list, tuple)) and constraint and all(
            isinstance(c, cp.constraints.constraint.Constraint) for c in constraint):
        return list(constraint)
    raise InvalidInstanceError(f"constraint: expected a cvxpy constraint (e.g. expr <= 1) or a non-empty list of "
                               f"them, found {type(constraint).__name__}", "constraint")


@dataclass(eq=False)
class MechanismProgram:
    """A mechanism-design LP with named variables, constraint groups and expressions.

    Attributes
    ----------
    objective : cvxpy.Expression
        The scalar objective.
    sense : {"max", "min"}
    variables : dict
        Name -> cvxpy variable (or a named view of one: a slice or reshape users can index).
    constraints : dict
        Group name -> list of cvxpy constraints.
    expressions : dict
        Name -> cvxpy expression (revenue, expected payments, ...) to constrain or optimise.
    decode : callable ``(values: dict, clean_tol: float | None) -> solution``
        Builds the domain object from the variables' values (cleaning them when ``clean_tol`` is given).
    audit : callable ``(solution, atol) -> AuditOutcome``
        The domain's exact check of a solution.
    name : str
        What the program is, for messages (``"the auction program"``).
    pin : callable ``(values, clean_tol) -> list of constraints``, optional
        Rounds the structural variables of an interior-point answer and returns constraints fixing them, so
        that :meth:`solve` can recover the other variables at a vertex (see the module docstring).
    parameters : dict, optional
        Name -> cvxpy ``Parameter`` of the data users re-solve for (e.g. a prior): set ``.value`` and call
        :meth:`solve` again; the compiled problem is reused.
    highs_options : dict, optional
        HiGHS options used when the solver is HiGHS (e.g. ``{"presolve": "off"}`` where presolve costs more
        than it saves); options given to :meth:`solve` override them.
    dual_scales : dict, optional
        Group name -> factors applied to its duals, for groups stated in scaled units (so that
        ``duals[name]`` is in the model's units).
    """

    objective: Any
    sense: str
    variables: dict
    constraints: dict
    expressions: dict
    decode: Callable[[Mapping, float | None], Any]
    audit: Callable[[Any, float], AuditOutcome]
    name: str = "the program"
    pin: Callable[[Mapping, float], list] | None = None
    dual_scales: dict = field(default_factory=dict)
    parameters: dict = field(default_factory=dict)
    highs_options: dict = field(default_factory=dict)
    _base_variables: tuple = field(default=(), repr=False)

    def __post_init__(self):
        check_choice("sense", self.sense, ("max", "min"))
        if not isinstance(self.objective, cp.Expression) or not self.objective.is_scalar():
            raise InvalidInstanceError(f"objective: expected a scalar cvxpy expression, found "
                                       f"{type(self.objective).__name__}", "objective")
        if not self._base_variables:
            found = {}
            for group in self.constraints.values():
                for c in group:
                    for v in c.variables():
                        found[v.id] = v
            for v in self.objective.variables():
                found[v.id] = v
            self._base_variables = tuple(found.values())

    # ------------------------------------------------------------------------------------ building
    @property
    def problem(self) -> cp.Problem:
        """The ``cvxpy.Problem`` of the current objective and every constraint group."""
        goal = cp.Maximize(self.objective) if self.sense == "max" else cp.Minimize(self.objective)
        return cp.Problem(goal, [c for group in self.constraints.values() for c in group])

    def _check_known(self, expr, what: str) -> None:
        known = {v.id for v in self._base_variables}
        unknown = [v for v in expr.variables() if v.id not in known]
        if unknown:
            names = ", ".join(sorted(v.name() for v in unknown))
            raise InvalidInstanceError(f"{what}: refers to variable(s) {names} that are not variables of "
                                       f"{self.name} (its variables are {', '.join(sorted(self.variables))})", what)

    def add_constraint(self, constraint, name: str) -> MechanismProgram:
        """Add a constraint (or list of them) to group ``name`` (a new group or an existing one); returns self.

        Every variable the constraint uses must be one of this program's (or its views').
        """
        if not isinstance(name, str) or not name:
            raise InvalidInstanceError(f"name: expected a non-empty group name, found {name!r}", "name")
        items = _as_list(constraint)
        for c in items:
            self._check_known(c, "constraint")
        self.constraints.setdefault(name, []).extend(items)
        return self

    def with_objective(self, expr, sense: str = "max") -> MechanismProgram:
        """A new program with objective ``expr`` (maximised or minimised) and the same constraints."""
        check_choice("sense", sense, ("max", "min"))
        if not isinstance(expr, cp.Expression) or not expr.is_scalar():
            raise InvalidInstanceError(f"expr: expected a scalar cvxpy expression, found {type(expr).__name__}",
                                       "expr")
        self._check_known(expr, "expr")
        return MechanismProgram(expr, sense, dict(self.variables), {k: list(v) for k, v in self.constraints.items()},
                                dict(self.expressions), self.decode, self.audit, self.name, self.pin,
                                dict(self.dual_scales), dict(self.parameters), dict(self.highs_options),
                                self._base_variables)

    # ------------------------------------------------------------------------------------- solving
    def solve(self, solver: str | None = None, *, atol: float = 1e-7, clean_tol: float | None = None,
              **options) -> ProgramResult:
        """Solve, decode, audit; return the audited solution or raise.

        Parameters
        ----------
        solver : str, optional
            Any installed cvxpy solver name; default ``"HIGHS"``.
        atol : float
            Tolerance of the domain audit (utility units).
        clean_tol : float, optional
            Cleaning tolerance for interior-point answers (default ``1e-7`` for solvers not in
            :data:`VERTEX_SOLVERS`, no cleaning for vertex solvers).
        **options
            Passed to ``cvxpy.Problem.solve``.
        """
        atol = check_nonnegative("atol", atol)
        solver = "HIGHS" if solver is None else solver
        if not isinstance(solver, str) or solver.upper() not in cp.installed_solvers():
            installed = ", ".join(cp.installed_solvers())
            raise InvalidInstanceError(f"solver: expected an installed cvxpy solver ({installed}), found {solver!r}",
                                       "solver")
        solver = solver.upper()
        if clean_tol is None and solver not in VERTEX_SOLVERS:
            clean_tol = 1e-7
        if clean_tol is not None:
            clean_tol = check_nonnegative("clean_tol", clean_tol)
        if solver == "HIGHS":
            quiet_highs()  # HiGHS's licence banner goes to file descriptor 1 on its first construction
        problem = self.problem
        start = time.perf_counter()
        fast_compile = None
        try:
            if solver == "HIGHS":
                fast_compile = _solve_with_highs(problem, {**self.highs_options, **options})
            else:
                problem.solve(solver=solver, **options)
        except cp.error.SolverError as exc:
            raise SolverError(f"{solver} failed on {self.name}: {exc}", status="solver error") from None
        except (TypeError, ValueError) as exc:
            raise InvalidInstanceError(f"options: {solver} rejected the options {sorted(options)}: {exc}",
                                       "options") from None
        wall = time.perf_counter() - start
        status = problem.status
        if status in (cp.INFEASIBLE, cp.INFEASIBLE_INACCURATE):
            raise InfeasibleError(f"{self.name} is infeasible (no mechanism meets every constraint group: "
                                  f"{', '.join(self.constraints)})", status=status)
        if status in (cp.UNBOUNDED, cp.UNBOUNDED_INACCURATE):
            raise SolverError(f"{self.name} is unbounded: add bounds (e.g. payment caps) to the program",
                              status=status)
        if status not in (cp.OPTIMAL, cp.OPTIMAL_INACCURATE):
            raise SolverError(f"{solver} did not solve {self.name} to optimality", status=str(status))
        values = {name: None if var.value is None else np.array(var.value, dtype=float)
                  for name, var in self.variables.items()}
        value = float(problem.value)
        extra_time = 0.0
        if clean_tol is not None and self.pin is not None:
            # Round the structure, pin it, and recover the rest at a vertex with HiGHS.
            quiet_highs()
            polish = cp.Problem(problem.objective, problem.constraints + self.pin(values, clean_tol))
            try:
                polish.solve(solver="HIGHS")
            except cp.error.SolverError as exc:
                raise SolverError(f"recovering {self.name}'s cleaned answer failed: {exc}", status="solver error") \
                    from None
            if polish.status != cp.OPTIMAL:
                raise SolverError(f"{solver}'s answer to {self.name}, cleaned at {clean_tol:g}, cannot be completed "
                                  f"to a feasible solution (HiGHS status {polish.status}); try a vertex solver or a "
                                  "smaller clean_tol", status=str(polish.status))
            values = {name: None if var.value is None else np.array(var.value, dtype=float)
                      for name, var in self.variables.items()}
            value = float(polish.value)
            stats = polish.solver_stats
            extra_time = float(stats.solve_time or 0.0) if stats is not None else 0.0
            clean_tol_used, clean_tol = clean_tol, None
        else:
            clean_tol_used = clean_tol
        solution = self.decode(values, clean_tol)
        outcome = self.audit(solution, atol)
        if not outcome.ok:
            cleaned = f" after cleaning at {clean_tol_used:g}" if clean_tol_used is not None else ""
            raise SolverError(f"{solver}'s answer to {self.name}{cleaned} fails the exact audit at atol={atol:g}: "
                              f"{outcome.reason}", status=f"{status} but not audited", audit=outcome.report)
        duals = {}
        for group, items in self.constraints.items():
            parts = [np.atleast_1d(np.asarray(c.dual_value, dtype=float)).ravel() for c in items
                     if c.dual_value is not None]
            duals[group] = np.concatenate(parts) if parts else np.zeros(0)
            if group in self.dual_scales and duals[group].size:
                duals[group] = duals[group] * np.asarray(self.dual_scales[group], dtype=float)
        stats = problem.solver_stats
        solve_time = float(stats.solve_time) if stats is not None and stats.solve_time is not None else wall
        compile_time = float(fast_compile if fast_compile is not None else (problem.compilation_time or 0.0))
        return ProgramResult(str(status), value, solution, duals, values, outcome.report, solver, compile_time,
                             solve_time + extra_time)
