"""Normal-form games: the exact audits of mechsim.equilibria, the equilibrium programs and support enumeration."""

import numpy as np

from fuzz.entry import COUNT, NONNEG_ARRAY, NUMBER, POSITIVE, SEED, SIZING_ARRAY, Entry
from mechsim import equilibria as E
from mechsim.solvers.design import equilibrium_program
from mechsim.solvers.nash import count_systems, support_enumeration

_U = np.array([[[0.0, 7.0], [2.0, 6.0]], [[0.0, 2.0], [7.0, 6.0]]])      # chicken
_X = np.array([[0.1, 0.3], [0.2, 0.4]])
_SIGMAS = [np.array([0.25, 0.75]), np.array([0.5, 0.5])]
STRATEGIES = ("none", "type", "nan", "inf", "negative", "shape", "ndim", "dtype", "empty")


def _game_and_distribution(fn):
    return lambda: {"payoffs": _U.copy(), "distribution": _X.copy()}, {"payoffs": SIZING_ARRAY,
                                                                        "distribution": NONNEG_ARRAY}


ENTRIES = [
    *(Entry(f"equilibria.{fn.__name__}", fn, *_game_and_distribution(fn))
      for fn in (E.ce_gap, E.cce_gap, E.swap_gains, E.deviation_gains, E.expected_payoffs, E.welfare)),
    Entry("equilibria.check_payoffs", E.check_payoffs, lambda: {"payoffs": _U.copy()}, {"payoffs": SIZING_ARRAY}),
    Entry("equilibria.pure_nash_equilibria", E.pure_nash_equilibria, lambda: {"payoffs": _U.copy()},
          {"payoffs": SIZING_ARRAY}),
    Entry("equilibria.nash_gap", E.nash_gap, lambda: {"payoffs": _U.copy(), "strategies": [s.copy() for s in _SIGMAS]},
          {"payoffs": SIZING_ARRAY, "strategies": STRATEGIES}),
    Entry("equilibria.is_nash", E.is_nash,
          lambda: {"payoffs": _U.copy(), "strategies": [s.copy() for s in _SIGMAS], "atol": 1e-9},
          {"payoffs": SIZING_ARRAY, "strategies": STRATEGIES, "atol": POSITIVE}),
    Entry("equilibria.product_distribution", E.product_distribution,
          lambda: {"strategies": [s.copy() for s in _SIGMAS]}, {"strategies": STRATEGIES}),
    Entry("equilibria.random_game", E.random_game,
          lambda: {"n_actions": np.array([2, 3]), "seed": 0, "low": -1.0, "high": 1.0},
          {"n_actions": ("none", "type", "nan", "inf", "negative", "fraction", "ndim", "dtype", "empty"),
           "seed": SEED, "low": NUMBER, "high": NUMBER}),
    Entry("equilibria.random_game.size", lambda n: E.random_game([n, 2], seed=0), lambda: {"n": 3}, {"n": COUNT}),
    Entry("equilibrium_program", equilibrium_program,
          lambda: {"payoffs": _U.copy(), "kind": "correlated", "objective": "welfare", "sense": "max"},
          {"payoffs": SIZING_ARRAY, "kind": ("none", "type"), "objective": ("none", "type"),
           "sense": ("none", "type")}),
    Entry("equilibrium_program.coefficients", lambda objective: equilibrium_program(_U, "coarse", objective),
          lambda: {"objective": np.array([[1.0, 0.0], [0.0, 2.0]])},
          {"objective": ("none", "type", "nan", "inf", "shape", "ndim", "dtype", "empty")}),
    # a broadcast view has the shape of a huge game without its memory: the guard must refuse it by shape
    Entry("equilibrium_program.size", lambda n: equilibrium_program(np.broadcast_to(0.0, (2, n, 2))),
          lambda: {"n": 2}, {"n": ("huge",)}, names={"n": ("payoffs",)}),
    Entry("support_enumeration", support_enumeration,
          lambda: {"payoffs": _U.copy(), "atol": 1e-9, "max_systems": 1000},
          {"payoffs": SIZING_ARRAY, "atol": POSITIVE, "max_systems": COUNT[:-1]}),
    Entry("support_enumeration.size", lambda n: support_enumeration(np.broadcast_to(0.0, (2, n, 3))),
          lambda: {"n": 2}, {"n": ("huge",)}, names={"n": ("payoffs",)}),
    Entry("count_systems", count_systems, lambda: {"m": 3, "k": 4},
          {"m": ("none", "type", "nan", "inf", "negative", "fraction"),
           "k": ("none", "type", "nan", "inf", "negative", "fraction")}),
]
