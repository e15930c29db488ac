"""equilibrium_program against an LP written loop by loop over profiles (scipy linprog), textbook facts,
duals, objectives, typed errors and scale invariance."""

from __future__ import annotations

import itertools

import cvxpy as cp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from mechsim.equilibria import (
    TEXTBOOK_GAMES,
    battle_of_the_sexes,
    cce_gap,
    ce_gap,
    chicken,
    prisoners_dilemma,
    product_distribution,
    random_game,
    shapley_game,
    welfare,
)
from mechsim.errors import InvalidInstanceError, SolverError
from mechsim.solvers.design import EquilibriumProgram, equilibrium_program
from mechsim.solvers.design.equilibrium import ROUNDOFF_TOL, _cleaned
from mechsim.solvers.nash import support_enumeration


# ----------------------------------------------------------------------------------------------- the oracle
def loop_incentive_rows(u: np.ndarray, kind: str) -> np.ndarray:
    """The incentive rows (caller's units), one Python loop iteration per (player, action(s), profile)."""
    n, shape = u.shape[0], u.shape[1:]
    profiles = list(itertools.product(*(range(a) for a in shape)))
    column = {a: j for j, a in enumerate(profiles)}
    rows = []
    for i in range(n):
        if shape[i] == 1:          # no deviation: no row
            continue
        for rec in range(shape[i]):
            for dev in range(shape[i]):
                if kind == "correlated" and rec == dev:
                    continue
                if kind == "coarse" and rec > 0:
                    break
                row = np.zeros(len(profiles))
                for a in profiles:
                    if kind == "correlated" and a[i] != rec:
                        continue
                    b = list(a)
                    b[i] = dev
                    row[column[a]] = u[i][tuple(b)] - u[i][a]
                rows.append(row)
    return np.array(rows).reshape(-1, len(profiles))


def loop_lp(u: np.ndarray, kind: str, coefficients: np.ndarray, sense: str) -> float:
    """The optimum of the equilibrium LP, built by loops and solved by scipy's linprog."""
    rows = loop_incentive_rows(u, kind)
    c = coefficients.reshape(-1)
    P = c.size
    res = linprog(-c if sense == "max" else c, A_ub=rows if rows.size else None,
                  b_ub=np.zeros(rows.shape[0]) if rows.size else None, A_eq=np.ones((1, P)), b_eq=[1.0],
                  bounds=(0, None), method="highs")
    assert res.status == 0, res.message
    return float(-res.fun if sense == "max" else res.fun)


def brute_is_ce(u, x, atol=1e-9):
    rows = loop_incentive_rows(u, "correlated")
    return bool(np.all(rows @ x.reshape(-1) <= atol))


@st.composite
def games(draw, max_players=3, max_actions=3):
    n = draw(st.integers(1, max_players))
    shape = tuple(draw(st.lists(st.integers(1, max_actions), min_size=n, max_size=n)))
    rng = np.random.default_rng(draw(st.integers(0, 2**31 - 1)))
    if draw(st.booleans()):
        u = rng.integers(-3, 4, size=(n, *shape)).astype(float)      # ties: degenerate LPs, exact zeros
    else:
        u = rng.normal(size=(n, *shape))
    return u


def objective_choices(u, rng):
    n, shape = u.shape[0], u.shape[1:]
    profile = tuple(int(rng.integers(a)) for a in shape)
    return [("welfare", u.sum(axis=0)), (("player", int(rng.integers(n))), None), (("profile", profile), None),
            (rng.normal(size=shape), None)]


def coefficients_of(u, objective):
    if isinstance(objective, str):
        return u.sum(axis=0)
    if isinstance(objective, tuple) and objective[0] == "player":
        return u[objective[1]]
    if isinstance(objective, tuple):
        c = np.zeros(u.shape[1:])
        c[objective[1]] = 1.0
        return c
    return objective


# ------------------------------------------------------------------------------------ (a) oracle equality
@settings(max_examples=30, deadline=None)
@given(u=games(), kind=st.sampled_from(["correlated", "coarse"]), sense=st.sampled_from(["max", "min"]),
       pick=st.integers(0, 3), seed=st.integers(0, 1000))
def test_program_optimum_equals_loop_built_linprog(u, kind, sense, pick, seed):
    objective = objective_choices(u, np.random.default_rng(seed))[pick][0]
    c = coefficients_of(u, objective)
    res = equilibrium_program(u, kind, objective=objective, sense=sense).solve()
    scale = max(1.0, float(np.max(np.abs(c))))
    assert res.value == pytest.approx(loop_lp(u, kind, c, sense), abs=1e-7 * scale)
    x = res.solution.distribution
    assert x.shape == u.shape[1:]
    assert np.all(x >= 0) and x.sum() == pytest.approx(1.0, abs=1e-12)
    assert res.value == pytest.approx(float(np.sum(c * x)), abs=1e-12 * scale)   # value at the audited x
    spread = float(np.ptp(u)) or 1.0
    gap = ce_gap(u, x) if kind == "correlated" else cce_gap(u, x)
    assert gap <= 1e-7 * spread
    assert res.solution.ce_gap == ce_gap(u, x) and res.solution.cce_gap == cce_gap(u, x)
    assert res.solution.payoffs == pytest.approx([float(np.sum(u[i] * x)) for i in range(u.shape[0])], abs=1e-12)
    assert res.solution.welfare == pytest.approx(welfare(u, x), abs=1e-12)


@settings(max_examples=15, deadline=None)
@given(u=games(max_players=3, max_actions=3), kind=st.sampled_from(["correlated", "coarse"]))
def test_incentive_matrix_equals_loop_rows_and_duals_certify_the_optimum(u, kind):
    program = equilibrium_program(u, kind)
    rows = loop_incentive_rows(u, kind)
    spans = np.ptp(u.reshape(u.shape[0], -1), axis=1)
    spans = np.where(spans > 0, spans, 1.0)
    table = program.incentive_rows
    assert table.shape == (rows.shape[0], 3 if kind == "correlated" else 2)
    if rows.shape[0]:
        matrix = program.constraints["incentives"][0].args[0].args[0].value     # the constant of  M @ x <= 0
        np.testing.assert_allclose(matrix.toarray() * spans[table[:, 0]][:, None], rows, atol=1e-12)
    res = program.solve()
    # Strong duality in the caller's units: max c.x = t with t + G^T lambda >= c, lambda >= 0.
    t = float(res.duals["normalisation"][0])
    lam = res.duals["incentives"]
    assert t == pytest.approx(res.value, abs=1e-7 * max(1.0, abs(res.value)))
    assert np.all(lam >= -1e-9)
    c = u.sum(axis=0).reshape(-1)
    slack = t + (rows.T @ lam if rows.size else 0.0) - c
    assert np.all(slack >= -1e-6 * max(1.0, float(np.max(np.abs(c)))))


# ------------------------------------------------------------------------------------ (b) textbook facts
def test_chicken_best_correlated_equilibrium_is_aumanns():
    res = equilibrium_program(chicken(), "correlated", objective="welfare").solve()
    # By hand: (D, D) gets 0; obedience of "C" recommendations caps the asymmetric mass at 1/4 each.
    assert res.value == pytest.approx(10.5, abs=1e-9)
    np.testing.assert_allclose(res.solution.distribution, [[0.0, 0.25], [0.25, 0.5]], atol=1e-9)
    assert loop_lp(chicken(), "correlated", chicken().sum(axis=0), "max") == pytest.approx(10.5, abs=1e-9)
    # Every Nash equilibrium has less welfare: the pure ones 9, the mixed one (1/3 Dare each) 2 * 14/3.
    nash = support_enumeration(chicken())
    assert sorted(float(p.sum()) for p in nash.payoffs) == pytest.approx([9.0, 9.0, 28 / 3])


@pytest.mark.parametrize("name", sorted(TEXTBOOK_GAMES))
def test_nash_equilibria_are_correlated_and_inside_the_program_bounds(name):
    u = TEXTBOOK_GAMES[name]()
    best = {k: equilibrium_program(u, k, sense="max").solve().value for k in ("correlated", "coarse")}
    worst = {k: equilibrium_program(u, k, sense="min").solve().value for k in ("correlated", "coarse")}
    assert best["coarse"] >= best["correlated"] - 1e-9          # CCE set contains the CE set
    assert worst["coarse"] <= worst["correlated"] + 1e-9
    for x, y in support_enumeration(u).equilibria:
        dist = product_distribution([x, y])
        assert ce_gap(u, dist) <= 1e-9 and brute_is_ce(u, dist)
        assert worst["correlated"] - 1e-9 <= welfare(u, dist) <= best["correlated"] + 1e-9


def test_prisoners_dilemma_has_one_coarse_correlated_equilibrium():
    u = prisoners_dilemma()
    for a in itertools.product(range(2), repeat=2):
        hi = equilibrium_program(u, "coarse", objective=("profile", a), sense="max").solve().value
        lo = equilibrium_program(u, "coarse", objective=("profile", a), sense="min").solve().value
        expected = 1.0 if a == (1, 1) else 0.0
        assert hi == pytest.approx(expected, abs=1e-9) and lo == pytest.approx(expected, abs=1e-9)


def test_shapley_game():
    u = shapley_game()
    best = equilibrium_program(u, "correlated").solve()
    # Welfare is 1 off the diagonal and 0 on it; uniform play off the diagonal is a CE (each recommended row
    # sees its two columns equally often), so the best CE welfare is the largest possible, 1.
    assert best.value == pytest.approx(1.0, abs=1e-9)
    assert brute_is_ce(u, best.solution.distribution)
    off = np.where(np.eye(3) == 0, 1 / 6, 0.0)
    assert ce_gap(u, off) <= 1e-12
    # The unique Nash equilibrium (uniform, welfare 2/3) is a CE, so the worst CE welfare is at most 2/3.
    worst = equilibrium_program(u, "correlated", sense="min").solve()
    assert worst.value <= 2 / 3 + 1e-9
    assert worst.value == pytest.approx(loop_lp(u, "correlated", u.sum(axis=0), "min"), abs=1e-9)


def test_battle_of_the_sexes_public_coin_is_correlated():
    u = battle_of_the_sexes()
    res = equilibrium_program(u, "correlated").solve()
    assert res.value == pytest.approx(3.0, abs=1e-9)
    assert ce_gap(u, np.array([[0.5, 0.0], [0.0, 0.5]])) == 0.0


# --------------------------------------------------------------------------------------- (c) objectives
@pytest.mark.filterwarnings("ignore:The problem has an expression with dimension greater than 2")
def test_player_and_profile_objectives_and_with_objective():
    u = random_game((3, 2, 3), seed=4)
    for i in range(3):
        for sense in ("max", "min"):
            direct = equilibrium_program(u, objective=("player", i), sense=sense).solve()
            assert direct.value == pytest.approx(loop_lp(u, "correlated", u[i], sense), abs=1e-9)
            assert direct.value == pytest.approx(direct.solution.payoffs[i], abs=1e-12)
            program = equilibrium_program(u)
            other = program.with_objective(program.expressions["payoffs"][i], sense)
            assert isinstance(other, EquilibriumProgram)
            assert other.solve().value == pytest.approx(direct.value, abs=1e-9)
    program = equilibrium_program(u, "coarse")
    prob = program.variables["distribution"][1, 0, 2]
    for sense in ("max", "min"):
        res = program.with_objective(prob, sense).solve()
        c = np.zeros(u.shape[1:])
        c[1, 0, 2] = 1.0
        assert res.value == pytest.approx(loop_lp(u, "coarse", c, sense), abs=1e-9)
        assert res.value == pytest.approx(res.solution.distribution[1, 0, 2], abs=1e-15)


def test_users_constraints_compose():
    u = chicken()
    program = equilibrium_program(u)
    program.add_constraint(program.expressions["payoffs"][0] >= 5.0, "fairness")
    res = program.solve()
    assert res.solution.payoffs[0] >= 5.0 - 1e-9
    assert res.value == pytest.approx(10.5, abs=1e-9)        # Aumann's CE already gives each player 5.25


@pytest.mark.parametrize("factor", [1.0, 1e-6, 1e6])
def test_a_users_constraint_dual_is_the_marginal_value_in_the_callers_units(factor):
    u = chicken() * factor

    def best(threshold):
        program = equilibrium_program(u)
        program.add_constraint(program.expressions["payoffs"][0] >= threshold * factor, "floor")
        return program.solve()

    res = best(6.0)
    slope = (best(6.01).value - best(5.99).value) / (0.02 * factor)          # d welfare / d floor
    assert res.duals["floor"][0] == pytest.approx(-slope, rel=1e-6)          # the floor costs welfare


def test_interior_point_answers_are_cleaned_and_audited():
    u = random_game((3, 3), seed=2)
    vertex = equilibrium_program(u).solve()
    inner = equilibrium_program(u).solve("CLARABEL")
    assert inner.value == pytest.approx(vertex.value, abs=1e-6)
    assert ce_gap(u, inner.solution.distribution) <= 1e-7 * np.ptp(u)


def test_cleaning_tolerance_is_never_exceeded_silently():
    raw = np.array([0.5, 0.5 + 0.5 * ROUNDOFF_TOL, -0.5 * ROUNDOFF_TOL])
    np.testing.assert_allclose(_cleaned(raw, None).sum(), 1.0)
    with pytest.raises(SolverError, match="probability"):
        _cleaned(np.array([0.5, 0.5 + 2 * ROUNDOFF_TOL, -2 * ROUNDOFF_TOL]), None)
    with pytest.raises(SolverError, match="sums to"):
        _cleaned(np.array([0.5, 0.5 + 2 * ROUNDOFF_TOL]), None)


def test_degenerate_sizes():
    one_player = np.array([[1.0, 3.0, 3.0, 2.0]])
    res = equilibrium_program(one_player, "correlated", sense="min").solve()
    assert res.value == pytest.approx(3.0)                    # a CE of one player plays only best actions
    single = np.zeros((2, 1, 1)) + 4.0
    res = equilibrium_program(single).solve()
    assert res.value == pytest.approx(8.0) and res.duals["incentives"].size == 0
    flat = np.stack([np.zeros((2, 3)), random_game((2, 3), seed=1)[1]])   # player 0 indifferent
    assert equilibrium_program(flat).solve().value == pytest.approx(loop_lp(flat, "correlated", flat.sum(0), "max"))


def test_ten_thousand_profiles_match_the_dual_certificate():
    u = random_game((10, 10, 10, 10), seed=0)
    res = equilibrium_program(u, "coarse").solve()
    assert cce_gap(u, res.solution.distribution) <= 1e-7
    assert res.duals["normalisation"][0] == pytest.approx(res.value, rel=1e-7)


# ----------------------------------------------------------------------------------------- (d) bad input
@pytest.mark.parametrize("kwargs, argument", [
    ({"payoffs": np.zeros((3, 2, 2))}, "payoffs"),
    ({"payoffs": np.zeros((2, 2))}, "payoffs"),
    ({"payoffs": np.array([[[0.0, np.nan], [1.0, 1.0]], [[0.0, 0.0], [1.0, 1.0]]])}, "payoffs"),
    ({"payoffs": np.array([[[0.0, np.inf], [1.0, 1.0]], [[0.0, 0.0], [1.0, 1.0]]])}, "payoffs"),
    ({"payoffs": np.array([[[-1e308, 1e308]], [[0.0, 0.0]]])}, "payoffs"),
    ({"payoffs": "chicken"}, "payoffs"),
    ({"payoffs": None}, "payoffs"),
    ({"kind": "nash"}, "kind"),
    ({"sense": "maximise"}, "sense"),
    ({"objective": "revenue"}, "objective"),
    ({"objective": ("player", 2)}, "objective[1]"),
    ({"objective": ("player", 0.5)}, "objective[1]"),
    ({"objective": ("profile", (0, 2))}, "objective[1][1]"),
    ({"objective": ("profile", (0,))}, "objective"),
    ({"objective": ("welfare", 1)}, "objective[0]"),
    ({"objective": np.zeros((2, 3))}, "objective"),
    ({"objective": np.array([[0.0, np.nan], [0.0, 0.0]])}, "objective"),
    ({"objective": None}, "objective"),
    ({"objective": 3.0}, "objective"),
    ({"objective": cp.Variable(4)}, "objective"),
])
def test_bad_input_raises_a_typed_error_naming_the_argument(kwargs, argument):
    call = {"payoffs": chicken(), **kwargs}
    with pytest.raises(InvalidInstanceError, match=argument.replace("[", r"\[").replace("]", r"\]")):
        equilibrium_program(**call)


def test_bad_solve_arguments_and_foreign_objectives():
    program = equilibrium_program(chicken())
    with pytest.raises(InvalidInstanceError, match="atol"):
        program.solve(atol=-1.0)
    with pytest.raises(InvalidInstanceError, match="expr"):
        program.with_objective(cp.sum(cp.Variable(4)))


# ------------------------------------------------------------------------------------ (e) scale invariance
@pytest.mark.parametrize("kind", ["correlated", "coarse"])
@pytest.mark.parametrize("objective", ["welfare", ("player", 1)])
def test_scale_invariance(kind, objective):
    u = random_game((3, 4, 3), seed=11, low=-1.0, high=2.0)
    base = equilibrium_program(u, kind, objective=objective).solve()
    for factor in (1e-6, 1e6, 1e25):             # 1e25: beyond the costs HiGHS takes for infinite (1e20)
        res = equilibrium_program(u * factor, kind, objective=objective).solve()
        np.testing.assert_allclose(res.solution.distribution, base.solution.distribution, atol=1e-9)
        assert res.value == pytest.approx(base.value * factor, rel=1e-9)
        # Duals need not be unique (degenerate vertices): check that they certify the optimum in caller's units.
        c = coefficients_of(u * factor, objective).reshape(-1)
        rows = loop_incentive_rows(u * factor, kind)
        t, lam = float(res.duals["normalisation"][0]), res.duals["incentives"]
        assert t == pytest.approx(res.value, rel=1e-7)
        assert np.all(lam >= -1e-9) and np.all(t + rows.T @ lam - c >= -1e-7 * factor)
